"""The live view, rendered from hand-built state to a recording console (fixed width, no colour) as text."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from rich.console import Console

from facesweep.live.loop import Face, FaceSummary, LiveState, Summary
from facesweep.live.view import render_bar, render_preview, render_summary, render_view
from facesweep.tasks import EMOTION_CLASSES, GENDER_CLASSES

HEADS = (("emotion", EMOTION_CLASSES), ("gender", GENDER_CLASSES))


def as_text(renderable) -> str:
    console = Console(record=True, width=100, color_system=None, force_terminal=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def two_faces(heads=HEADS) -> LiveState:
    faces = [
        Face(1, (24, 102, 278, 278), {"emotion": np.array([.02, .01, .05, .81, .03, .06, .02]),
                                      "gender": np.array([.12, .88])}, True),
        Face(2, (360, 158, 274, 274), {"emotion": np.array([.1, .05, .05, .1, .3, .05, .35]),
                                       "gender": np.array([.7, .3])}, False),
    ]
    tasks = {task for task, _ in heads}
    for face in faces:
        face.probs = {k: v for k, v in face.probs.items() if k in tasks}
    return LiveState(
        source="video faces.avi",
        heads=heads,
        resolution=(640, 480),
        frame_index=41,
        faces=faces,
        frame_done=deque([1.0, 1.5, 2.0]),  # 2 frames in 1 s
        latencies_ms=[10.0, 12.0, 20.0, 30.0],
    )


def test_view_with_both_models():
    assert as_text(render_view(two_faces())) == "\n".join([
        "live · video faces.avi · 640x480 · 2.0 fps · latency p50 16 / p95 28 ms · 2 faces · frame 42",
        "id  box (x,y wxh)    expression              ang  dis  fea  hap  sad  sur  neu  gender",
        "─────────────────────────────────────────────────────────────────────────────────────────",
        " 1  24,102 278x278   happy     81% ██████▌     2    1    5   81    3    6    2  woman 88%",
        " 2  360,158 274x274  neutral   35% ██▊        10    5    5   10   30    5   35  man 70%",
    ])


def test_view_leaves_out_a_missing_model():
    text = as_text(render_view(two_faces(heads=(("gender", GENDER_CLASSES),))))
    assert text == "\n".join([
        "live · video faces.avi · 640x480 · 2.0 fps · latency p50 16 / p95 28 ms · 2 faces · frame 42",
        "id  box (x,y wxh)    gender",
        "──────────────────────────────",
        " 1  24,102 278x278   woman 88%",
        " 2  360,158 274x274  man 70%",
    ])


def test_view_before_any_frame_and_without_faces():
    state = LiveState(source="camera 0", heads=HEADS)
    assert as_text(render_view(state)) == "\n".join([
        "live · camera 0 · -x- · -- fps · latency -- · 0 faces · frame 0",
        "no face in view",
    ])
    state.ended = "end of video"
    assert as_text(render_view(state)).endswith("no face in view\nended: end of video")


def test_summary():
    summary = Summary(
        "video faces.avi", 300, 9.5, 31.6, 14.2, 25.9, 1.84, "end of video",
        [FaceSummary(1, 300, {"emotion": {"happy": .62, "neutral": .3, "sad": .08}, "gender": {"woman": 1.0}}),
         FaceSummary(2, 120, {"emotion": {"neutral": 1.0}, "gender": {"man": .75, "woman": .25}})],
    )
    assert as_text(render_summary(summary)) == "\n".join([
        "300 frames in 9.5 s, mean 31.6 fps, latency p50 14 ms p95 26 ms, first prediction 1.8 s after start",
        "video faces.avi: end of video",
        "per face: the share of its frames on which each label was on top",
        "face  frames  expression over time            gender over time",
        "────────────────────────────────────────────────────────────────",
        "   1     300  happy 62%  neutral 30%  sad 8%  woman 100%",
        "   2     120  neutral 100%                    man 75%  woman 25%",
    ])


def test_summary_without_faces():
    summary = Summary("camera 0", 0, 0.0, 0.0, None, None, None, "interrupted (Ctrl-C)", [])
    assert as_text(render_summary(summary)) == "\n".join([
        "0 frames in 0.0 s, mean 0.0 fps",
        "camera 0: interrupted (Ctrl-C)",
        "no face was seen",
    ])


def test_summary_counts_new_people_in_tracked_places():
    summary = Summary("video v.avi", 10, 1.0, 10.0, None, None, None, "end of video", [], new_people=3)
    assert "3 new people in a tracked face's place: each got a new face id" in as_text(render_summary(summary))


@pytest.mark.parametrize(
    ("p", "bar"),
    [(0.0, "        "), (1.0, "████████"), (0.5, "████    "), (0.81, "██████▌ "), (1.7, "████████"), (-1, "        ")],
)
def test_bar(p, bar):
    assert render_bar(p) == bar


def test_preview_is_half_blocks_of_the_frame_with_colours():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:240] = (0, 0, 255)  # red top half (BGR)
    state = two_faces()
    preview = render_preview(frame, state.faces, width=40)
    text = as_text(preview)
    assert text == preview.plain == "\n".join(["▀" * 40] * 15)  # 40 x 30 pixels -> 15 rows of 40 cells
    colour = Console(record=True, width=100, color_system="truecolor", force_terminal=True)
    colour.print(preview)
    ansi = colour.export_text(styles=True)
    assert "38;2;255;0;0;48;2;255;0;0m" in ansi  # a red cell: red above, red below
    assert "38;2;0;255;0" in ansi or "48;2;0;255;0" in ansi  # the green face boxes
    assert "▀" * 40 not in as_text(render_view(state, preview=True))  # no frame kept: no preview
    state.frame = frame
    assert "▀" * 40 in as_text(render_view(state, preview=True))
