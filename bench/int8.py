"""What 8-bit inference would buy the live view: ONNX Runtime static quantization of the shipped models, its
speed beside the float32 graph, and its accuracy on the validation splits. An experiment: nothing here ships.

    python bench/int8.py                      # both shipped models; calibration on 512 training images each
    python bench/int8.py --calls 100 --calib 256

Calibration (per-channel int8 weights, uint8 activations, QDQ) uses the first ``--calib`` images of each task's
*training* data (``fer2013/train``; the seeded gender training split); accuracy is measured on the validation
splits the README quotes (FER-2013 PublicTest, the seeded 20% gender split, gender-extra's seeded 20% split),
plain dataset crops, through ONNX Runtime for both graphs. Speed: one intra-op thread, a batch of 4 faces (one
frame of the live view), the two graphs taking turns call by call; CPU time per call (``process_time``) is the
figure that survives a shared machine, and the ratio. Prints the CPU model.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return "?"


def session(path: str):  # noqa: ANN201
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def accuracy(sess, images: np.ndarray, labels: np.ndarray, tta: bool) -> float:  # noqa: ANN001
    from facesweep.model.inference import from_output, to_blob

    right = 0
    for start in range(0, len(images), 256):
        chunk = images[start : start + 256]
        probs = from_output(sess.run(None, {"images": to_blob(chunk, tta)})[0], len(chunk), tta)
        right += int((probs.argmax(1) == labels[start : start + 256]).sum())
    return right / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calib", type=int, default=512, help="training images for calibration (default 512)")
    parser.add_argument("--calls", type=int, default=60, help="timed calls per graph (default 60)")
    args = parser.parse_args()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from facesweep.io import load_dataset
    from facesweep.model.artifacts import load_model
    from facesweep.model.export import save_onnx
    from facesweep.model.inference import to_blob

    print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="facesweep-int8-"))
    for task, calib_set, val_sets in (
        ("emotion", "fer2013", [("FER-2013 PublicTest", "fer2013/val", None)]),
        ("gender", "gender", [("gender val", "gender", "val"), ("gender-extra val", "gender-extra", "val")]),
    ):
        model = load_model(f"pretrained:{task}")
        size, channels = model.config.image_size, model.config.channels
        train = load_dataset(task, DATA / calib_set, image_size=size, channels=channels).train
        pick = np.random.default_rng(0).permutation(len(train.images))[: args.calib]
        calib = train.images[np.sort(pick)]
        src, dst = str(tmp / f"{task}.onnx"), str(tmp / f"{task}.int8.onnx")
        save_onnx(model, src)

        class Reader(CalibrationDataReader):
            def __init__(self, images: np.ndarray) -> None:
                self.batches = iter([{"images": to_blob(images[i : i + 32], False)} for i in range(0, len(images), 32)])

            def get_next(self):  # noqa: ANN202
                return next(self.batches, None)

        t0 = time.perf_counter()
        quantize_static(src, dst, Reader(calib), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)  # fmt: skip
        quant_s = time.perf_counter() - t0
        graphs = {"float32": session(src), "int8": session(dst)}
        print(f"\n{task}: calibrated on {len(calib)} {calib_set} training images in {quant_s:.1f} s")
        for name, folder, split in val_sets:
            if split is None:
                data = load_dataset(task, DATA / folder, image_size=size, channels=channels, whole=True)
                images, labels = data.splits["test"].images, data.splits["test"].labels
            else:
                data = load_dataset(task, DATA / folder, image_size=size, channels=channels)
                images, labels = data.val.images, data.val.labels
            for tta in (False, True):
                accs = {g: accuracy(s, images, labels, tta) for g, s in graphs.items()}
                print(f"  {name} ({len(images)}), TTA {'on ' if tta else 'off'}: float32 {accs['float32']:.2%}, "
                      f"int8 {accs['int8']:.2%}")  # fmt: skip
        batch = to_blob(calib[:4], False)
        cpu: dict[str, list[float]] = {g: [] for g in graphs}
        for _ in range(args.calls):
            for g, s in graphs.items():
                c0 = time.process_time()
                s.run(None, {"images": batch})
                cpu[g].append((time.process_time() - c0) * 1e3)
        f32, i8 = np.median(cpu["float32"]), np.median(cpu["int8"])
        print(f"  4 faces a call, 1 thread: float32 {f32:.1f} ms CPU, int8 {i8:.1f} ms CPU (x{f32 / i8:.1f} faster)")


if __name__ == "__main__":
    main()
