"""Fine-tune a shipped model on crops made by the one crop path, for faces off its own dataset (issue 10, part 4).

    python bench/cpu/finetune_aligned.py --task emotion --epochs 6 --out runs/finetune/emotion
    python bench/cpu/finetune_aligned.py --task gender --epochs 4 --out runs/finetune/gender
    python bench/cpu/finetune_aligned.py --task gender --preset seed-gender --epochs 15 --lr 1e-3 \
        --out runs/scratch/gender-96rgb     # from scratch at the preset's input (96x96 RGB), same data and recipe
    python bench/cpu/split_diverse.py       # issue 19: the gender-diverse split, then
    python bench/cpu/finetune_aligned.py --task gender --diverse runs/data/gender-diverse --balance age-gender \
        --epochs 3 --out runs/finetune/gender-diverse

Recipe (chosen on principle, never on domain-dev):
- training images: each image of the training split appears once per epoch, as its dataset crop or (seeded coin
  flip, p=0.5) as the crop ``facesweep.faces`` makes of it (YuNet on the image upscaled when small, landmarks
  warped onto the model's template: the crop live and ``evaluate --detect`` give the model);
- validation (checkpoint choice: the last epoch of the cosine schedule, reported per epoch): the validation split
  in both forms, concatenated;
- ``camera_augment`` (blur, resolution loss, noise, gamma, colour) on top of the usual flip/shift/scale/rotation;
- expression: ``class_weighting="sqrt"`` (FER-2013's class shares, 25% happy and 1.5% disgust, are a fact about
  FER-2013, not about faces); gender: ``gender/`` plus ``gender-extra/`` (CelebA-derived, non-commercial research
  use), each with its own seeded 20% validation split.
- ``--diverse`` (issue 19): also the gender-diverse split made by ``split_diverse.py`` (UTKFace, non-commercial
  research use; val stratified by gender x age band x race code). ``--balance age-gender`` repeats each of its
  training images ``min(cap, largest / size)`` times on average (stochastic rounding, seeded), where size is
  the image's (gender, age band) group's count in the training split and largest the biggest adult group's:
  older women, the rarest adults, are seen about as often as young men. After each epoch the worst (age band or
  race code) x gender recall on its validation split through the crop path is logged and the epoch's weights
  are kept as ``--out``/epoch-N; ``--out`` itself is the epoch with the best worst group (``score_epoch``, the
  hook ``train --select worst-group`` uses). The final choice among epochs and WiSE-FT mixes is ``wise_ft.py
  --diverse``'s, by its written rule, which also weighs gender val and gender-extra val.
Writes the artifact (``--out``), and a log line per epoch to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from facesweep.faces.crop import CropSpec
from facesweep.io import load_dataset
from facesweep.io.dataset import Dataset, Split
from facesweep.model.artifacts import load_model, save_model
from facesweep.model.config import Config
from facesweep.model.presets import PRESETS
from facesweep.model.select import AGE_EDGES, UTKFACE_PATTERN, read_groups, worst_group_scorer
from facesweep.model.train import train_and_evaluate, transfer_variables

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GENDER_SETS = ("gender", "gender-extra")  # the gender recipe's sets, each with its own seeded 20% val split


def mixed(plain: Split, aligned: Split, rng: np.random.Generator) -> Split:
    """Each image once: its plain or its aligned form (p=0.5), matched by path."""
    index = {p: i for i, p in enumerate(aligned.paths or ())}
    pick = rng.random(len(plain)) < 0.5
    images = plain.images.copy()
    for i, path in enumerate(plain.paths or ()):
        j = index.get(path)
        if pick[i] and j is not None:
            images[i] = aligned.images[j]
    return Split(images, plain.labels.copy(), plain.paths)


def both(plain: Split, aligned: Split) -> Split:
    return Split(
        np.concatenate([plain.images, aligned.images]),
        np.concatenate([plain.labels, aligned.labels]),
        None,
    )


def concat(a: Split, b: Split) -> Split:
    return Split(np.concatenate([a.images, b.images]), np.concatenate([a.labels, b.labels]), None)


def balanced(split: Split, cap: float, rng: np.random.Generator) -> Split:
    """Repeat each image ``min(cap, largest / size)`` times on average, size being its (gender, age band) group's
    count and largest the biggest adult group's (stochastic rounding)."""
    attrs, _ = read_groups(split.paths, pattern=UTKFACE_PATTERN, bins={"age": AGE_EDGES})
    keys = np.array([f"{label}|{a.get('age', '')}" for label, a in zip(split.labels, attrs, strict=True)])
    groups, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    largest = max(c for g, c in zip(groups, counts, strict=True) if not g.endswith(f"|0-{AGE_EDGES[1] - 1}"))
    factor = np.minimum(cap, largest / counts)[inverse]
    repeats = np.floor(factor).astype(int) + (rng.random(len(keys)) < factor - np.floor(factor))
    index = np.repeat(np.arange(len(keys)), repeats)
    shown = [f"{g} {c}->{int((inverse == i) @ repeats)}" for i, (g, c) in enumerate(zip(groups, counts, strict=True))]
    print("balance (label|age band: train images -> per epoch): " + ", ".join(shown), flush=True)
    return Split(split.images[index], split.labels[index], [split.paths[i] for i in index])


