"""The report's replicate answers: records -> ``verdicts.replicates`` (the one place the rules are applied).

    from facesweep.report.replicates import answer_replicates
    answers = answer_replicates(records, "val_accuracy", plan)   # None when the study has no replicates
    answers.complexity.sentence, answers.epochs.sentence, answers.noise.sd

``plan`` is the study's stored ``SeedPlan`` (its looks and smallest worthwhile difference), so the report reads the
replicates with the same intervals the study used to decide when to stop adding seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

from facesweep.report.records import TrialRecord
from facesweep.verdicts.replicates import (
    DepthReplicates,
    Replicate,
    ReplicateAnswers,
    answer,
    group_replicates,
    noise_text,
    pts,
)
from facesweep.verdicts.sequential import SeedPlan

__all__ = ["ReplicateAnswers", "answer_replicates", "depth_replicates", "noise_text", "pts"]


def replicate_rows(records: Sequence[TrialRecord], metric: str) -> list[Replicate]:
    """Complete replicates as the verdicts read them."""
    return [
        Replicate(r.number, int(r.depth), r.replicate_of if r.replicate_of is not None else -1, r.replicate_seed,
                  r.series(metric).tolist(), r.series("val_loss").tolist())
        for r in records if r.is_replicate and r.state == "complete" and r.depth is not None
    ]  # fmt: skip


def depth_replicates(records: Sequence[TrialRecord], metric: str) -> list[DepthReplicates]:
    """Per depth, the replicate group with the most finished curves (complete replicates only)."""
    return group_replicates(replicate_rows(records, metric))


def answer_replicates(records: Sequence[TrialRecord], metric: str,
                      plan: SeedPlan | None = None) -> ReplicateAnswers | None:  # fmt: skip
    """The replicate-based answers, or None when the study holds no complete replicate."""
    depths = depth_replicates(records, metric)
    if not depths:
        return None
    return answer(depths, plan or SeedPlan.fixed(max(d.n for d in depths)))
