"""Statistics the verdicts read: ranks and Spearman, bootstrap (BCa) and exact permutation for the search
trials, Student-t intervals for seed replicates. Pure numpy (scipy only for the t and normal quantiles).

    from facesweep.verdicts.stats import mean_interval, diff_interval, bootstrap_spearman
    mean_interval([0.61, 0.62, 0.60])          # Interval(estimate=0.61, low=..., high=..., n=3, df=2)

Why t intervals for replicates: a depth has 3-5 seed replicates; a bootstrap of 3 values has only 10 distinct
resamples and its percentile interval is far too narrow (coverage ~60%), while the t interval is exact for normal
seed noise. Adjacent depths are compared with Welch's interval from their own seeds (seed noise differs by depth:
a shallow net that half-memorises its data spreads wider than a deep one), and several comparisons share one 95%
level (Bonferroni), so a study with no effect at any depth gets a false "gain" or "loss" at most 5% of the time.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

N_BOOT = 2000  # bootstrap resamples for the Spearman intervals
SEED = 0  # bootstrap / permutation seed: the same study gives the same report
LEVEL = 0.95  # every interval the report prints
EXACT_PERMUTATIONS = 8  # up to this many points the permutation test enumerates every ordering (8! = 40320)
N_PERMUTATIONS = 5000  # otherwise a seeded Monte-Carlo permutation test


@functools.lru_cache(maxsize=512)
def t_quantile(p: float, df: float) -> float:
    """Student-t quantile (``scipy.special.stdtrit``); the normal quantile when df is infinite."""
    from scipy.special import ndtri, stdtrit

    return float(ndtri(p)) if not math.isfinite(df) else float(stdtrit(df, p))


# --------------------------------------------------------------------------------------------------------------
# Replicates: means, differences, seed noise
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided interval (``level``; simultaneous over ``family`` comparisons)."""

    estimate: float
    low: float | None  # None when the interval is undefined (n < 2 and no pooled noise)
    high: float | None
    n: int
    df: float | None
    level: float = LEVEL
    family: int = 1  # the interval is one of this many sharing ``level`` (Bonferroni)

    @property
    def defined(self) -> bool:
        return self.low is not None and self.high is not None


def _quantile_for(level: float, family: int) -> float:
    return 1 - (1 - level) / (2 * max(1, family))


def mean_interval(values: Sequence[float], *, level: float = LEVEL, family: int = 1) -> Interval:
    """Mean and Student-t interval of the values (undefined below 2 values), simultaneous over ``family``."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(float("nan"), None, None, 0, None, level, family)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, None, None, n, None, level, family)
    half = t_quantile(_quantile_for(level, family), n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, float(n - 1), level, family)


@dataclass(frozen=True)
class SeedNoise:
    """The spread of one configuration's metric over seeds, pooled over configurations (replicate groups)."""

    sd: float | None  # pooled within-group standard deviation (metric units); None without replicates
    df: int  # sum of (n - 1) over the groups
    groups: int  # replicate groups with >= 2 values
    values: int  # values in those groups


def pooled_noise(groups: Sequence[Sequence[float]]) -> SeedNoise:
    """Pooled within-group SD: sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)), over groups with >= 2 values."""
    used = [np.asarray(g, dtype=np.float64) for g in groups]
    used = [g[np.isfinite(g)] for g in used]
    used = [g for g in used if g.size >= 2]
    df = sum(g.size - 1 for g in used)
    if df == 0:
        return SeedNoise(None, 0, 0, 0)
    ss = sum(float(((g - g.mean()) ** 2).sum()) for g in used)
    return SeedNoise(math.sqrt(ss / df), int(df), len(used), int(sum(g.size for g in used)))


POWER = 0.8  # the power the "seeds needed" hint plans for


def detectable_step(sd_a: float, sd_b: float, n: int, *, family: int = 1, level: float = LEVEL,
                    power: float = POWER) -> float:  # fmt: skip
    """The smallest true difference between two groups of ``n`` seeds (seed SDs ``sd_a`` and ``sd_b``) that
    ``diff_interval``'s Welch interval, simultaneous over ``family``, shows as above 0 with probability ``power``:
    (t + z_power) * se, the usual normal approximation for the power term."""
    se, df = welch_se_df(sd_a**2, sd_b**2, n, n)
    return (t_quantile(_quantile_for(level, family), df) + NormalDist().inv_cdf(power)) * se


