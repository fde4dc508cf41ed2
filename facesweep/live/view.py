"""The live view as pure functions of state: ``render_*(state) -> renderable``; nothing here reads a clock or a camera.

    with Live(render_view(state), console=console, auto_refresh=False) as live:
        ...  live.update(render_view(state, preview=True), refresh=True)
    console.print(render_summary(summary))

Tests render these to ``Console(record=True, width=100, color_system=None, force_terminal=False)`` and compare
text. The per-frame view is one ``Text`` laid out here in fixed columns, not a rich ``Table``: a table of four
faces took ~8 ms to lay out and draw on every refresh (measuring every cell, twice), the text takes under 1 ms.
``render_preview`` draws the frame as half blocks (``▀``: foreground = upper pixel, background = lower pixel), so a
user over SSH sees what is being detected.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from rich import box as rich_box
from rich.color import Color
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from facesweep.live.loop import Face, LiveState, Summary

TASK_TITLES = {"emotion": "expression", "gender": "gender"}
LABEL_STYLES = {
    "angry": "red",
    "disgust": "green4",
    "fear": "magenta",
    "happy": "bright_green",
    "sad": "blue",
    "surprise": "yellow",
    "neutral": "white",
    "man": "cyan",
    "woman": "bright_magenta",
}
BAR_WIDTH = 8  # characters of the top-probability bar
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
BOX_COLOUR = (0, 255, 0)  # BGR of the face boxes drawn on the preview


def render_bar(p: float, width: int = BAR_WIDTH) -> str:
    """``p`` in [0, 1] as a bar of ``width`` characters with eighth-block resolution."""
    eighths = int(round(max(0.0, min(1.0, p)) * width * 8))
    full, rest = divmod(eighths, 8)
    text = "█" * full + (PARTIAL_BLOCKS[rest] if rest and full < width else "")
    return text.ljust(width)


def _percent(p: float) -> str:
    return f"{int(round(p * 100)):d}%"


def render_header(state: LiveState) -> Text:
    """One line: source, resolution, FPS, latency p50/p95, faces, frame index."""
    fps = state.fps
    p50, p95 = state.recent_latency(50), state.recent_latency(95)
    parts = [
        ("live", "bold"),
        (state.source or "?", ""),
        (f"{state.resolution[0]}x{state.resolution[1]}" if state.resolution else "-x-", ""),
        (f"{fps:.1f} fps" if fps is not None else "-- fps", ""),
        (f"latency p50 {p50:.0f} / p95 {p95:.0f} ms" if p50 is not None else "latency --", ""),
        (f"{len(state.faces)} face{'' if len(state.faces) == 1 else 's'}", "bold"),
        (f"frame {state.frame_index + 1}", "dim"),
    ]
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (part, style) in enumerate(parts):
        if i:
            text.append(" · ", style="dim")
        text.append(part, style=style)
    return text


def _top(classes: Sequence[str], probs: np.ndarray) -> tuple[str, float]:
    index = int(np.argmax(probs))
    return classes[index], float(probs[index])


Cell = tuple[tuple[str, str], ...]  # one table cell as (text, style) pieces


def render_faces(state: LiveState) -> RenderableType:
    """A table with one row per face: id, box, each model's top label with probability and bar, all probabilities.

    Laid out as text: columns as wide as their widest cell, two spaces apart, a rule under the header.
    """
    if not state.faces:
        return Text("no face in view", style="dim")
    header = ["id", "box (x,y wxh)"]
    right = [True, False]
    for task, classes in state.heads:
        header.append(TASK_TITLES.get(task, task))
        right.append(False)
        if len(classes) > 2:
            header.extend(name[:3] for name in classes)
            right.extend(True for _ in classes)
    rows = [_face_cells(face, state.heads) for face in state.faces]
    lengths = [[sum(len(piece) for piece, _ in cell) for cell in row] for row in rows]
    widths = [max(len(name), *(row[i] for row in lengths)) for i, name in enumerate(header)]
    last = len(header) - 1
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append("  ".join(n.rjust(w) if r else n.ljust(w) for n, w, r in zip(header, widths, right, strict=True)),
                style="bold")
    text.append("\n" + "─" * (sum(widths) + 2 * last))
    for row, row_lengths in zip(rows, lengths, strict=True):
        text.append("\n")
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - row_lengths[i])
            if right[i]:
                text.append(pad)
            for piece, style in cell:
                text.append(piece, style=style or None)
            if i < last:
                text.append("  " if right[i] else pad + "  ")
    return text


def _face_cells(face: Face, heads: Sequence[tuple[str, tuple[str, ...]]]) -> list[Cell]:
    x, y, w, h = face.box
    cells: list[Cell] = [((str(face.id), ""),), ((f"{x},{y} {w}x{h}", ""),)]
    for task, classes in heads:
        probs = face.probs.get(task)
        many = len(classes) > 2
        if probs is None:
            cells.extend((("-", ""),) for _ in range(1 + len(classes) * many))
            continue
        label, p = _top(classes, probs)
        style = LABEL_STYLES.get(label, "")
        bold = f"bold {style}".strip()
        if many:
            cells.append(((f"{label:<8}", bold), (f" {_percent(p):>4} ", ""), (render_bar(p), style)))
            best = int(np.argmax(probs))
            cells.extend(
                ((f"{int(round(float(q) * 100)):d}", "bold" if i == best else "dim"),) for i, q in enumerate(probs)
            )
        else:
            cells.append(((label, bold), (f" {_percent(p)}", "")))
    return cells


MAX_CELL_STYLES = 20_000  # preview cell styles kept across refreshes (a 48x18 preview uses < 2,000 a frame)
_CELL_STYLES: dict[bytes, Style] = {}


class HalfBlocks:
    """An RGB image ``(2R, W, 3)`` drawn as R lines of W ``▀`` cells (fg = upper pixel, bg = lower pixel).

    Yields one segment per run of equal cells with cached styles: parsing an "rgb(...)" style string per
    cell made a 48-column preview cost ~10 ms a refresh. The styles are kept across refreshes (rich caches each
    style's escape codes on the style object), so a mostly still picture costs little to redraw.
    """

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.rgb.shape[1], self.rgb.shape[1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        styles = _CELL_STYLES
        if len(styles) > MAX_CELL_STYLES:
            styles.clear()
        # 5 bits a channel (bit-replicated, so 0 and 255 stay exact): invisible at this size, longer runs
        rgb = (self.rgb & 0xF8) | (self.rgb >> 5)
        for row in range(0, rgb.shape[0] - 1, 2):
            cells = np.ascontiguousarray(np.concatenate([rgb[row], rgb[row + 1]], axis=1))  # (W, 6)
            edges = [0, *(np.flatnonzero(np.any(cells[1:] != cells[:-1], axis=1)) + 1).tolist(), len(cells)]
            for start, stop in zip(edges[:-1], edges[1:], strict=False):
                key = cells[start].tobytes()
                style = styles.get(key)
                if style is None:
                    t, b = cells[start].tolist()[:3], cells[start].tolist()[3:]
                    style = styles[key] = Style(color=Color.from_rgb(*t), bgcolor=Color.from_rgb(*b))
                yield Segment("▀" * (stop - start), style)
            yield Segment.line()

    @property
    def plain(self) -> str:
        return "\n".join("▀" * self.rgb.shape[1] for _ in range(self.rgb.shape[0] // 2))


def render_preview(frame: np.ndarray, faces: Sequence[Face], width: int = 48) -> HalfBlocks:
    """The frame at ``width`` columns as ``▀`` half blocks (2 pixels a cell), with the face boxes drawn in."""
    height_px = max(2, int(round(frame.shape[0] * width / frame.shape[1] / 2)) * 2)
    small = cv2.resize(frame, (width, height_px), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    sx, sy = width / frame.shape[1], height_px / frame.shape[0]
    for face in faces:
        x, y, w, h = face.box
        p0 = (int(x * sx), int(y * sy))
        p1 = (max(p0[0], int((x + w) * sx) - 1), max(p0[1], int((y + h) * sy) - 1))
        cv2.rectangle(small, p0, p1, BOX_COLOUR, 1)
    return HalfBlocks(np.ascontiguousarray(small[:, :, ::-1]))


def render_view(state: LiveState, *, preview: bool = False, preview_width: int = 48) -> Group:
    """Header, optional preview, faces table: what ``rich.live.Live`` shows on every refresh."""
    parts: list[RenderableType] = [render_header(state)]
    if preview and state.frame is not None:
        parts.append(render_preview(state.frame, state.faces, preview_width))
    parts.append(render_faces(state))
    if state.ended:
        parts.append(Text(f"ended: {state.ended}", style="dim"))
    return Group(*parts)


def render_summary(summary: Summary) -> Group:
    """End of run: frames, mean FPS, latency, first-prediction time; each face's labels over its frames."""
    line = Text()
    line.append(f"{summary.frames} frames", style="bold")
    line.append(f" in {summary.elapsed_s:.1f} s, mean {summary.mean_fps:.1f} fps")
    if summary.latency_p50_ms is not None:
        line.append(f", latency p50 {summary.latency_p50_ms:.0f} ms p95 {summary.latency_p95_ms:.0f} ms")
    if summary.first_prediction_s is not None:
        line.append(f", first prediction {summary.first_prediction_s:.1f} s after start")
    parts: list[RenderableType] = [line]
    if summary.ended:
        parts.append(Text(f"{summary.source}: {summary.ended}", style="dim"))
    if summary.new_people:
        noun = "person" if summary.new_people == 1 else "people"
        parts.append(Text(f"{summary.new_people} new {noun} in a tracked face's place: each got a new face id",
                          style="dim"))  # fmt: skip
    if summary.faces:
        parts.append(Text("per face: the share of its frames on which each label was on top", style="dim"))
    if not summary.faces:
        parts.append(Text("no face was seen", style="dim"))
        return Group(*parts)
    tasks = list(summary.faces[0].distribution)
    table = Table(box=rich_box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False)
    table.add_column("face", justify="right")
    table.add_column("frames", justify="right")
    for task in tasks:
        table.add_column(f"{TASK_TITLES.get(task, task)} over time")
    for face in summary.faces:
        cells = [str(face.id), str(face.frames)]
        for task in tasks:
            shares = sorted(face.distribution.get(task, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            cells.append("  ".join(f"{label} {_percent(share)}" for label, share in shares) or "-")
        table.add_row(*cells)
    parts.append(table)
    return Group(*parts)
