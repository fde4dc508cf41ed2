"""Mix a shipped model with its fine-tune in weight space (WiSE-FT) and pick the mix on validation splits only.

    python bench/cpu/wise_ft.py --task gender --tuned runs/finetune/gender --out runs/wise/gender
    python bench/cpu/wise_ft.py --task emotion --tuned runs/finetune/emotion --out runs/wise/emotion

Robust fine-tuning (Wortsman et al., CVPR 2022): ``(1 - a) * shipped + a * tuned`` often keeps the shipped
model's accuracy on its own data and most of the fine-tune's gain off it. Each ``a`` of ``--alphas`` is scored
(the model's own TTA default) on validation splits, as dataset crops and through the crop path
(``load_dataset(detect=...)``: YuNet, landmarks, the model's template -- what live and ``evaluate --detect`` see):
- gender: ``gender/`` and ``gender-extra/`` (their seeded 20% validation splits, as ``facesweep evaluate``);
- emotion: FER-2013 PublicTest.

The rule, fixed before any score was seen: keep the ``a`` with the best accuracy through the crop path on the
target set (gender: gender-extra val; emotion: PublicTest), among those that lose at most ``--max-loss`` points
(0.5, issue 10) against ``a = 0`` on every in-dataset split in both forms (gender: gender val; emotion:
PublicTest); ties go to the smaller ``a``. domain-dev is never read here. Writes the chosen mix as a model
artifact to ``--out`` and every score to ``--out``/wise_ft.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from facesweep.errors import FacesweepError
from facesweep.faces.crop import CropSpec
from facesweep.io import load_dataset
from facesweep.model.artifacts import load_model, resolve_ref, save_model
from facesweep.model.evaluate import evaluate
from facesweep.model.train import interpolate_variables

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SETS = {  # task -> (in-dataset sets that must not lose, target set)
    "gender": (("gender",), "gender-extra"),
    "emotion": (("fer2013",), "fer2013"),
}


def extra_of(ref: str) -> dict:
    """The ``extra`` (provenance) a model's config.json records."""
    return json.loads((resolve_ref(ref) / "config.json").read_text()).get("extra", {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=tuple(SETS), required=True)
    ap.add_argument("--tuned", required=True, help="the fine-tuned artifact (same network as the shipped one)")
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0])
    ap.add_argument("--max-loss", type=float, default=0.5, help="points an in-dataset split may lose (default 0.5)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not all(0.0 <= a <= 1.0 for a in args.alphas):
        ap.error("--alphas must lie within 0..1")

    base = load_model(f"pretrained:{args.task}")
    tuned = load_model(args.tuned)
    interpolate_variables(base.variables, tuned.variables, 0.0)  # a different network fails here, before the data
    keep, target = SETS[args.task]
    spec = CropSpec(template=base.crop_template)
    kw = dict(image_size=base.config.image_size, channels=base.config.channels)
    splits = {}
    for name in dict.fromkeys((*keep, target)):
        splits[(name, "crops")] = load_dataset(args.task, DATA / name, **kw).val
        splits[(name, "detect")] = load_dataset(args.task, DATA / name, detect=spec, **kw).val
    alphas = sorted({0.0, *args.alphas})
    scores: dict[float, dict[str, float]] = {}
    for a in alphas:
        model = dataclasses.replace(base, variables=interpolate_variables(base.variables, tuned.variables, a))
        t0 = time.time()
        scores[a] = {f"{n}/{form}": evaluate(model, split).accuracy for (n, form), split in splits.items()}
        print(f"alpha {a:.2f}: " + "  ".join(f"{k} {100 * v:.2f}" for k, v in scores[a].items())
              + f"  ({time.time() - t0:.0f}s)", flush=True)  # fmt: skip

    def allowed(a: float) -> bool:
        return all(100 * (scores[0.0][k] - scores[a][k]) <= args.max_loss + 1e-9
                   for k in scores[a] if k.split("/")[0] in keep)  # fmt: skip

    chosen = max((a for a in alphas if allowed(a)), key=lambda a: (scores[a][f"{target}/detect"], -a))
    print(f"chosen alpha {chosen:.2f} (target {target}/detect {100 * scores[chosen][f'{target}/detect']:.2f}, "
          f"shipped {100 * scores[0.0][f'{target}/detect']:.2f})", flush=True)  # fmt: skip
    model = dataclasses.replace(base, variables=interpolate_variables(base.variables, tuned.variables, chosen))
    out = save_model(args.out, model, json.loads((Path(args.tuned) / "metrics.json").read_text()), extra={
        "trained_by": "bench/cpu/wise_ft.py", "alpha": chosen,
        "base": f"pretrained:{args.task}", "base_extra": extra_of(f"pretrained:{args.task}"),
        "tuned": str(args.tuned), "tuned_extra": extra_of(args.tuned),
    })  # fmt: skip
    report = {"task": args.task, "tuned": args.tuned, "rule": {"target": f"{target}/detect", "keep": list(keep),
              "max_loss_points": args.max_loss}, "chosen": chosen,
              "scores": {str(a): s for a, s in scores.items()},
              "n": {f"{n}/{form}": len(s) for (n, form), s in splits.items()}}  # fmt: skip
    (out / "wise_ft.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {out}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except FacesweepError as exc:
        raise SystemExit(f"error: {exc}") from None
