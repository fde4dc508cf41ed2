"""Pilot: how a synthetic regime separates the depths, and how far its seeds spread.

    python bench/cpu/synthetic_pilot.py --depths 2 3 4 --seeds 3 --epochs 10 --lr 3e-3 --conv-dropout 0
    python bench/cpu/synthetic_pilot.py --difficulty 0.4 --pose 0.4 --conv-dropout 0.1 --lr 2e-3   # the old set

Trains one fixed configuration per depth (the default study's recipe: width 16, dense 64, batch 32, no
augmentation, 2,000 of the built-in set's train images) with seeds 100, 101, ... (``--first-seed``) and prints
per depth the last-epoch validation accuracy of every seed, their mean and SD (points) and the median run time.
What chose the default synthetic set (``facesweep.io.synthetic``: DIFFICULTY, POSE) and the default study's
space (``facesweep.sweep.space.default_space``); numbers in BENCHMARKS.md. Run it on a quiet machine: times are
wall clock.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from facesweep.io.synthetic import DIFFICULTY, POSE, synthetic_dataset
from facesweep.model.config import Config
from facesweep.model.train import train_and_evaluate
from facesweep.sweep.data import limit_train
from facesweep.sweep.options import SYNTHETIC_TRAIN_LIMIT


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--difficulty", type=float, default=DIFFICULTY, help="every nuisance but pose")
    ap.add_argument("--pose", type=float, default=POSE, help="shift, zoom and rotation ranges")
    ap.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--conv-dropout", type=float, default=0.0)
    ap.add_argument("--dense", default="64", help="dense head units ('none' = global average pool -> logits)")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout before the dense layer")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--augment", action="store_true", help="on-device flip/shift/scale/rotation jitter")
    ap.add_argument("--weight-decay", type=float, default=Config().weight_decay)
    ap.add_argument("--n-train", type=int, default=SYNTHETIC_TRAIN_LIMIT)
    ap.add_argument("--dense-lr-ref", type=int, default=Config().dense_lr_ref)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="one JSON object per depth instead of text")
    args = ap.parse_args()
    if args.seeds < 1 or args.epochs < 1:
        ap.error(f"--seeds and --epochs must be >= 1, got {args.seeds} and {args.epochs}")

    data = synthetic_dataset("emotion", n_train=max(7000, args.n_train), n_val=1500, seed=0,
                             difficulty=args.difficulty, pose=args.pose)  # fmt: skip
    data = limit_train(data, args.n_train)
    for depth in args.depths:
        values, seconds = [], []
        for i in range(args.seeds):
            config = Config(task="emotion", depth=depth, epochs=args.epochs, width=16, dense=args.dense,
                            dropout=args.dropout, conv_dropout=args.conv_dropout, learning_rate=args.lr,
                            batch_size=32, augment=args.augment, patience=0, dense_lr_ref=args.dense_lr_ref,
                            seed=args.first_seed + i, label_smoothing=args.label_smoothing,
                            weight_decay=args.weight_decay)  # fmt: skip
            start = time.perf_counter()
            result = train_and_evaluate(config, data)
            seconds.append(time.perf_counter() - start)
            values.append(result.history[-1]["val_accuracy"])
        sd = 100 * statistics.stdev(values) if len(values) > 1 else float("nan")
        row = {"depth": depth, "mean": statistics.fmean(values), "sd_points": sd, "values": values,
               "median_seconds": statistics.median(seconds)}  # fmt: skip
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"depth {depth}: mean {row['mean']:.3f}  SD {sd:.2f} points  values "
                  f"{' '.join(f'{v:.3f}' for v in values)}  median {row['median_seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
