"""Calibrate the replicate rules by simulation: seeded studies of known structure, through the same code path.

Each simulated study is the default design (depths 1-4 of the synthetic space, ``DEFAULT_REPLICATES`` = 3 seed
replicates of one configuration per depth, 8-epoch curves) as ``TrialRecord`` objects -- exactly what the Optuna
adapter hands ``answer_replicates`` -- with normal seed noise of SD 0.75 point. Measured false-positive rate and
power are pinned in ``facesweep.report.rules.CALIBRATION`` (and README); this test fails when they miss the
targets (false positives <= 5%, a true +2 points per depth found >= 80%) or drift from the documented numbers.
Run: ``pytest tests/test_report_calibration.py`` (a few seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.report import rules
from facesweep.report.records import TrialRecord
from facesweep.report.replicates import answer_replicates
from facesweep.sweep.study import DEFAULT_REPLICATES

DEPTHS = (1, 2, 3, 4)
EPOCHS = 8
NOISE = float(rules.CALIBRATION["noise_sd"])  # seed noise SD (metric units): 0.75 point
N_STUDIES = 400
FOUND = ("yes", "up to depth k", "at least up to depth k")  # "deeper helps" somewhere
QUIET = (rules.NOT_SHOWN, rules.NO_GAIN)  # the verdicts that claim no effect of depth


def simulated_records(rng: np.random.Generator, means: list[float], k: int = DEFAULT_REPLICATES) -> list:
    """One designed study's replicates: each curve rises to its depth's mean plus the replicate's seed offset."""
    t = np.arange(1, EPOCHS + 1)
    shape = -0.2 * np.exp(-t / 1.5)
    offsets = rng.normal(0, NOISE, (len(means), k))
    jitter = rng.normal(0, NOISE / 4, (len(means), k, EPOCHS))
    curves = np.asarray(means)[:, None, None] + offsets[..., None] + shape + jitter  # (depths, k, epochs)
    records, number = [], 0
    for i, depth in enumerate(DEPTHS):
        for j in range(k):
            acc = curves[i, j].tolist()
            records.append(TrialRecord(
                number, "complete", acc[-1], params={"depth": depth, "epochs": EPOCHS},
                curve={"val_accuracy": acc, "val_loss": [1.5 - a for a in acc], "train_loss": [1.4 - a for a in acc]},
                role="replicate", replicate_of=100 + i, replicate_seed=j + 1,
            ))  # fmt: skip
            number += 1
    return records


def verdict_rate(means: list[float], verdicts: tuple[str, ...], seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(N_STUDIES):
        answers = answer_replicates(simulated_records(rng, means), "val_accuracy")
        assert answers is not None
        hits += answers.complexity.verdict in verdicts
    return hits / N_STUDIES


def test_the_documented_design_is_the_default_one() -> None:
    assert rules.CALIBRATION["replicates"] == DEFAULT_REPLICATES and rules.CALIBRATION["depths"] == len(DEPTHS)
    assert "4.5% gain/loss verdicts with no effect, 93% of true +2 points per depth found" in (
        rules.COMPLEXITY_REPLICATE_RULE
    )


def test_false_positive_rate_without_a_depth_effect() -> None:
    rate = 1 - verdict_rate([0.5] * len(DEPTHS), QUIET, seed=0)
    assert rate <= 0.05
    assert rate == pytest.approx(rules.CALIBRATION["false_positive"], abs=0.02)


def test_power_for_two_points_per_depth() -> None:
    rate = verdict_rate([0.5 + rules.CALIBRATION["effect"] * i for i in range(len(DEPTHS))], FOUND, seed=1)
    assert rate >= 0.80
    assert rate == pytest.approx(rules.CALIBRATION["power"], abs=0.04)
