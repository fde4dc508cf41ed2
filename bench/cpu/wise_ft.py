"""Mix a shipped model with its fine-tune in weight space (WiSE-FT) and pick the mix on validation splits only.

    python bench/cpu/wise_ft.py --task gender --tuned runs/finetune/gender --out runs/wise/gender
    python bench/cpu/wise_ft.py --task emotion --tuned runs/finetune/emotion --out runs/wise/emotion
    python bench/cpu/wise_ft.py --task gender --diverse runs/data/gender-diverse \
        --tuned runs/finetune/gender-diverse --out runs/wise/gender-diverse            # issue 19's rule

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

With ``--diverse`` (gender, issue 19; the rule written down before any fine-tune on gender-diverse was scored):
every ``a`` of every ``--tuned`` model (several: e.g. a run's epoch checkpoints) is a candidate, and also
scored on the gender-diverse validation split (``split_diverse.py``) through the crop path. A candidate is
allowed when gender val and gender-extra val, in both forms, lose at most ``--max-loss`` points against the
shipped model (``a = 0``); among those, keep the one with the highest worst-group recall on gender-diverse val
through the crop path: the lowest recall of either class within any age band from 18 up (18-29, 30-44, 45-59,
60+) or any race code, groups of 10 or more images (``facesweep.model.select.worst_group``); ties go to the
higher mean of gender val and gender-extra val through the crop path, then the smaller ``a``.
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
from facesweep.model.select import UTKFACE_PATTERN, read_groups, worst_group
from facesweep.model.train import interpolate_variables

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ADULT_AGE_EDGES = (18, 30, 45, 60, 120)  # --diverse: the bands the worst group is taken over (13-17 left out)
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
    ap.add_argument("--tuned", required=True, nargs="+",
                    help="the fine-tuned artifact(s) (same network as the shipped one)")  # fmt: skip
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0])
    ap.add_argument("--max-loss", type=float, default=0.5, help="points an in-dataset split may lose (default 0.5)")
    ap.add_argument("--diverse", type=Path, help="gender: the split_diverse.py split; issue 19's worst-group rule")
    ap.add_argument("--also", type=Path, nargs="+", default=[],
                    help="wise_ft.json of earlier runs (same splits): their candidates join the choice")  # fmt: skip
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not all(0.0 <= a <= 1.0 for a in args.alphas):
        ap.error("--alphas must lie within 0..1")
    if args.diverse and args.task != "gender":
        ap.error("--diverse is gender data")

    base = load_model(f"pretrained:{args.task}")
    tuned = {ref: load_model(ref) for ref in args.tuned}
    for model in tuned.values():  # a different network fails here, before the data
        interpolate_variables(base.variables, model.variables, 0.0)
    keep, target = SETS[args.task]
    if args.diverse:
        keep = target = ("gender", "gender-extra")
    spec = CropSpec(template=base.crop_template)
    kw = dict(image_size=base.config.image_size, channels=base.config.channels)
    splits = {}
    for name in dict.fromkeys((*keep, *([target] if isinstance(target, str) else []))):
        splits[(name, "crops")] = load_dataset(args.task, DATA / name, **kw).val
        splits[(name, "detect")] = load_dataset(args.task, DATA / name, detect=spec, **kw).val
    if args.diverse:
        diverse = load_dataset(args.task, args.diverse, detect=spec, **kw).val
        attrs, _ = read_groups(diverse.paths, pattern=UTKFACE_PATTERN, bins={"age": ADULT_AGE_EDGES})
    alphas = sorted({0.0, *args.alphas})
    candidates = [("shipped", 0.0)] + [(ref, a) for ref in args.tuned for a in alphas if a > 0]
    scores: dict[str, dict] = {}
    sizes = {f"{n}/{form}": len(s) for (n, form), s in splits.items()}
    if args.diverse:
        sizes["gender-diverse/detect"] = len(diverse)
    for earlier in args.also:  # e.g. an earlier epoch's mixes, scored while the run went on
        report = json.loads(earlier.read_text())
        if report["rule"]["keep"] != list(keep) or report["n"] != sizes:
            raise FacesweepError(f"{earlier}: scored under another rule or on other splits")
        for key, values in report["scores"].items():
            if key == "shipped":
                scores.setdefault(key, values)  # the same weights on the same splits: not scored again
            elif key not in scores:
                ref, _, a = key.rpartition("@")
                candidates.append((ref, float(a)))
                scores[key] = values
                tuned.setdefault(ref, None)
    for ref, a in candidates:
        key = "shipped" if ref == "shipped" else f"{ref}@{a:.2f}"
        if key in scores:
            continue
        if ref == "shipped":
            variables = base.variables
        else:
            variables = interpolate_variables(base.variables, tuned[ref].variables, a)
        model = dataclasses.replace(base, variables=variables)
        t0 = time.time()
        scores[key] = {f"{n}/{form}": evaluate(model, split).accuracy for (n, form), split in splits.items()}
        if args.diverse:
            result = evaluate(model, diverse)
            worst = worst_group(diverse.labels, result.predicted, attrs, base.classes)
            scores[key].update({"gender-diverse/detect": result.accuracy, "worst_group": worst.score,
                                "worst_group_is": worst.describe()})  # fmt: skip
        print(f"{key}: " + "  ".join(f"{k} {100 * v:.2f}" if isinstance(v, float) else f"({v})"
                                     for k, v in scores[key].items())
              + f"  ({time.time() - t0:.0f}s)", flush=True)  # fmt: skip
    shipped = scores["shipped"]

    def allowed(key: str) -> bool:
        return all(100 * (shipped[k] - scores[key][k]) <= args.max_loss + 1e-9
                   for k in shipped if k.split("/")[0] in keep)  # fmt: skip

    def rank(item: tuple[str, float]) -> tuple:
        key = "shipped" if item[0] == "shipped" else f"{item[0]}@{item[1]:.2f}"
        if args.diverse:
            mean_kept = sum(scores[key][f"{n}/detect"] for n in keep) / len(keep)
            return (scores[key]["worst_group"], mean_kept, -item[1])
        return (scores[key][f"{target}/detect"], -item[1])

    ref, chosen = max((c for c in candidates if allowed("shipped" if c[0] == "shipped" else f"{c[0]}@{c[1]:.2f}")),
                      key=rank)  # fmt: skip
    chosen_key = "shipped" if ref == "shipped" else f"{ref}@{chosen:.2f}"
    print(f"chosen {chosen_key}: " + json.dumps(scores[chosen_key]), flush=True)
    source = args.tuned[0] if ref == "shipped" else ref
    if tuned[source] is None:
        tuned[source] = load_model(source)
    variables = interpolate_variables(base.variables, tuned[source].variables, chosen)
    model = dataclasses.replace(base, variables=variables)
    out = save_model(args.out, model, json.loads((Path(source) / "metrics.json").read_text()), extra={
        "trained_by": "bench/cpu/wise_ft.py", "alpha": chosen,
        "base": f"pretrained:{args.task}", "base_extra": extra_of(f"pretrained:{args.task}"),
        "tuned": str(source), "tuned_extra": extra_of(source),
    })  # fmt: skip
    rule = {"keep": list(keep), "max_loss_points": args.max_loss}
    if args.diverse:
        rule.update(target="gender-diverse/detect worst (age band 18+ or race code) x gender recall, n >= 10",
                    diverse=str(args.diverse), age_edges=list(ADULT_AGE_EDGES))  # fmt: skip
    else:
        rule["target"] = f"{target}/detect"
    report = {"task": args.task, "tuned": args.tuned, "rule": rule, "chosen": chosen, "chosen_key": chosen_key,
              "scores": scores, "n": sizes}  # fmt: skip
    (out / "wise_ft.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {out}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except FacesweepError as exc:
        raise SystemExit(f"error: {exc}") from None
