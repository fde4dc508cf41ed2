"""The replicate rules: each one is ONE definition here, whose constants drive the code path (``verdicts.replicates``,
the study's seed rounds in ``verdicts.sequential``) and whose ``text`` is what ``report.md``, ``--explain`` and
``--json`` print as the rule. Nothing else states a replicate rule.

Two numbers set every verdict:

- the **smallest difference worth having**, ``min_effect`` (``--min-effect``, default ``MIN_EFFECT`` = 1 point): a
  step whose interval lies below it is "no gain" (deeper is not better by that much), never the seed noise;
- the **looks**: the study adds rounds of seeds while a comparison is undecided, so the report may read the data
  up to ``looks`` times. Each interval is Bonferroni-simultaneous over its comparisons *and* over the planned
  looks (alpha spending by the union bound), so stopping as soon as a verdict is reached keeps the 5% error rate.

Calibrated by simulation through the same code path, stopping included (``tests/test_report_calibration.py``,
numbers in ``CALIBRATION``).
"""

from __future__ import annotations

from dataclasses import dataclass

from facesweep.verdicts.stats import LEVEL, Interval

MIN_VALUES = 3  # replicate values a depth needs before any verdict reads it
MIN_EFFECT = 0.01  # metric units: the smallest difference worth having (--min-effect, in points on the CLI)
MIN_OVERFIT_AFTER = 2  # epochs a curve needs after its validation-loss minimum before "turned up" can be judged
OUT_OF_REACH = 2  # an open step needing over this x --max-seeds seeds per depth at its estimate gets no more seeds
EPOCH_TESTS = 3  # interval families per depth in the epoch rule: last-epoch gain, plateau sequence, rise to it

GAIN, LOSS, NO_GAIN, NOT_SHOWN = "gain", "loss", "no gain", "not shown either way"
UNDECIDED = (NOT_SHOWN, "at least up to depth k", "cannot answer")  # verdicts that ask for more seeds

# Measured by tests/test_report_calibration.py (seeded simulated studies through verdicts.sequential, the
# stopping included); the test fails if they miss the targets (false positives <= 5%, power >= 80%) or drift.
CALIBRATION = {"depths": 4, "start": 3, "step": 2, "max_seeds": 11, "noise_sd": 0.01, "effect": 0.02,
               "false_positive": 0.017, "power": 0.843, "seeds_used_null": 8.748, "seeds_used_effect": 7.565,
               "studies": 300}  # fmt: skip


@dataclass(frozen=True)
class StepRule:
    """A difference with its interval -> gain / loss / no gain / not shown either way."""

    text: str = (
        f"a step is a '{GAIN}' if its interval lies above 0, a '{LOSS}' if below 0, '{NO_GAIN}' if it lies below "
        f"the smallest difference worth having (--min-effect, default {100 * MIN_EFFECT:g} point: deeper is not "
        f"better by that much), else '{NOT_SHOWN}'"
    )

    def classify(self, interval: Interval, min_effect: float) -> str:
        if not interval.defined:
            return NOT_SHOWN
        low, high = float(interval.low), float(interval.high)  # type: ignore[arg-type]
        if low > 0:
            return GAIN
        if high < 0:
            return LOSS
        if high < min_effect:
            return NO_GAIN
        return NOT_SHOWN


STEP = StepRule()

SEQUENTIAL_RULE = (
    "seeds until decided: each depth's best configuration first gets the start seeds; after every round the "
    "verdicts are read and each depth in a step or an epoch verdict still 'not shown either way' gets the round's "
    "seeds more (steps only while the depth answer is undecided: 'yes' needs only the deepest step; of an open "
    "step's two depths the quieter gets none while it holds its share, seeds in proportion to seed SD), up to "
    "--max-seeds -- except for a step out of reach: one that, at its estimate and its depths' seed "
    f"noise, would need more than {OUT_OF_REACH}x --max-seeds seeds per depth (a near-tie against a small "
    "--min-effect: more seeds would cost time and leave it open); the study stops adding seeds when every step and "
    "epoch verdict is decided or out of reach, at --max-seeds, or at --timeout. Every interval is simultaneous over "
    "its comparisons and over the planned looks "
    f"(1 + (max - start) / round; Bonferroni over looks = alpha spending by the union bound), so a verdict read at "
    f"any look holds at {LEVEL:.0%} whenever and why ever the study stopped"
)


def complexity_rule_text() -> str:
    c = CALIBRATION
    return (
        f"from the seed replicates of the best configuration at each depth (depths with < {MIN_VALUES} values left "
        "out), adjacent depths compared at a matched epoch (the shorter run's last epoch): the difference in mean "
        f"metric with a {LEVEL:.0%} Welch t interval from the two depths' own seeds (seed noise differs by depth), "
        "simultaneous over all adjacent pairs and "
        f"the planned looks; {STEP.text}. Verdict: 'yes' if the deepest step gains; 'up to depth k' if steps gain up "
        f"to k and every later step is '{NO_GAIN}' or '{LOSS}'; 'at least up to depth k' (undecided) if a later step "
        f"is '{NOT_SHOWN}'; 'worse' if no step gains and one loses; '{NO_GAIN}' if every step is '{NO_GAIN}'; else "
        f"'{NOT_SHOWN}'. {SEQUENTIAL_RULE}. Calibrated by simulation through the same code, stopping included "
        f"({c['studies']} studies each, {c['depths']} depths, {c['start']} seeds then +{c['step']} up to "
        f"{c['max_seeds']}, seed noise SD {100 * c['noise_sd']:g} point): {c['false_positive']:.1%} gain/loss "
        f"verdicts with no effect; a true +{100 * c['effect']:g} points per depth found ('yes') in "
        f"{c['power']:.0%} (mean seeds per depth used: {c['seeds_used_null']:.1f} and {c['seeds_used_effect']:.1f})"
    )


def epochs_rule_text() -> str:
    return (
        f"per depth, from its replicates' learning curves (>= {MIN_VALUES}), paired over seeds, each interval "
        f"simultaneous over the depth's {EPOCH_TESTS} tests and the planned looks: 'yes, still gaining at epoch E' "
        "if the gain into the last epoch E has its interval above 0; the plateau p is found by testing backwards "
        "from E-1 (a fixed sequence, so no extra multiplicity): epoch e joins the plateau while its gain to every "
        "later epoch has its interval below the smallest difference worth having (an intersection-union test); "
        "'up to epoch p' if the gain "
        f"from epoch 1 to p has its interval above 0 ('{NO_GAIN}' when p = 1); the plateau is read before the "
        f"last-epoch gain, so a real but unimportant last gain still reads 'up to epoch p'; else '{NOT_SHOWN}'. "
        "Overall: the per-depth verdicts if they agree (k = the largest p), else 'depends on depth'. Overfitting: "
        f"the mean validation loss has its minimum at epoch m, >= {MIN_OVERFIT_AFTER} epochs ran after it, and the "
        "paired rise from m to the last epoch has its interval above 0"
    )


COMPLEXITY_REPLICATE_RULE = complexity_rule_text()
EPOCHS_REPLICATE_RULE = epochs_rule_text()
