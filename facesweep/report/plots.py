"""PNG plots of a ``StudyReport`` (matplotlib, Agg backend: no display, no browser, no network).

    paths = write_plots(report, Path("report/"))   # {"metric_by_depth": Path(...), ...}

One function per figure, each takes the report and a path and writes one PNG; ``write_plots`` writes the ones the
study has data for.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from facesweep.report.analysis import StudyReport, overfit_onset  # noqa: E402

DPI = 120


def _depth_colours(depths: list[int]) -> dict[int, tuple]:
    cmap = plt.get_cmap("viridis")
    span = max(1, len(depths) - 1)
    return {d: cmap(0.9 * i / span) for i, d in enumerate(sorted(depths))}


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plot_metric_by_depth(report: StudyReport, path: Path) -> Path:
    """Box + jittered strip of the metric per depth (completed trials), with the Spearman rho in the title."""
    done = [r for r in report.search_records if r.state == "complete" and r.value is not None and r.depth is not None]
    depths = sorted({r.depth for r in done})  # type: ignore[type-var]
    values = [[r.value for r in done if r.depth == d] for d in depths]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.boxplot(values, positions=depths, widths=0.5, showfliers=False, medianprops={"color": "black"})
    rng = np.random.default_rng(0)
    colours = _depth_colours(depths)
    for d, vs in zip(depths, values, strict=True):
        ax.scatter(d + rng.uniform(-0.15, 0.15, len(vs)), vs, color=colours[d], alpha=0.8, zorder=3, s=28)
    c = report.complexity
    rho = c.rho_depth
    ci = f", 95% CI {rho.low:+.2f}..{rho.high:+.2f}" if rho.low is not None else ""
    sub = f"Spearman rho = {rho.rho:+.2f}{ci} (n={rho.n})" if rho.rho is not None else "correlation undefined"
    ax.set_title(f"{report.metric} by depth, search trials: {c.headline}\n{sub}", fontsize=11)
    ax.set_xlabel("depth (conv blocks)")
    ax.set_ylabel(f"{report.metric} (completed search trials)")
    ax.set_xticks(depths, [f"{d}\n(n={len(vs)})" for d, vs in zip(depths, values, strict=True)])
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_metric_by_epochs(report: StudyReport, path: Path) -> Path:
    """Left: final metric vs configured epochs (coloured by depth). Right: where each curve peaked."""
    done = [r for r in report.search_records if r.state == "complete" and r.value is not None and r.epochs is not None]
    depths = sorted({r.depth for r in report.records if r.depth is not None})
    colours = _depth_colours(depths)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    rng = np.random.default_rng(0)
    for d in depths:
        pts = [r for r in done if r.depth == d]
        if pts:
            left.scatter([r.epochs + rng.uniform(-0.2, 0.2) for r in pts], [r.value for r in pts],
                         color=colours[d], label=f"depth {d}", alpha=0.85, s=28)  # fmt: skip
    rho = report.epochs.rho_epochs
    sub = f"Spearman rho = {rho.rho:+.2f} (n={rho.n})" if rho.rho is not None else "correlation undefined"
    left.set_title(f"{report.metric} vs epochs trained\n{sub}", fontsize=11)
    left.set_xlabel("epochs (configured)")
    left.set_ylabel(f"best {report.metric}")
    left.grid(alpha=0.3)
    if done:
        left.legend(fontsize=8, loc="lower right")
    peak = report.epochs.peak
    if peak.n:
        bins = np.arange(0.5, max(peak.epochs) + 1.5, 1)
        right.hist(peak.epochs, bins=bins, color="tab:blue", alpha=0.8, edgecolor="white")
        right.axvline(peak.median, color="black", linestyle="--", label=f"median {peak.median:g}")
        right.legend(fontsize=8)
    right.set_title(f"Epoch at which {report.metric} peaked\n({peak.n} curves, pruned included)",
                    fontsize=11)  # fmt: skip
    right.set_xlabel("peak epoch")
    right.set_ylabel("trials")
    right.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_learning_curves(report: StudyReport, path: Path) -> Path:
    """Every trial's validation metric and losses by epoch, coloured by depth; pruned trials dotted."""
    records = [r for r in report.records if r.epochs_run]
    depths = sorted({r.depth for r in records if r.depth is not None})
    colours = _depth_colours(depths)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for r in records:
        colour = colours.get(r.depth, "gray")  # type: ignore[arg-type]
        style = ":" if r.state == "pruned" else "-"
        epochs = np.arange(1, r.epochs_run + 1)
        metric = r.series(report.metric)
        if metric.size:
            left.plot(epochs[: metric.size], metric, style, color=colour, alpha=0.6, linewidth=1.2)
        val, train = r.series("val_loss"), r.series("train_loss")
        if val.size:
            right.plot(epochs[: val.size], val, style, color=colour, alpha=0.6, linewidth=1.2)
        if train.size:
            right.plot(epochs[: train.size], train, "--", color=colour, alpha=0.25, linewidth=0.8)
        onset = overfit_onset(r)
        if onset is not None:
            right.scatter([onset], [val[onset - 1]], color="red", marker="v", s=22, zorder=4)
    handles = [Line2D([], [], color=colours[d], label=f"depth {d}") for d in depths]
    left.legend(handles=handles + [Line2D([], [], color="gray", linestyle=":", label="pruned")], fontsize=8)
    right.legend(
        handles=[
            Line2D([], [], color="gray", label="validation loss"),
            Line2D([], [], color="gray", linestyle="--", alpha=0.5, label="training loss"),
            Line2D([], [], color="red", marker="v", linestyle="", label="overfitting onset"),
        ],
        fontsize=8,
    )
    left.set_title(f"{report.metric} per epoch ({len(records)} trials, by depth)", fontsize=11)
    left.set_xlabel("epoch")
    left.set_ylabel(report.metric)
    right.set_title("Validation loss (solid) and training loss (dashed)", fontsize=11)
    right.set_xlabel("epoch")
    right.set_ylabel("cross-entropy loss")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_confusion_matrix(report: StudyReport, path: Path) -> Path:
    """Counts annotated in each cell, colour = share of the true class (row-normalised)."""
    ev = report.best_model
    cm = np.asarray(ev.confusion_matrix, dtype=float)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    k = len(ev.classes)
    fig, ax = plt.subplots(figsize=(1.0 * k + 3, 0.85 * k + 2.5))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=9,
                    color="white" if share[i, j] > 0.55 else "black")  # fmt: skip
    ax.set_xticks(range(k), ev.classes, rotation=35, ha="right")
    ax.set_yticks(range(k), ev.classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(
        f"Best trial #{ev.trial} on {ev.split} (n={ev.n})\naccuracy {ev.accuracy:.3f}, macro-F1 {ev.macro_f1:.3f}",
        fontsize=11,
    )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    return _save(fig, path)


def plot_importances(report: StudyReport, path: Path) -> Path:
    imp = report.importances
    items = list((imp.values or {}).items())[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(items) + 2))
    ax.barh([k for k, _ in items], [v for _, v in items], color="tab:blue")
    for y, (_, v) in enumerate(items):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=9)
    ax.set_xlim(0, max([v for _, v in items] + [0.01]) * 1.15)
    ax.set_xlabel("importance (normalised to sum 1)")
    ax.set_ylabel("parameter")
    ax.set_title(f"Parameter importances for {report.metric}\n{imp.evaluator.split(' (')[0]}, completed trials",
                 fontsize=11)  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_replicates_by_depth(report: StudyReport, path: Path) -> Path:
    """Each depth's replicate values (dots), their mean and 95% interval; adjacent steps annotated with their call."""
    rep = report.replicates
    assert rep is not None
    c = rep.complexity
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = _depth_colours([d.depth for d in c.depths])
    rng = np.random.default_rng(0)
    for d in c.depths:
        ax.scatter(d.depth + rng.uniform(-0.08, 0.08, d.n), d.values, color=colours[d.depth], alpha=0.6, s=22,
                   zorder=3)  # fmt: skip
        if d.mean.defined:
            ax.errorbar([d.depth + 0.2], [d.mean.estimate], yerr=[[d.mean.estimate - d.mean.low],
                        [d.mean.high - d.mean.estimate]], fmt="o", color="black", capsize=5, zorder=4)  # fmt: skip
        else:
            ax.scatter([d.depth + 0.2], [d.mean.estimate], color="black", marker="o", zorder=4)
    top = max(max(d.values) for d in c.depths)
    for s in c.steps:
        ax.annotate(f"{100 * s.diff.estimate:+.1f} pt\n{s.call}", ((s.shallower + s.deeper) / 2 + 0.1, top),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    noise = rep.noise.sd
    sub = f"seed noise SD {100 * noise:.1f} points" if noise is not None else "seed noise unknown"
    ax.set_title(f"{report.metric} of seed replicates by depth: {c.headline}\n{sub}; mean and 95% t interval",
                 fontsize=11)  # fmt: skip
    depths = [d.depth for d in c.depths]
    ax.set_xticks(depths, [f"{d.depth}\n(n={d.n}, {d.epochs} ep)" for d in c.depths])
    ax.set_xlabel("depth (conv blocks)")
    ax.set_ylabel(f"{report.metric} at the last epoch")
    ax.margins(y=0.25)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_replicate_curves(report: StudyReport, path: Path) -> Path:
    """Left: mean metric per epoch with its 95% band, per depth. Right: the mean validation loss per depth."""
    rep = report.replicates
    assert rep is not None
    colours = _depth_colours([d.depth for d in rep.epochs.depths])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for d, row in zip(rep.complexity.depths, rep.epochs.depths, strict=True):
        colour = colours[d.depth]
        epochs = np.array([b.epoch for b in row.bands])
        mean = np.array([b.mean for b in row.bands])
        low = np.array([np.nan if b.low is None else b.low for b in row.bands])
        high = np.array([np.nan if b.high is None else b.high for b in row.bands])
        left.plot(epochs, mean, color=colour, linewidth=1.8, label=f"depth {d.depth} (n={d.n})")
        left.fill_between(epochs, low, high, color=colour, alpha=0.2)
        if row.plateau_epoch is not None and row.verdict == "up to epoch k":
            left.scatter([row.plateau_epoch], [mean[row.plateau_epoch - 1]], color=colour, marker="s", s=40,
                         edgecolor="black", zorder=4)  # fmt: skip
        loss = d.val_loss
        if not np.any(np.isnan(loss)):
            right.plot(epochs, loss.mean(0), color=colour, linewidth=1.5, label=f"depth {d.depth}")
            if row.overfit == "yes" and row.val_loss_min_epoch:
                right.scatter([row.val_loss_min_epoch], [loss.mean(0)[row.val_loss_min_epoch - 1]], color="red",
                              marker="v", s=30, zorder=4)  # fmt: skip
    left.set_title(f"{report.metric} per epoch: replicate mean and 95% band\nsquare = plateau epoch", fontsize=11)
    left.set_xlabel("epoch")
    left.set_ylabel(report.metric)
    left.legend(fontsize=8, loc="lower right")
    right.set_title("Mean validation loss of the replicates\nred = minimum before a clear rise (overfitting)",
                    fontsize=11)  # fmt: skip
    right.set_xlabel("epoch")
    right.set_ylabel("cross-entropy loss")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def write_plots(report: StudyReport, out_dir: Path) -> dict[str, Path]:
    """Write every plot the study has data for into ``out_dir``; returns name -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    done = [r for r in report.search_records if r.state == "complete" and r.value is not None]
    if done:
        paths["metric_by_depth"] = plot_metric_by_depth(report, out_dir / "metric_by_depth.png")
    if report.replicates is not None:
        paths["replicates_by_depth"] = plot_replicates_by_depth(report, out_dir / "replicates_by_depth.png")
        paths["replicate_curves"] = plot_replicate_curves(report, out_dir / "replicate_curves.png")
    if any(r.epochs_run for r in report.records):
        paths["metric_by_epochs"] = plot_metric_by_epochs(report, out_dir / "metric_by_epochs.png")
        paths["learning_curves"] = plot_learning_curves(report, out_dir / "learning_curves.png")
    if report.best_model is not None and not report.best_model.skipped:
        paths["confusion_matrix"] = plot_confusion_matrix(report, out_dir / "confusion_matrix.png")
    if report.importances.values:
        paths["importances"] = plot_importances(report, out_dir / "importances.png")
    return paths
