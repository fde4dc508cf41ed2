"""The shipped 8-bit graphs beside float32: accuracy on the validation splits, top-1 agreement, and CPU per call.

    python bench/int8.py                      # both shipped models (facesweep/pretrained/*/model.int8.onnx)
    python bench/int8.py --calls 100

The graphs are built by ``facesweep export --int8`` (ONNX Runtime static quantization: QDQ, per-channel int8
weights, uint8 activations, MinMax ranges from 512 images of the task's *training* split; the last layer and the
softmax stay float32), reproducibly, with:

    facesweep export --model pretrained:emotion --int8 --calib ../shared/data/fer2013
    facesweep export --model pretrained:gender --int8 --calib ../shared/data/gender

Accuracy: the validation splits the README quotes (FER-2013 PublicTest; the seeded 20% gender split;
gender-extra's seeded 20% split), plain dataset crops, float32 and int8 both through ONNX Runtime
(``facesweep.model.inference.make_predictor``, the live view's predictors). Speed: one intra-op thread, a batch of
4 faces (one frame of the live view), the two graphs taking turns call by call; CPU time per call
(``process_time``) is the figure that survives a shared machine, and the ratio. Prints the CPU model and load.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SPLITS = {  # task -> [(name, folder under DATA, split: None = the whole folder)]
    "emotion": [("FER-2013 PublicTest", "fer2013/val", None)],
    "gender": [("gender val", "gender", "val"), ("gender-extra val", "gender-extra", "val")],
}


def predict_all(predictor, images: np.ndarray, tta: bool) -> np.ndarray:  # noqa: ANN001
    return np.concatenate([predictor.predict(images[i : i + 256], tta=tta) for i in range(0, len(images), 256)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60, help="timed calls per graph (default 60)")
    args = parser.parse_args()
    from live import cpu_model  # bench/live.py, beside this script: model name, family and model numbers

    from facesweep.io import load_dataset
    from facesweep.model.artifacts import load_model
    from facesweep.model.export import read_metadata
    from facesweep.model.inference import int8_path, make_predictor

    print(f"CPU: {cpu_model()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for task, val_sets in SPLITS.items():
        model = load_model(f"pretrained:{task}")
        path = int8_path(model)
        if path is None:
            raise SystemExit(f"pretrained:{task} ships no int8 graph; build it (see this script's docstring)")
        graphs = {"float32": make_predictor(model, "onnxruntime"), "int8": make_predictor(model, precision="int8")}
        calibration = read_metadata(path.read_bytes())["calibration"]
        print(f"\n{task}: {path.name} {path.stat().st_size / 1e6:.2f} MB, calibrated on {calibration['source']}")
        size, channels = model.config.image_size, model.config.channels
        for name, folder, split in val_sets:
            data = load_dataset(task, DATA / folder, image_size=size, channels=channels, whole=split is None)
            chosen = data.splits["test"] if split is None else data.val
            images, labels = chosen.images, chosen.labels
            for tta in (False, True):
                probs = {g: predict_all(p, images, tta) for g, p in graphs.items()}
                acc = {g: float(np.mean(p.argmax(1) == labels)) for g, p in probs.items()}
                agree = float(np.mean(probs["int8"].argmax(1) == probs["float32"].argmax(1)))
                diff = float(np.abs(probs["int8"] - probs["float32"]).max(1).mean())
                print(f"  {name} ({len(images)}), TTA {'on ' if tta else 'off'}: float32 {acc['float32']:.2%}, "
                      f"int8 {acc['int8']:.2%}; top-1 agreement {agree:.2%}, mean max |dp| {diff:.3f}")  # fmt: skip
        batch = images[:4]
        cpu: dict[str, list[float]] = {g: [] for g in graphs}
        for _ in range(args.calls):
            for g, p in graphs.items():
                c0 = time.process_time()
                p.predict(batch, tta=False)
                cpu[g].append((time.process_time() - c0) * 1e3)
        f32, i8 = np.median(cpu["float32"]), np.median(cpu["int8"])
        print(f"  4 faces a call, 1 thread: float32 {f32:.1f} ms CPU, int8 {i8:.1f} ms CPU (x{f32 / i8:.1f} less)")


if __name__ == "__main__":
    main()
