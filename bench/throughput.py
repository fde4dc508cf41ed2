"""Training throughput of facesweep's engine against an equivalent PyTorch model, in one run; plus the single-face
predict latency of expression model 1 and its first-step compile time.

    pip install torch==2.13.0          # the bench extra; a CPU wheel is enough
    python bench/throughput.py                     # both models, augmentation off in both frameworks
    python bench/throughput.py --augment           # facesweep with its on-device augmentation (PyTorch has none)
    python bench/throughput.py --models 1 --windows 7 --window-steps 10
    python bench/throughput.py --models 1 --torch-device cuda   # a GPU machine: facesweep and PyTorch on the GPU

Models: "model-1" is the report's expression model 1 (conv blocks 64/128/256/512, dense 256 and 512,
48x48x1, batch 64: ``seed-emotion-1``); "2-block" is ``seed-emotion-3`` (blocks 64/128, dense 256). Both
frameworks get the same random uint8 images and labels, the same layers (3x3 conv without bias, batch norm,
ReLU, 2x2 max-pool, dropout; dense + ReLU + dropout), AdamW, softmax cross-entropy, and the uint8 -> float
scaling inside the timed step. facesweep runs its real jitted ``train_step`` (``facesweep.model.train``);
PyTorch runs eagerly, channels_last, ``torch.set_num_threads(--threads)``.

Each framework runs in its own fresh process (one per framework per round, alternating for ``--rounds``
rounds), so neither framework's worker threads disturb the other and load spikes on a shared machine hit all
alike. Reported: images/s as the median over all timed windows (``--window-steps`` steps each, after
``--warmup`` steps), the ratio facesweep / PyTorch of the medians, and facesweep's first-step compile time.

"pytorch-mallopt" is PyTorch with the same glibc malloc tuning that ``train_and_evaluate`` applies
(``facesweep/model/runtime.py``); it speeds PyTorch up as well, so it is the fairer, stronger baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from facesweep.model import train as engine  # noqa: E402
from facesweep.model.artifacts import TrainedModel  # noqa: E402
from facesweep.model.presets import get_preset  # noqa: E402
from facesweep.model.runtime import tune_host_allocator  # noqa: E402

MODELS = {"1": ("model-1", "seed-emotion-1"), "2": ("2-block", "seed-emotion-3")}


# -- facesweep ----------------------------------------------------------------------------------------------
class FacesweepRunner:
    def __init__(self, config, images: np.ndarray, labels: np.ndarray) -> None:
        self.config = config
        self.images, self.labels = images, labels
        self.state = engine.create_train_state(config, jax.random.key(0), steps_per_epoch=1000)
        self.rng = jax.random.key(1)
        self.i = 0

    def batch(self) -> dict:
        b = self.config.batch_size
        start = (self.i * b) % (len(self.labels) - b)
        self.i += 1
        return {"image": self.images[start : start + b], "label": self.labels[start : start + b]}

    def compile_seconds(self) -> float:
        start = time.perf_counter()
        engine._train_step.lower(self.state, self.batch(), self.rng).compile()
        return time.perf_counter() - start

    def steps(self, n: int) -> None:
        metrics = None
        for _ in range(n):
            self.state, metrics = engine._train_step(self.state, self.batch(), self.rng)
        jax.block_until_ready(metrics)


# -- PyTorch ------------------------------------------------------------------------------------------------
class TorchRunner:
    def __init__(self, config, images: np.ndarray, labels: np.ndarray, threads: int, device: str = "cpu") -> None:
        import torch
        from torch import nn

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        torch.backends.cudnn.benchmark = True  # on a GPU: autotuned kernels, as XLA autotunes its own
        self.torch = torch
        layers: list = []
        channels = config.channels
        side = config.image_size
        for width in config.block_widths():
            for _ in range(config.convs_per_block):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width, momentum=0.1),
                           nn.ReLU(inplace=True)]  # fmt: skip
                channels = width
            layers += [nn.MaxPool2d(2)]
            if config.conv_dropout:
                layers += [nn.Dropout(config.conv_dropout)]
            side //= 2
        layers += [nn.Flatten()]
        features = channels * side * side
        for units in config.dense:
            if config.dropout:
                layers += [nn.Dropout(config.dropout)]
            layers += [nn.Linear(features, units), nn.ReLU(inplace=True)]
            features = units
        if config.dropout and config.dense:
            layers += [nn.Dropout(config.dropout)]
        layers += [nn.Linear(features, config.num_classes)]
        self.model = nn.Sequential(*layers).to(device, memory_format=torch.channels_last)
        self.model.train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.loss = nn.CrossEntropyLoss()
        # NHWC uint8 -> NCHW view in channels_last memory: the same bytes the JAX side gets.
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).to(device)  # on a GPU the data lives there
        self.labels = torch.from_numpy(labels.astype(np.int64)).to(device)
        self.batch_size = config.batch_size
        self.i = 0

    def steps(self, n: int) -> None:
        torch = self.torch
        b = self.batch_size
        for _ in range(n):
            start = (self.i * b) % (len(self.labels) - b)
            self.i += 1
            x = self.images[start : start + b].float().div_(255.0).contiguous(memory_format=torch.channels_last)
            y = self.labels[start : start + b]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.model(x), y)
            loss.backward()
            self.opt.step()
        float(loss.detach())


# -- measurement --------------------------------------------------------------------------------------------
def worker(framework: str, key: str, args: argparse.Namespace) -> dict:
    """One framework on one model in this (fresh) process: warm-up, then ``--windows`` timed windows."""
    if framework == "pytorch-mallopt" or framework == "facesweep":
        tune_host_allocator()  # what train_and_evaluate does; PyTorch gets it too in "pytorch-mallopt"
    name, preset = MODELS[key]
    config = dataclasses.replace(get_preset(preset), augment=args.augment)
    if framework.startswith("predict"):
        return {"predict_1_face": predict_latency_ms(config)}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2048, *config.input_shape), dtype=np.uint8)
    labels = rng.integers(0, config.num_classes, 2048).astype(np.int32)
    out: dict = {}
    if framework == "facesweep":
        runner = FacesweepRunner(config, images, labels)
        out["compile_s"] = runner.compile_seconds()
    else:
        runner = TorchRunner(config, images, labels, args.threads, args.torch_device)
    runner.steps(args.warmup)
    rates = []
    for _ in range(args.windows):
        start = time.perf_counter()
        runner.steps(args.window_steps)
        rates.append(args.window_steps * config.batch_size / (time.perf_counter() - start))
    out["rates"] = rates
    return out


def predict_latency_ms(config, repeats: int = 300) -> dict[str, float]:
    from facesweep.model.cnn import init_variables, model_for

    model = TrainedModel(config, tuple(str(i) for i in range(config.num_classes)),
                         init_variables(model_for(config), jax.random.key(0)))  # fmt: skip
    face = np.random.default_rng(0).integers(0, 256, (1, *config.input_shape), dtype=np.uint8)
    start = time.perf_counter()
    model.predict(face)
    first = time.perf_counter() - start
    for _ in range(20):
        model.predict(face)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(face)
        times.append(time.perf_counter() - start)
    return {"median_ms": 1e3 * statistics.median(times), "p90_ms": 1e3 * float(np.percentile(times, 90)),
            "first_call_s": first}  # fmt: skip


def run_worker(framework: str, key: str, argv: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--worker", f"{framework}:{key}", *argv]
    # Plain "pytorch" must not inherit the malloc tuning that importing facesweep.model.train applies; nor does
    # "predict", which measures latency as the live view sees it (it never imports the training engine).
    plain = framework in ("pytorch", "predict")
    env = {**os.environ, "FACESWEEP_NO_MALLOPT": "1"} if plain else None
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"worker {framework}:{key} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="1,2", help="which models: 1 (model-1), 2 (2-block); default 1,2")
    parser.add_argument("--augment", action="store_true", help="facesweep with on-device augmentation")
    parser.add_argument("--frameworks", default="facesweep,pytorch,pytorch-mallopt",
                        help="subset of facesweep, pytorch, pytorch-mallopt (PyTorch with the same malloc tuning)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--torch-device", default="cpu", help="PyTorch device: cpu (default) or cuda (a GPU run)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of one process per framework")
    parser.add_argument("--warmup", type=int, default=4, help="steps before timing, per process (default 4)")
    parser.add_argument("--windows", type=int, default=3, help="timed windows per process (default 3)")
    parser.add_argument("--window-steps", type=int, default=6, help="steps per window (default 6)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        framework, key = args.worker.split(":")
        print(json.dumps(worker(framework, key, args)))
        return

    argv = ["--threads", str(args.threads), "--torch-device", args.torch_device, "--warmup", str(args.warmup),
            "--windows", str(args.windows), "--window-steps", str(args.window_steps)]  # fmt: skip
    argv += ["--augment"] if args.augment else []
    frameworks = args.frameworks.split(",")
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, jax {jax.__version__} on {jax.devices()[0].platform}",
        "augment": args.augment,
        "models": {},
    }
    for key in args.models.split(","):
        name, preset = MODELS[key]
        rates: dict[str, list[float]] = {fw: [] for fw in frameworks}
        entry: dict = {"preset": preset, "batch": get_preset(preset).batch_size}
        for _ in range(args.rounds):
            # One fresh process per framework per round, alternating, so load spikes from other users of a
            # shared machine hit every framework alike and no framework's threads disturb another's.
            for fw in frameworks:
                out = run_worker(fw, key, argv)
                rates[fw] += out["rates"]
                if "compile_s" in out:
                    entry.setdefault("compile_s", []).append(round(out["compile_s"], 2))
        if key == "1":
            entry["predict_1_face"] = run_worker("predict", key, argv)["predict_1_face"]
            entry["predict_1_face_tuned"] = run_worker("predict-tuned", key, argv)["predict_1_face"]
        for fw, values in rates.items():
            entry[fw] = {"median_img_s": round(statistics.median(values), 1), "windows": [round(v) for v in values]}
        for fw in frameworks:
            if fw != "facesweep" and "facesweep" in entry:
                entry[f"ratio_vs_{fw}"] = round(entry["facesweep"]["median_img_s"] / entry[fw]["median_img_s"], 2)
        results["models"][name] = entry
        if not args.json:
            parts = [f"{fw} {entry[fw]['median_img_s']:.1f} img/s" for fw in frameworks]
            ratios = {k.removeprefix("ratio_vs_"): v for k, v in entry.items() if k.startswith("ratio_vs_")}
            parts += [f"ratio vs {fw} {v:.2f}x" for fw, v in ratios.items()]
            if "compile_s" in entry:
                parts.append(f"first-step compile {statistics.median(entry['compile_s']):.2f}s")
            if "predict_1_face" in entry:
                p = entry["predict_1_face"]
                q = entry["predict_1_face_tuned"]
                parts.append(f"predict(1 face) median {p['median_ms']:.2f} ms, p90 {p['p90_ms']:.2f} ms "
                             f"(in a malloc-tuned training process: {q['median_ms']:.2f} ms)")  # fmt: skip
            print(f"{name}: " + ", ".join(parts), flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
