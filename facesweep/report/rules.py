"""The report's decision rules: each one is ONE definition, whose constants drive the code path and whose ``text``
is what ``report.md``, ``--explain`` and ``--json`` print as the rule. Nothing else states a rule.

The replicate rules (designed studies: seeds until decided) live one layer down, in ``facesweep.verdicts.rules``,
because the study reads them too when it decides which depths get more seeds; they are re-exported here so the
report has one module of rules. This module adds the search-trial fallback rules and their decisions.
"""

from __future__ import annotations

from facesweep.verdicts.rules import (  # noqa: F401  (re-exported: the report's one module of rules)
    CALIBRATION,
    COMPLEXITY_REPLICATE_RULE,
    EPOCHS_REPLICATE_RULE,
    GAIN,
    LOSS,
    MIN_EFFECT,
    MIN_OVERFIT_AFTER,
    MIN_VALUES,
    NO_GAIN,
    NOT_SHOWN,
    SEQUENTIAL_RULE,
    STEP,
    UNDECIDED,
    StepRule,
)
from facesweep.verdicts.stats import LEVEL

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


# -- the fallback decisions, beside their text (search.py computes the statistics and calls these) ---------------


def fallback_depth_k(medians: list[tuple[int, float]]) -> int | None:
    """COMPLEXITY_FALLBACK_RULE's candidate k: the shallowest depth within FLAT_TOLERANCE of the best median, if it
    is neither the shallowest nor the deepest, rose >= MIN_GAIN from the shallowest, and every deeper median stays
    within FLAT_TOLERANCE of it (the "flattens" the rule states). ``medians``: (depth, median), shallowest first."""
    top = max(m for _, m in medians)
    k = min(d for d, m in medians if m >= top - FLAT_TOLERANCE)
    at = dict(medians)
    shallow_depth, shallow_median = medians[0]
    flat_after = all(m >= at[k] - FLAT_TOLERANCE for d, m in medians if d > k)
    if shallow_depth < k < medians[-1][0] and at[k] - shallow_median >= MIN_GAIN and flat_after:
        return k
    return None


def fallback_plateau_holds(below_low: float | None, below_p: float | None, above_low: float | None) -> bool:
    """'up to depth k': rho for depths <= k shown above 0, rho for depths >= k defined and not above 0 (a missing
    interval above k is "unknown", never "not above 0")."""
    return correlation_above(below_low, below_p) and above_low is not None and not above_low > 0


def fallback_depth_verdict(rho: float | None, low: float | None, high: float | None, p_value: float | None) -> str:
    """'yes' / 'worse' / 'no clear effect' from Spearman depth vs metric (COMPLEXITY_FALLBACK_RULE)."""
    value = rho if rho is not None else 0.0
    if correlation_above(low, p_value) and value > MIN_RHO:
        return "yes"
    if correlation_below(high, p_value) and value < -MIN_RHO:
        return "worse"
    return "no clear effect"


def fallback_epochs_verdict(gains: list[tuple[int, float]]) -> tuple[str, int | None]:
    """EPOCHS_FALLBACK_RULE on the usable doubling gains ``(e, median gain from e to 2e)``, shortest first:
    ('no clear effect', None) | ('yes', None) | ('up to epoch k', k)."""
    gaining = [(e, g) for e, g in gains if g > FLAT_TOLERANCE]
    if not gaining:
        return "no clear effect", None
    if gaining[-1][0] == gains[-1][0]:
        return "yes", None
    return "up to epoch k", 2 * gaining[-1][0]

