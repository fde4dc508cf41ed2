"""The report's decision rules: each one is ONE definition here, whose constants drive the code path and whose
``text`` is what ``report.md``, the terminal view and ``--json`` print as the rule. Nothing else states a rule.

Calibrated by simulation (``tests/test_report_calibration.py``, through ``answer_replicates``): at the default
design (depths 1-4, 3 seed replicates each, 8-epoch curves) with seed noise SD 0.75 point, 400 seeded studies
with no depth effect got a gain or loss verdict 4.5% of the time (a "deeper helps" verdict 3.0%), and a true +2
points per depth was found ("deeper helps") 93% of the time. Power falls as the seed noise grows: 99.8% at 0.5
point, 68% at 1 point (97% with --replicates 5); the false-positive rate does not depend on the noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from facesweep.report.stats import LEVEL, Interval

# -- replicate-based rules (designed studies) ------------------------------------------------------------------
MIN_VALUES = 3  # replicate values a depth needs before any verdict reads it
DELTA_FLOOR = 0.005  # metric units: the "no gain" band is +-max(seed noise SD, this)
MIN_OVERFIT_AFTER = 2  # epochs a curve needs after its validation-loss minimum before "turned up" can be judged

# Measured by tests/test_report_calibration.py (400 studies each, seeds 0 and 1); the test fails if they miss the
# targets (false positives <= 5%, power >= 80%) or drift from these numbers.
CALIBRATION = {"depths": 4, "replicates": 3, "noise_sd": 0.0075, "effect": 0.02, "false_positive": 0.045,
               "power": 0.93}

GAIN, LOSS, NO_GAIN, NOT_SHOWN = "gain", "loss", "no gain", "not shown either way"


def no_gain_band(noise_sd: float | None) -> float:
    """delta: differences inside +-delta count as "no gain" (never below half a point, never below the noise)."""
    return max(noise_sd or 0.0, DELTA_FLOOR)


@dataclass(frozen=True)
class StepRule:
    """A difference with its interval -> gain / loss / no gain / not shown either way."""

    text: str = (
        f"a step is '{NO_GAIN}' only if its {LEVEL:.0%} interval lies inside +-delta (delta = max(seed noise SD, "
        f"{DELTA_FLOOR:g}): a difference smaller than the seed noise, even a real one, is no gain worth having); "
        f"otherwise a '{GAIN}' if the interval lies above 0, a '{LOSS}' if below 0, else '{NOT_SHOWN}'"
    )

    def classify(self, interval: Interval, delta: float) -> str:
        if not interval.defined:
            return NOT_SHOWN
        low, high = float(interval.low), float(interval.high)  # type: ignore[arg-type]
        if -delta <= low and high <= delta:
            return NO_GAIN
        if low > 0:
            return GAIN
        if high < 0:
            return LOSS
        return NOT_SHOWN


STEP = StepRule()

COMPLEXITY_REPLICATE_RULE = (
    f"from the seed replicates of the best configuration at each depth (depths with < {MIN_VALUES} values left "
    "out), adjacent depths compared at a matched epoch (the shorter run's last epoch): the difference in mean "
    f"metric with a {LEVEL:.0%} t interval from the pooled seed noise, simultaneous over all adjacent pairs "
    f"(Bonferroni); {STEP.text}. Verdict: 'yes' if the deepest step gains; 'up to depth k' if steps gain up to k "
    f"and every later step is '{NO_GAIN}' or '{LOSS}'; 'at least up to depth k' if a later step is "
    f"'{NOT_SHOWN}'; 'worse' if no step gains and one loses; '{NO_GAIN}' if every step is '{NO_GAIN}'; else "
    f"'{NOT_SHOWN}'; 'cannot answer' with fewer than 2 depths of >= {MIN_VALUES} values. Calibrated by "
    f"simulation at {CALIBRATION['depths']} depths x {CALIBRATION['replicates']} seeds with seed noise SD "
    f"{100 * CALIBRATION['noise_sd']:g} point: {CALIBRATION['false_positive']:.1%} gain/loss verdicts with no "
    f"effect, {CALIBRATION['power']:.0%} of true +{100 * CALIBRATION['effect']:g} points per depth found"
)

EPOCHS_REPLICATE_RULE = (
    f"per depth, from its replicates' full learning curves (>= {MIN_VALUES}): the mean metric per epoch with a "
    f"{LEVEL:.0%} t band; the plateau epoch p = the first epoch after which no later epoch's mean is higher by "
    f"delta (= max(seed noise SD, {DELTA_FLOOR:g})) or more; 'up to epoch p' if the paired gain from epoch 1 to p "
    f"has its interval above 0 and the paired gain from p to the last epoch has its upper bound below delta "
    f"('{NO_GAIN}' when that holds with p = 1); 'yes' if the curve still gains at its last epoch (p = last, gain "
    f"from epoch 1 above 0); '{NOT_SHOWN}' otherwise. Overall: the per-depth verdicts if they agree (k = the "
    "largest p), else 'depends on depth'. Overfitting: the "
    f"mean validation loss has its minimum at epoch m, >= {MIN_OVERFIT_AFTER} epochs ran after it, and the paired "
    "rise from m to the last epoch has its interval above 0"
)

# -- fallback rules (search trials only: no replicates) --------------------------------------------------------
MIN_TRIALS = 5  # completed trials needed for a correlation
MIN_IMPORTANCE_TRIALS = 8  # completed trials needed for parameter importances
MIN_CURVES = 3  # learning curves needed for one "epoch e -> 2e" gain
MIN_RHO = 0.3  # |Spearman rho| a "yes"/"worse" answer needs
FLAT_TOLERANCE = 0.01  # metric units: differences below this count as "flat"
MIN_GAIN = 0.02  # metric units: the rise a "up to depth k" answer needs before the plateau
ALPHA = 0.05  # the permutation p-value a correlation verdict needs besides its interval
OVERFIT_RISE = 0.01  # relative rise of validation loss over its minimum that counts as "turning up"

PENDING_NOTE = (
    "This study asked for {k} seed replicates per depth but none has finished yet, so the report cannot separate "
    "an effect from seed noise; the answers below use the search-trial rules (labelled 'search trials only'). "
    "Run the same 'facesweep study' command again to finish the replicates."
)

FALLBACK_NOTE = (
    "No seed replicates in this study, so the report cannot separate an effect from seed noise: a gap between two "
    "trials may be luck of the seed. The answers below use the search-trial rules (labelled 'search trials only'), "
    "and the sampler chose which depths and epochs ran, so other settings are confounded with them. Run "
    "'facesweep study' with --replicates 3 (the default) to answer with the noise in view."
)

COMPLEXITY_FALLBACK_RULE = (
    f"search trials only, over completed trials: 'up to depth k' if the depth medians rise by >= {MIN_GAIN:g} from "
    f"the shallowest depth to k (the shallowest depth within {FLAT_TOLERANCE:g} of the best median, k not the "
    f"deepest), every deeper median stays within {FLAT_TOLERANCE:g} of the median at k, Spearman rho for depths "
    f"<= k has its {LEVEL:.0%} BCa interval above 0 and permutation p < {ALPHA:g}, and rho for depths >= k has an "
    f"interval that is not above 0; else 'yes' if rho > {MIN_RHO:g}, its interval above 0 and p < {ALPHA:g}; "
    f"'worse' if rho < -{MIN_RHO:g}, its interval below 0 and p < {ALPHA:g}; else 'no clear effect'; "
    f"'cannot answer' with < {MIN_TRIALS} completed trials or a single depth"
)

EPOCHS_FALLBACK_RULE = (
    f"search trials only, over all learning curves: g(e) = median of metric(2e) - metric(e) over >= {MIN_CURVES} "
    f"curves; 'yes' if the last measurable doubling gains > {FLAT_TOLERANCE:g}; 'up to epoch k' if an earlier one "
    f"did and later ones do not (k = 2e of the last gaining doubling); else 'no clear effect'. Overfitting is "
    f"judged only on curves with >= {MIN_OVERFIT_AFTER} epochs after their validation-loss minimum: both above it "
    f"by > {OVERFIT_RISE:.0%} while the training loss fell"
)


def strength_of(rho: float | None) -> str | None:
    if rho is None:
        return None
    return "strong" if abs(rho) >= 0.6 else "moderate" if abs(rho) >= MIN_RHO else "weak"


def correlation_above(low: float | None, p_value: float | None) -> bool:
    """The fallback's "rho > 0 is shown": an interval above 0 AND a permutation p below ALPHA."""
    return low is not None and low > 0 and p_value is not None and p_value < ALPHA


def correlation_below(high: float | None, p_value: float | None) -> bool:
    return high is not None and high < 0 and p_value is not None and p_value < ALPHA