def seeds_needed(sd_a: float, sd_b: float, step: float, *, family: int = 1, level: float = LEVEL,
                 power: float = POWER, most: int = 10_000) -> int | None:  # fmt: skip
    """The fewest seeds per group (>= 2) whose ``detectable_step`` is at most ``step``; None when more than
    ``most`` would be needed."""
    if step <= 0:
        return None
    if sd_a <= 0 and sd_b <= 0:
        return 2
    n = 2
    while n <= most:
        if detectable_step(sd_a, sd_b, n, family=family, level=level, power=power) <= step:
            return n
        n = n + 1 if n < 64 else int(n * 1.05) + 1
    return None


def welch_se_df(var_a: float, var_b: float, na: int, nb: int) -> tuple[float, float]:
    """Standard error of mean(b) - mean(a) from the two groups' variances, with its Welch-Satterthwaite degrees of
    freedom (na + nb - 2 when both variances are 0)."""
    va, vb = var_a / na, var_b / nb
    if va + vb <= 0:
        return 0.0, float(na + nb - 2)
    return math.sqrt(va + vb), (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))


def diff_interval(a: Sequence[float], b: Sequence[float], *, family: int = 1, level: float = LEVEL) -> Interval:
    """mean(b) - mean(a) with Welch's t interval from the two groups' own spreads, simultaneous over ``family``
    comparisons (Bonferroni); undefined below 2 values in either group."""
    xa, xb = (np.asarray(v, dtype=np.float64) for v in (a, b))
    xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    na, nb = int(xa.size), int(xb.size)
    if na == 0 or nb == 0:
        return Interval(float("nan"), None, None, min(na, nb), None, level, family)
    diff = float(xb.mean() - xa.mean())
    if na < 2 or nb < 2:
        return Interval(diff, None, None, min(na, nb), None, level, family)
    se, df = welch_se_df(float(xa.var(ddof=1)), float(xb.var(ddof=1)), na, nb)
    half = t_quantile(_quantile_for(level, family), df) * se
    return Interval(diff, diff - half, diff + half, min(na, nb), df, level, family)


def paired_interval(first: Sequence[float], second: Sequence[float], *, level: float = LEVEL,
                    family: int = 1) -> Interval:  # fmt: skip
    """mean(second - first) over pairs (the same replicate at two epochs), t interval (simultaneous over
    ``family``)."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    d = b - a
    return mean_interval(d[np.isfinite(d)], level=level, family=family)


# --------------------------------------------------------------------------------------------------------------
# Search trials: Spearman with a BCa bootstrap and a permutation test
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correlation:
    """Spearman rank correlation of ``x`` with the metric: BCa bootstrap 95% interval and permutation p-value."""

    x: str  # "depth", "param_count", "epochs"
    n: int
    rho: float | None  # None when undefined (fewer than 3 points or a constant variable)
    low: float | None
    high: float | None
    n_boot: int  # resamples drawn
    n_used: int  # resamples with a defined rho (the interval is computed from these)
    p_value: float | None = None  # two-sided permutation p-value of rho (exact up to 8 points)

    @property
    def above_zero(self) -> bool:
        return self.low is not None and self.low > 0

    @property
    def below_zero(self) -> bool:
        return self.high is not None and self.high < 0


def rank_average(a: np.ndarray) -> np.ndarray:
    """1-based ranks along the last axis, ties given their average rank (as ``scipy.stats.rankdata``)."""
    a = np.asarray(a, dtype=np.float64)
    less = (a[..., :, None] > a[..., None, :]).sum(-1)
    less_equal = (a[..., :, None] >= a[..., None, :]).sum(-1)
    return (less + 1 + less_equal) / 2.0


def rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = x - x.mean(-1, keepdims=True)
    y = y - y.mean(-1, keepdims=True)
    denom = np.sqrt((x * x).sum(-1) * (y * y).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 1e-12, (x * y).sum(-1) / np.where(denom > 1e-12, denom, 1.0), np.nan)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho (Pearson correlation of average ranks); None if undefined."""
    x_arr, y_arr = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x_arr.size < 3:
        return None
    rho = float(rowwise_pearson(rank_average(x_arr), rank_average(y_arr)))
    return None if math.isnan(rho) else rho


