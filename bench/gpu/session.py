"""The GPU session behind the shipped models (issue 7): one call, three jobs in parallel, hard deadlines.

On the device machine, from the repository root (data packed by pack_data.py, optuna carried as wheels):

    python3 bench/gpu/session.py --budget 420 --out "$OUT"

Jobs (separate processes, so each has its own JAX client; they share the GPU):
  emotion   the release expression model on FER-2013 train (val = PublicTest picks the best epoch): a 1-epoch
            probe measures speed, then the epoch count that fits the budget; then a gender model fine-tuned
            from it (48x48 gray), since 1,480 gender images are few to learn faces from scratch.
  fer       `facesweep study` on FER-2013 (bench/gpu/fer-space.toml) to answer the depth / epochs questions.
  gender    `facesweep study` on the gender set from scratch (bench/gpu/gender-space.toml).
Every job tars its results into OUT as soon as it ends, so a hard stop loses only the jobs still running.
Smoke test on a CPU: `python bench/gpu/session.py --budget 60 --smoke --out /tmp/out --data /tmp/data`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = Path("/tmp/facesweep-work")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # three processes share one GPU

# The release expression architecture: VGG-style, 2 convs per block, 64/128/256/256 channels, one dense layer.
# Kept under 10 MB as float16 (about 2.9M parameters) and about 0.8 GFLOP per face, so the live view keeps up.
EMOTION = dict(
    depth=4,
    width=64,
    growth=2.0,
    max_width=256,
    convs_per_block=2,
    dense=(256,),
    conv_dropout=0.2,
    dropout=0.5,
    batch_size=128,
    learning_rate=2e-3,
    weight_decay=0.01,
    schedule="cosine",
    augment=True,
    label_smoothing=0.1,
    patience=0,
    seed=0,
)
GENDER_FINETUNE = dict(epochs=40, learning_rate=5e-4, batch_size=64, dropout=0.5, label_smoothing=0.0)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pack(out: Path, name: str, paths: list[Path]) -> None:
    with tarfile.open(out / f"{name}.tar.gz", "w:gz") as tar:
        for p in paths:
            if p.exists():
                tar.add(p, arcname=p.relative_to(WORK))
    log(f"packed {name}.tar.gz ({(out / f'{name}.tar.gz').stat().st_size / 1e6:.1f} MB)")


# -- job: emotion release model + gender fine-tune ---------------------------------------------------------------
def job_emotion(args: argparse.Namespace) -> None:
    import numpy as np

    from facesweep.io import load_dataset
    from facesweep.model.artifacts import load_model, save_model
    from facesweep.model.config import config_for_task
    from facesweep.model.train import train_and_evaluate, transfer_variables

    deadline = time.time() + args.budget
    fer = load_dataset("emotion", args.data / "fer2013")
    log(f"FER-2013: {len(fer.train)} train / {len(fer.val)} val")
    overrides = dict(EMOTION)
    if args.smoke:
        overrides.update(width=8, max_width=16, dense=(16,))
    probe = train_and_evaluate(config_for_task("emotion", **overrides, epochs=1), fer)
    epoch_s = probe.history[0]["epoch_seconds"]
    reserve = 0.2 * args.budget  # left for the gender fine-tune and packing
    epochs = int((deadline - time.time() - reserve) / (epoch_s * 1.15))
    epochs = args.epochs or max(3, min(epochs, 120))
    log(f"probe: compile {probe.compile_seconds:.1f}s, epoch {epoch_s:.1f}s -> {epochs} epochs")
    config = config_for_task("emotion", **overrides, epochs=epochs)

    def on_epoch(epoch: int, m: dict) -> None:
        log(
            f"emotion {epoch}/{epochs}: loss {m['train_loss']:.3f} acc {m['train_accuracy']:.3f} | "
            f"val loss {m['val_loss']:.3f} acc {m['val_accuracy']:.4f} f1 {m['val_macro_f1']:.4f} "
            f"({m['epoch_seconds']:.1f}s)"
        )
        if time.time() > deadline - 0.12 * args.budget:
            raise KeyboardInterrupt  # out of time: keep the best epoch so far

    start = time.time()
    result = train_and_evaluate(config, fer, on_epoch=on_epoch, stop_on_interrupt=True)
    best = max(result.history, key=lambda m: m["val_accuracy"])
    log(
        f"emotion done: best epoch {best['epoch']} val_accuracy {best['val_accuracy']:.4f}, "
        f"{time.time() - start:.0f}s, interrupted={result.interrupted}"
    )
    device = _device_name()
    extra = {
        "trained_by": "bench/gpu/session.py",
        "hardware": device,
        "wall_seconds": time.time() - start,
        "compile_seconds": result.compile_seconds,
        "interrupted": result.interrupted,
    }
    save_model(WORK / "emotion", result.model, result.history, extra=extra, dtype="float16")
    pack(args.out, "emotion", [WORK / "emotion"])

    # Gender, fine-tuned from the expression network: same trunk, 48x48 gray input, a fresh 2-way head.
    emotion = load_model(WORK / "emotion")
    gender_data = load_dataset("gender", args.data / "gender", image_size=48, channels=1, seed=0)
    finetune = {**overrides, **GENDER_FINETUNE, **({"epochs": 2} if args.smoke else {})}
    gconfig = config_for_task("gender", **finetune, image_size=48, channels=1)  # patience 0, as EMOTION
    init = transfer_variables(emotion.variables, gconfig)
    gstart = time.time()

    def on_gender_epoch(epoch: int, m: dict) -> None:
        log(f"gender-ft {epoch}: val acc {m['val_accuracy']:.4f} loss {m['val_loss']:.3f}")
        if time.time() > deadline:
            raise KeyboardInterrupt

    gres = train_and_evaluate(
        gconfig, gender_data, on_epoch=on_gender_epoch, stop_on_interrupt=True, initial_variables=init
    )
    gbest = max(gres.history, key=lambda m: m["val_accuracy"]) if gres.history else {}
    log(f"gender fine-tune done: best {gbest}")
    save_model(
        WORK / "gender-finetune",
        gres.model,
        gres.history,
        extra={**extra, "wall_seconds": time.time() - gstart, "init": "emotion release model"},
        dtype="float16",
    )
    np.save(WORK / "gender-finetune" / "val_labels.npy", gender_data.val.labels)
    pack(args.out, "gender-finetune", [WORK / "gender-finetune"])


def _device_name() -> str:
    import jax

    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', d)}"


# -- jobs: studies through the real CLI -------------------------------------------------------------------------
def job_study(args: argparse.Namespace, task: str) -> None:
    name = {"emotion": "fer", "gender": "gender"}[task]
    data = args.data / ("fer2013" if task == "emotion" else "gender")
    workdir = WORK / f"{name}-study"
    workdir.mkdir(parents=True, exist_ok=True)
    space = HERE / (f"{name}-space{'-smoke' if args.smoke else ''}.toml")
    cmd = [
        sys.executable,
        "-m",
        "facesweep",
        "study",
        "--task",
        task,
        "--data",
        str(data),
        "--trials",  # the balanced design: 6 search trials per depth (1-5), then seeds until decided (3, +2, <= 11)
        "30",
        "--max-seeds",
        "11",
        "--timeout",
        str(int(args.budget * 0.8)),
        "--space",
        str(space),
        "--workdir",
        str(workdir),
        "--study-name",
        f"{task}-{data.name}",
        "--keep",
        "2" if task == "gender" else "1",
        "--jobs",
        "2",
    ]
    log("run: " + " ".join(cmd))
    with open(WORK / f"{name}-study.log", "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=args.budget * 0.95)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # the running trial is marked failed; storage stays consistent
            proc.wait(timeout=30)
    log(f"{name} study exit {proc.returncode}")
    keep = [workdir / "facesweep.db", WORK / f"{name}-study.log"]
    if task == "gender":  # only the best model: all kept runs together overflow the 16 MB a returned file may have
        best = workdir / "runs" / f"{task}-{data.name}" / "best"
        if best.exists():
            keep.append(best.resolve())
    pack(args.out, f"{name}-study", keep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", nargs="?", choices=("emotion", "fer", "gender"))
    parser.add_argument("--budget", type=float, default=420.0, help="seconds of wall time for the jobs")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/out")))
    parser.add_argument("--data", type=Path, default=Path("/tmp/data"))
    parser.add_argument("--smoke", action="store_true", help="tiny models, for a CPU dry run")
    parser.add_argument(
        "--epochs",
        type=int,
        help="emotion epochs (default: what fits the budget after a 1-epoch probe; the probe's "
        "first epoch includes GPU autotuning, 2.6 s against 0.7 s later on an H200, so it underestimates)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.job == "emotion":
        return job_emotion(args)
    if args.job in ("fer", "gender"):
        return job_study(args, "emotion" if args.job == "fer" else "gender")

    # Parent: warm the dataset caches once (so the jobs don't all decode the same files), then fan out.
    subprocess.run(
        [sys.executable, "-m", "facesweep", "data", "--data", str(args.data / "fer2013"), "--json"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "facesweep", "data", "--task", "gender", "--data", str(args.data / "gender"), "--json"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    procs = {}
    for job in ("emotion", "fer", "gender"):
        fh = open(WORK / f"job-{job}.log", "w")
        argv = [
            sys.executable,
            __file__,
            job,
            "--budget",
            str(args.budget),
            "--out",
            str(args.out),
            "--data",
            str(args.data),
        ] + (["--smoke"] if args.smoke else [])
        argv += ["--epochs", str(args.epochs)] if args.epochs else []
        procs[job] = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT)
    for job, proc in procs.items():
        proc.wait()
        log(f"job {job} exit {proc.returncode}")
    logs = sorted(WORK.glob("*.log"))
    summary = {p.name: p.read_text()[-4000:] for p in logs}
    (args.out / "session.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
