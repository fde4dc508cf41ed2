"""Replay a finished study's seed replicates through today's seed rounds (``verdicts.sequential.next_targets``):
how many replicates the current stopping rule would have run, and the verdicts it would have stopped at. No
training: the replicates are read from storage in seed order, so a rule change can be costed on a recorded study.

    python bench/cpu/replay_seeds.py --storage sqlite:///results/synthetic-default-study.db --study emotion-synthetic
"""

from __future__ import annotations

import argparse

import optuna

from facesweep.sweep import design
from facesweep.verdicts.replicates import answer, group_replicates
from facesweep.verdicts.sequential import SeedPlan, next_targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--study", required=True)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=args.study, storage=args.storage)
    plan = SeedPlan.from_dict(study.user_attrs.get("seed_plan"))
    by_depth: dict[int, list] = {}
    for row in sorted(design.replicate_rows(study.trials, "val_accuracy"), key=lambda r: r.seed):
        by_depth.setdefault(row.depth, []).append(row)
    current = next_targets(None, {d: 0 for d in by_depth}, plan)
    while True:
        rows = [r for d, rs in by_depth.items() for r in rs[: current[d]]]
        answers = answer(group_replicates(rows), plan)
        steps = ", ".join(f"{s.shallower}->{s.deeper} {s.call}" + (f" (needs ~{s.seeds_to_decide})"
                          if s.seeds_to_decide else "") for s in answers.complexity.steps)  # fmt: skip
        print(f"seeds {current}: deeper {answers.complexity.headline}; {steps}; epochs "
              f"{[d.verdict for d in answers.epochs.depths]}")
        wanted = next_targets(answers, current, plan)
        if wanted == current:
            break
        if any(wanted[d] > len(by_depth[d]) for d in wanted):
            print("the recorded study ran fewer seeds than this rule would ask for")
            break
        current = wanted
    print(f"replicates: {sum(current.values())} (recorded: {sum(len(rs) for rs in by_depth.values())})")


if __name__ == "__main__":
    main()