def permutation_p(x: Sequence[float], y: Sequence[float], *, seed: int = SEED) -> float | None:
    """Two-sided p-value of Spearman's rho under random pairing: exact (every ordering) up to 8 points."""
    x_arr, y_arr = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rho = spearman(x_arr, y_arr)
    if rho is None:
        return None
    rx, ry = rank_average(x_arr), rank_average(y_arr)
    n = rx.size
    if n <= EXACT_PERMUTATIONS:
        orders = np.array(list(itertools.permutations(range(n))))
    else:
        rng = np.random.default_rng(seed)
        orders = np.argsort(rng.random((N_PERMUTATIONS, n)), axis=1)
    rhos = rowwise_pearson(np.broadcast_to(rx, orders.shape), ry[orders])
    extreme = np.abs(rhos) >= abs(rho) - 1e-12
    if n <= EXACT_PERMUTATIONS:
        return float(extreme.mean())
    return float((extreme.sum() + 1) / (orders.shape[0] + 1))


def _jackknife_acceleration(x: np.ndarray, y: np.ndarray) -> float | None:
    n = x.size
    keep = ~np.eye(n, dtype=bool)
    xs = x[np.nonzero(keep)[1].reshape(n, n - 1)]
    ys = y[np.nonzero(keep)[1].reshape(n, n - 1)]
    jack = rowwise_pearson(rank_average(xs), rank_average(ys))
    if np.any(np.isnan(jack)):
        return None
    d = jack.mean() - jack
    denom = 6.0 * float((d**2).sum()) ** 1.5
    return float((d**3).sum() / denom) if denom > 0 else 0.0


def bootstrap_spearman(
    x: Sequence[float], y: Sequence[float], *, name: str, n_boot: int = N_BOOT, seed: int = SEED
) -> Correlation:
    """Spearman rho, its BCa bootstrap 95% interval (pairs resampled, seeded) and its permutation p-value.

    BCa (bias-corrected and accelerated) rather than percentile: at 5-15 trials the percentile interval is too
    narrow. Resamples where rho is undefined (a constant column) are dropped and counted (``n_used``); with fewer
    than half usable, there is no interval.
    """
    from scipy.special import ndtr, ndtri

    x_arr, y_arr = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = int(x_arr.size)
    rho = spearman(x_arr, y_arr)
    if rho is None:
        return Correlation(name, n, None, None, None, 0, 0, None)
    p = permutation_p(x_arr, y_arr, seed=seed)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(n_boot, n))
    chunk = max(1, 4_000_000 // (n * n))  # keep the (chunk, n, n) rank comparison small
    rhos = np.concatenate(
        [
            rowwise_pearson(rank_average(x_arr[index[i : i + chunk]]), rank_average(y_arr[index[i : i + chunk]]))
            for i in range(0, n_boot, chunk)
        ]
    )
    rhos = rhos[~np.isnan(rhos)]
    used = int(rhos.size)
    if used < n_boot // 2:  # mostly constant resamples: the interval would mean nothing
        return Correlation(name, n, rho, None, None, n_boot, used, p)
    share_below = (np.sum(rhos < rho) + 0.5 * np.sum(rhos == rho)) / used
    accel = _jackknife_acceleration(x_arr, y_arr)
    if accel is None or not 0 < share_below < 1:  # BCa undefined: fall back to the percentile interval
        low, high = np.percentile(rhos, [2.5, 97.5])
        return Correlation(name, n, rho, float(low), float(high), n_boot, used, p)
    z0 = float(ndtri(share_below))
    qs = []
    for alpha in (0.025, 0.975):
        z = float(ndtri(alpha))
        qs.append(float(ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))))
    low, high = np.quantile(rhos, qs)
    return Correlation(name, n, rho, float(low), float(high), n_boot, used, p)