def gender_training(
    parts: list[tuple[Dataset, Dataset]],
    diverse: tuple[Dataset, Dataset] | None,
    rng: np.random.Generator,
    balance: str = "none",
    cap: float = 3.0,
) -> tuple[Split, Split]:
    """The gender recipe's splits from (plain, aligned) pairs of ``GENDER_SETS`` (and the diverse split): each
    training image once as one of its forms, the diverse ones repeated by ``balance``; val in both forms."""
    train = mixed(parts[0][0].train, parts[0][1].train, rng)
    val = both(parts[0][0].val, parts[0][1].val)
    for plain_x, aligned_x in parts[1:]:
        train = concat(train, mixed(plain_x.train, aligned_x.train, rng))
        val = concat(val, both(plain_x.val, aligned_x.val))
    if diverse is not None:
        extra_train = mixed(diverse[0].train, diverse[1].train, rng)
        if balance == "age-gender":
            extra_train = balanced(extra_train, cap, rng)
        train = concat(train, extra_train)
        val = concat(val, both(diverse[0].val, diverse[1].val))
    return train, val


def finetune_config(config: Config, *, epochs: int, lr: float, seed: int, weighting: str = "none") -> Config:
    """The recipe's training settings on ``config``'s network: camera augmentation, a cosine schedule to the end."""
    return dataclasses.replace(config, epochs=epochs, learning_rate=lr, camera_augment=True, augment=True,
                               class_weighting=weighting, seed=seed, patience=0)  # fmt: skip


