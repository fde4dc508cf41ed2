"""Alignment: known landmarks land on the template; the similarity fit; templates round-trip; box crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facesweep.errors import ConfigError
from facesweep.faces.align import (
    DEFAULT_TEMPLATE,
    Template,
    align_face,
    box_crop,
    box_landmarks,
    similarity_transform,
)


def rotation_scale(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array(
        [[scale * np.cos(a), -scale * np.sin(a), shift[0]], [scale * np.sin(a), scale * np.cos(a), shift[1]]]
    )


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


@pytest.mark.parametrize("rotation", [True, False])
def test_similarity_transform_recovers_a_known_transform(rotation):
    src = np.array([[30.0, 40], [70, 41], [50, 60], [35, 80], [66, 79]])
    known = rotation_scale(17.0 if rotation else 0.0, 1.7, (12.5, -4.0))
    fitted = similarity_transform(src, apply(known, src), rotation=rotation)
    np.testing.assert_allclose(fitted, known, atol=1e-9)


def test_similarity_transform_is_least_squares_not_exact():
    src = np.array([[30.0, 40], [70, 41], [50, 60], [35, 80], [66, 79]])
    dst = apply(rotation_scale(5, 1.0, (0, 0)), src) + np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1], [0, 0]])
    fitted = similarity_transform(src, dst)
    residual = np.abs(apply(fitted, src) - dst).max()
    assert 0.3 < residual < 1.5  # no exact fit exists; the fit spreads the error
    with pytest.raises(ValueError, match="coincide"):
        similarity_transform(np.ones((5, 2)), dst)


def landmark_channels(points: np.ndarray, shape: tuple[int, int], radius: int) -> list[np.ndarray]:
    """One image per landmark: a bright smooth disk centred on it (sub-pixel via a blurred, shifted drawing)."""
    out = []
    for x, y in points:
        image = np.zeros(shape, np.float32)
        cv2.circle(image, (int(round(x * 16)), int(round(y * 16))), radius * 16, 1.0, -1, cv2.LINE_AA, shift=4)
        out.append(cv2.GaussianBlur(image, (0, 0), radius / 2))
    return out


def centroid(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float64)
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([(xs * image).sum(), (ys * image).sum()]) / image.sum()


@pytest.mark.parametrize(
    ("angle", "scale", "size"),
    [(0.0, 1.0, 96), (20.0, 1.3, 96), (-35.0, 0.8, 96), (12.0, 2.5, 48)],  # the last one shrinks 5x: area path
)
def test_a_rotated_scaled_face_aligns_onto_the_template_within_a_pixel(angle, scale, size):
    template = DEFAULT_TEMPLATE
    # a "face" whose landmarks sit on the template in a 160-px square, then rotated, scaled and shifted in a frame
    face_points = template.points_px(160) + 120.0
    pose = rotation_scale(angle, scale, (0.0, 0.0))
    centre = face_points.mean(0)
    pose[:, 2] = np.array([300.0, 260.0]) - pose[:, :2] @ centre
    landmarks = apply(pose, face_points)
    frame_shape = (560, 640)
    channels = landmark_channels(landmarks, frame_shape, radius=int(6 * scale))
    target = template.points_px(size)
    for channel, want in zip(channels, target, strict=True):
        aligned = align_face((channel * 255).astype(np.uint8), landmarks, template, size)
        assert aligned.shape == (size, size) and aligned.dtype == np.uint8
        got = centroid(aligned)
        assert np.abs(got - want).max() < 1.0, (got, want)


def test_align_face_keeps_channels_and_replicates_borders():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :, 2] = 200  # red in BGR
    landmarks = np.array([[2.0, 2], [12, 2], [7, 7], [3, 11], [11, 11]])  # a face in the corner: warp goes outside
    crop = align_face(frame, landmarks, DEFAULT_TEMPLATE, 64)
    assert crop.shape == (64, 64, 3)
    assert (crop[:, :, 2] == 200).all() and (crop[:, :, :2] == 0).all()  # replicated, not black
    gray = align_face(frame[:, :, 2:], landmarks, DEFAULT_TEMPLATE, 32)
    assert gray.shape == (32, 32, 1)


def test_box_crop_puts_the_box_landmarks_on_the_template_without_rotation():
    box = (200.0, 100.0, 120.0, 120.0)
    guessed = box_landmarks(box, "haar")
    size = 64
    channels = landmark_channels(guessed, (480, 640), radius=5)
    fit = similarity_transform(guessed, DEFAULT_TEMPLATE.points_px(size), rotation=False)
    assert abs(fit[0, 1]) < 1e-12 and abs(fit[1, 0]) < 1e-12 and fit[0, 0] == pytest.approx(fit[1, 1])
    for channel, want in zip(channels, apply(fit, guessed), strict=True):
        got = centroid(box_crop((channel * 255).astype(np.uint8), box, DEFAULT_TEMPLATE, size))
        assert np.abs(got - want).max() < 1.0


def test_template_round_trips_and_rejects_bad_points():
    again = Template.from_dict(DEFAULT_TEMPLATE.to_dict())
    assert again == DEFAULT_TEMPLATE
    assert DEFAULT_TEMPLATE.n > 1000 and "fer2013" in DEFAULT_TEMPLATE.source
    with pytest.raises(ConfigError, match="5 finite"):
        Template(((0.3, 0.4),) * 4)
    with pytest.raises(ConfigError, match="left eye must lie right"):
        Template(((0.7, 0.4), (0.3, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8)))
    with pytest.raises(ConfigError, match="points"):
        Template.from_dict({"n": 3})
