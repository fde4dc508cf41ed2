"""Charts as text, for a terminal over SSH with no picture viewer: the report's two answers drawn from the same
replicates the verdicts read. Pure functions of numbers -> lines of text (monospace), rendered as-is by the
terminal view and inside a code block by ``report.md``.

    depth_chart(rows)      # accuracy by depth: mean and 95% interval on one shared scale
    curve_chart(panels)    # learning curves per depth, small multiples: mean per epoch and its 95% band
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MEAN, BAND, AXIS = "●", "│", "┤"
BAR_WIDTH = 40  # characters of the depth chart's scale
CURVE_HEIGHT = 8  # rows of each learning-curve panel


@dataclass(frozen=True)
class DepthRow:
    depth: int
    mean: float
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class CurvePanel:
    depth: int
    n: int
    means: Sequence[float]  # per epoch
    lows: Sequence[float | None]
    highs: Sequence[float | None]


def _scale(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.005, hi + 0.005
    return lo, hi


def depth_chart(rows: Sequence[DepthRow], width: int = BAR_WIDTH) -> list[str]:
    """One line per depth: the 95% interval as ├──┤ and the mean as ● on a scale shared by every depth."""
    if not rows:
        return []
    ends = [v for r in rows for v in (r.low, r.high, r.mean) if v is not None]
    lo, hi = _scale(ends)

    def col(v: float) -> int:
        return min(width - 1, max(0, round((v - lo) / (hi - lo) * (width - 1))))

    lines = [f"{'':8} {100 * lo:<6.1f}{'':{width - 12}}{100 * hi:>6.1f}  (points)"]
    for r in rows:
        cells = [" "] * width
        if r.low is not None and r.high is not None:
            a, b = col(r.low), col(r.high)
            for i in range(a, b + 1):
                cells[i] = "─"
            cells[a], cells[b] = "├", "┤"
        cells[col(r.mean)] = MEAN
        ci = f" ({100 * r.low:.1f} to {100 * r.high:.1f})" if r.low is not None and r.high is not None else ""
        lines.append(f"depth {r.depth:<2} {''.join(cells)}  {100 * r.mean:.1f}{ci}, {r.n} seeds")
    return lines


def curve_chart(panels: Sequence[CurvePanel], height: int = CURVE_HEIGHT) -> list[str]:
    """Small multiples on one y scale: per depth a panel, a column per epoch, ● at the mean and │ over the band."""
    if not panels:
        return []
    ends = [v for p in panels for seq in (p.means, p.lows, p.highs) for v in seq if v is not None]
    lo, hi = _scale(ends)

    def row(v: float) -> int:  # 0 = top
        return min(height - 1, max(0, round((hi - v) / (hi - lo) * (height - 1))))

    grids = []
    for p in panels:
        epochs = len(p.means)
        grid = [[" "] * (2 * epochs) for _ in range(height)]
        for e in range(epochs):
            low, high = p.lows[e], p.highs[e]
            if low is not None and high is not None:
                for r in range(row(high), row(low) + 1):
                    grid[r][2 * e] = BAND
            grid[row(p.means[e])][2 * e] = MEAN
        title = f"depth {p.depth} ({p.n})"
        width = max(2 * epochs, len(title))
        grids.append((title.ljust(width), ["".join(g).ljust(width) for g in grid], f"1..{epochs}".ljust(width)))
    label_hi, label_lo = f"{100 * hi:.1f}", f"{100 * lo:.1f}"
    pad = max(len(label_hi), len(label_lo))
    lines = [" " * (pad + 1) + "   ".join(t for t, _, _ in grids)]
    for r in range(height):
        label = label_hi if r == 0 else label_lo if r == height - 1 else ""
        lines.append(f"{label:>{pad}}{AXIS}" + "   ".join(g[r] for _, g, _ in grids))
    lines.append(" " * (pad + 1) + "   ".join(x for _, _, x in grids) + "   (epochs; points)")
    return lines
