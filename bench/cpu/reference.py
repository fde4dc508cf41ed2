"""The known answer for the default synthetic study: its chosen configurations with many seeds.

    python bench/cpu/reference.py run   --storage sqlite:///study.db --seeds 20 --out bench/cpu/reference.json
    python bench/cpu/reference.py check --storage sqlite:///study.db --reference bench/cpu/reference.json

``run`` re-trains the best search trial of each depth of a finished default study (``facesweep study --trials 30``)
for the epochs its replicates train, with ``--seeds`` fresh seeds (1000 + i, never the study's), on the same data,
and writes per depth the values and per step the difference with its 95% interval (Welch, from the two depths'
seeds; Bonferroni over the steps; one look), plus per depth the mean learning curve and its last-epoch and plateau
gains. That is the reference verdict a study's few seeds should agree with. ``check`` reads a study's report
(``facesweep report --json``'s object) and compares: every decided step of the study must not contradict the
reference (a study 'gain' where the reference says 'loss' or 'no gain', and so on), and both study verdicts must be
decided and the reference's. Exit 1 on a disagreement.
Resumable: ``run`` appends to ``--out`` as seeds finish and skips what is there.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import optuna

from facesweep.model.config import Config
from facesweep.model.train import train_and_evaluate
from facesweep.report.analysis import analyze_study
from facesweep.report.schema import study_to_json
from facesweep.sweep import schema
from facesweep.sweep.design import best_by_depth
from facesweep.sweep.study import StudyOptions, load_study_data
from facesweep.verdicts import rules
from facesweep.verdicts.replicates import Replicate, answer, group_replicates
from facesweep.verdicts.sequential import SeedPlan

REFERENCE_SEED = 1000  # reference seeds are 1000, 1001, ...: never a study's (study seeds are 1.. max_seeds)


def load(storage: str, name: str | None) -> optuna.Study:
    names = optuna.get_all_study_names(storage)
    if name is None:
        if len(names) != 1:
            sys.exit(f"--study: the storage holds {len(names)} studies ({', '.join(names)}); name one")
        name = names[0]
    return optuna.load_study(study_name=name, storage=storage)


def run(args: argparse.Namespace) -> None:
    study = load(args.storage, args.study)
    attrs = study.user_attrs
    trials = study.get_trials(deepcopy=False)
    depths = schema.study_depths(attrs) or sorted({schema.trial_depth(t) for t in trials})
    best = best_by_depth(trials, depths)
    options = StudyOptions(task=attrs.get(schema.TASK, "emotion"), data=attrs.get(schema.DATA))
    data = load_study_data(options)
    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {"study": study.study_name, "runs": []}
    done = {(r["depth"], r["seed"]) for r in doc["runs"]}
    epochs = schema.study_replicate_epochs(attrs)  # the replicates' epochs (None: each source trial's own)
    for depth, source in sorted(best.items()):
        config = Config.from_dict(source.user_attrs[schema.CONFIG])
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs)
        for i in range(args.seeds):
            seed = REFERENCE_SEED + i
            if (depth, seed) in done:
                continue
            start = time.perf_counter()
            result = train_and_evaluate(dataclasses.replace(config, seed=seed, patience=0).validate(), data)
            curve = [float(h[attrs.get(schema.METRIC, "val_accuracy")]) for h in result.history]
            doc["runs"].append({"depth": depth, "source": source.number, "seed": seed, "curve": curve,
                                "val_loss": [float(h["val_loss"]) for h in result.history]})  # fmt: skip
            out.write_text(json.dumps(doc, indent=1))
            print(f"depth {depth} seed {seed}: {curve[-1]:.4f} ({time.perf_counter() - start:.1f}s)", flush=True)
    summarize(doc, out)


def reference_answers(doc: dict):
    rows = [Replicate(i, r["depth"], r["source"], r["seed"], r["curve"], r["val_loss"])
            for i, r in enumerate(doc["runs"])]  # fmt: skip
    return answer(group_replicates(rows), SeedPlan.fixed(3))


def summarize(doc: dict, out: Path) -> None:
    ref = reference_answers(doc)
    doc["verdicts"] = {
        "complexity": ref.complexity.verdict, "epochs": ref.epochs.verdict, "noise_sd": ref.noise.sd,
        "depths": [{"depth": d.depth, "n": d.n, "mean": d.mean.estimate, "low": d.mean.low, "high": d.mean.high}
                   for d in ref.complexity.depths],
        "steps": [{"step": f"{s.shallower}-{s.deeper}", "diff": s.diff.estimate, "low": s.diff.low,
                   "high": s.diff.high, "call": s.call} for s in ref.complexity.steps],
        "epoch_rows": [{"depth": r.depth, "verdict": r.verdict, "plateau": r.plateau_epoch} for r in ref.epochs.depths],
    }  # fmt: skip
    out.write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc["verdicts"], indent=1))


# A decided study call contradicts the reference call when they cannot both be true.
CONTRADICTS = {rules.GAIN: {rules.LOSS, rules.NO_GAIN}, rules.LOSS: {rules.GAIN}, rules.NO_GAIN: {rules.GAIN}}


def check(args: argparse.Namespace) -> int:
    study = load(args.storage, args.study)
    report = analyze_study(study.study_name, study.get_trials(), study_attrs=study.user_attrs, n_boot=200)
    doc = study_to_json(report)
    try:
        ref = json.loads(Path(args.reference).read_text())["verdicts"]
    except (OSError, ValueError, KeyError) as exc:
        sys.exit(f"--reference {args.reference}: not a reference written by 'run' ({exc})")
    ref_calls = {s["step"]: s["call"] for s in ref["steps"]}
    problems = []
    for a in doc["complexity"]["adjacent"]:
        key = f"{a['shallower']}-{a['deeper']}"
        if ref_calls.get(key) in CONTRADICTS.get(a["call"], set()):
            problems.append(f"step {key}: study says {a['call']}, reference {ref_calls[key]}")
    for question in ("complexity", "epochs"):
        if not doc[question]["decided"]:
            problems.append(f"{question}: not decided ({doc[question]['verdict']})")
        elif doc[question]["verdict"] != ref[question]:
            problems.append(f"{question}: study says {doc[question]['verdict']}, reference {ref[question]}")
    print("study:", doc["lead"][0])
    print("study:", doc["lead"][1])
    print(f"reference: deeper {ref['complexity']}, epochs {ref['epochs']}; steps " +
          ", ".join(f"{s['step']} {s['call']} {100 * s['diff']:+.1f}" for s in ref["steps"]))  # fmt: skip
    for p in problems:
        print("DISAGREES:", p)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("run", "check"):
        p = sub.add_parser(name)
        p.add_argument("--storage", required=True)
        p.add_argument("--study")
    sub.choices["run"].add_argument("--seeds", type=int, default=20)
    sub.choices["run"].add_argument("--out", required=True)
    sub.choices["check"].add_argument("--reference", required=True)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.cmd == "run":
        run(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