def load_pair(task: str, path: Path, spec: CropSpec, size: int, channels: int) -> tuple[Dataset, Dataset]:
    kw = dict(image_size=size, channels=channels, progress=True)
    plain = load_dataset(task, path, **kw)
    aligned = load_dataset(task, path, detect=spec, **kw)
    print(f"{path}: plain {len(plain.train)}/{len(plain.val)}, aligned {len(aligned.train)}/{len(aligned.val)}, "
          f"crop counts {aligned.info.get('faces')}", flush=True)
    return plain, aligned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=("emotion", "gender"), required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--preset", choices=tuple(PRESETS),
                    help="train this preset from scratch (its input size and colour) instead")  # fmt: skip
    ap.add_argument("--diverse", type=Path, help="gender: also this split_diverse.py split (issue 19)")
    ap.add_argument("--balance", choices=("none", "age-gender"), default="none",
                    help="--diverse: repeat its rare (gender, age band) groups' training images")  # fmt: skip
    ap.add_argument("--balance-cap", type=float, default=3.0, help="at most this many repeats on average")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: ../shared/data)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.diverse and args.task != "gender":
        ap.error("--diverse is gender data")
    if args.diverse and "domain-dev" in args.diverse.resolve().parts:
        ap.error("--diverse: domain-dev is for measuring cross-domain accuracy only, never for training")

    base = load_model(f"pretrained:{args.task}")
    config = PRESETS[args.preset] if args.preset else base.config
    if config.task != args.task:
        ap.error(f"preset {args.preset} is a {config.task} network, not {args.task}")
    spec = CropSpec(template=base.crop_template)  # the template is in face fractions: any input size shares it
    rng = np.random.default_rng(args.seed)
    if args.task == "emotion":
        plain, aligned = load_pair("emotion", args.data / "fer2013", spec, config.image_size, config.channels)
        train = mixed(plain.train, aligned.train, rng)
        val = both(plain.val, aligned.val)
        weighting = "sqrt"
    else:
        parts = [load_pair("gender", args.data / name, spec, config.image_size, config.channels)
                 for name in GENDER_SETS]  # fmt: skip
        if args.diverse:
            diverse = load_pair("gender", args.diverse, spec, config.image_size, config.channels)
        train, val = gender_training(parts, diverse if args.diverse else None, rng, args.balance, args.balance_cap)
        plain = parts[0][0]
        weighting = "none"
    data = Dataset(plain.task, plain.classes, {"train": train, "val": val}, f"{plain.source} (plain + aligned)")
    config = finetune_config(config, epochs=args.epochs, lr=args.lr, seed=args.seed, weighting=weighting)
    print(f"train {len(train)}, val {len(val)}; config {json.dumps(config.to_dict())}", flush=True)
    initial = None if args.preset else transfer_variables(base.variables, config)
    t0 = time.time()
    score_epoch = None
    if args.diverse:
        audit_split = diverse[1].val  # through the crop path: what --detect and live give the model
        attrs, _ = read_groups(audit_split.paths, pattern=UTKFACE_PATTERN, bins={"age": AGE_EDGES})

        def keep_epoch(epoch: int, worst: object, variables: dict) -> None:
            model = dataclasses.replace(base, config=config, variables=variables)
            save_model(Path(args.out) / f"epoch-{epoch}", model, extra={"epoch": epoch, "worst": str(worst)})
            print(f"epoch {epoch}: worst group {worst.describe()} (gender-diverse val, crop path); "
                  f"kept {args.out}/epoch-{epoch}", flush=True)  # fmt: skip

        score_epoch = worst_group_scorer(config, plain.classes, audit_split, attrs, on_score=keep_epoch)

    def on_epoch(epoch: int, m: dict) -> None:
        print(f"epoch {epoch}/{args.epochs} train_loss {m['train_loss']:.4f} val_loss {m['val_loss']:.4f} "
              f"val_accuracy {m['val_accuracy']:.4f} val_macro_f1 {m['val_macro_f1']:.4f} "
              f"{m['epoch_seconds']:.0f}s (wall {time.time() - t0:.0f}s)", flush=True)  # fmt: skip

    result = train_and_evaluate(config, data, on_epoch=on_epoch, initial_variables=initial, stop_on_interrupt=True,
                                score_epoch=score_epoch)  # fmt: skip
    model = dataclasses.replace(result.model, tta=base.tta, crop=base.crop)
    out = save_model(args.out, model, result.history, extra={
        "trained_by": "bench/cpu/finetune_aligned.py",
        "init_from": f"preset {args.preset} (from scratch)" if args.preset else f"pretrained:{args.task}",
        "wall_seconds": time.time() - t0, "compile_seconds": result.compile_seconds,
        "interrupted": result.interrupted, "train_images": len(train), "val_images": len(val),
        "data": ["gender", "gender-extra", *(["gender-diverse (UTKFace)"] if args.diverse else [])],
        "balance": args.balance if args.diverse else None, "best_epoch_by_worst_group": result.best_epoch,
    })  # fmt: skip
    print(f"saved {out}", flush=True)


if __name__ == "__main__":
    main()
