"""The crop path and the bundled detector: face / whole / none, upscaling, landmarks, the vendored YuNet file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesweep.errors import CheckpointError, UsageError
from facesweep.faces.align import DEFAULT_TEMPLATE
from facesweep.faces.crop import CropSpec, FaceCropper, upscale_factor
from facesweep.faces.detect import (
    YUNET_MODEL,
    YUNET_SHA256,
    Detection,
    HaarDetector,
    YuNetDetector,
    boxes_of,
    make_detector,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
YUNET_DIR = YUNET_MODEL.parent


class StubDetector:
    """Returns fixed detections in the coordinates of the image it is given; records the shapes it saw."""

    name = "yunet"

    def __init__(self, detections: list[Detection]) -> None:
        self.detections = detections
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, frame):
        self.shapes.append(frame.shape)
        return list(self.detections)

    def settings(self) -> dict:
        return {"name": self.name}


def test_the_vendored_yunet_is_the_published_file_with_its_licence():
    assert YUNET_MODEL.is_file()
    assert hashlib.sha256(YUNET_MODEL.read_bytes()).hexdigest() == YUNET_SHA256
    assert YUNET_SHA256 == "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
    licence = (YUNET_DIR / "LICENSE").read_text()
    assert "Apache License" in licence and "Shiqi Yu" in licence
    notice = (YUNET_DIR / "NOTICE.md").read_text()
    assert "Shiqi Yu" in notice and YUNET_SHA256 in notice


def test_make_detector_defaults_to_the_bundled_yunet_and_keeps_haar():
    detector = make_detector()
    assert isinstance(detector, YuNetDetector) and detector.model_path == YUNET_MODEL
    settings = detector.settings()
    assert settings["model_sha256"] == YUNET_SHA256 and settings["score_threshold"] == 0.6
    assert isinstance(make_detector("haar"), HaarDetector)
    assert isinstance(make_detector("haar", YUNET_MODEL), YuNetDetector)  # a model file implies YuNet
    assert make_detector().detect(np.full((240, 320, 3), 90, np.uint8)) == []
    with pytest.raises(UsageError, match="unknown detector 'dlib'"):
        make_detector("dlib")
    with pytest.raises(CheckpointError, match="YuNet model not found: nope.onnx"):
        make_detector(model_path="nope.onnx")
    with pytest.raises(UsageError, match="score threshold must be in"):
        make_detector(score_threshold=1.5)


def test_detection_scaling_and_boxes_for_the_tracker():
    marks = np.arange(10, dtype=np.float32).reshape(5, 2)
    d = Detection((10.4, 20.6, 30.0, 40.0), 0.9, marks).scaled(2.0)
    assert d.box == (20.8, 41.2, 60.0, 80.0) and d.landmarks[4, 1] == 18.0
    assert boxes_of([d]) == [(21, 41, 60, 80)]
    moved = d.moved_to((30.8, 41.2, 120.0, 80.0))  # shifted right by 10 and twice as wide
    assert moved.landmarks[0, 0] == pytest.approx(30.8 + (0.0 - 20.8) * 2)
    assert moved.landmarks[0, 1] == pytest.approx(d.landmarks[0, 1])
    assert Detection((0.0, 0.0, 5.0, 5.0), 1.0).moved_to((1, 2, 3, 4)).box == (1.0, 2.0, 3.0, 4.0)


def test_a_blank_tiny_crop_falls_back_to_the_whole_image_and_a_faceless_photo_is_none():
    cropper = FaceCropper(make_detector(), DEFAULT_TEMPLATE, size=48, channels=1)
    tiny = np.full((48, 48), 128, np.uint8)
    tiny[10:20, 10:20] = 250
    image, status = cropper.crop_largest(tiny)
    assert status == "whole" and image.shape == (48, 48, 1)
    np.testing.assert_array_equal(image[:, :, 0], tiny)  # the whole image, unchanged
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    assert cropper.crop_largest(noise) == (None, "none")


def test_small_images_are_upscaled_before_detection_and_coordinates_come_back():
    assert upscale_factor((48, 48)) == 3.0 and upscale_factor((96, 80)) == pytest.approx(1.8)
    assert upscale_factor((129, 60)) == 1.0 and upscale_factor((400, 300)) == 1.0
    # the stub reports a face in upscaled coordinates; the cropper maps it back to the 48x48 image
    marks = (DEFAULT_TEMPLATE.points_px(48) + 0.5) * 3 - 0.5  # the template, in the 144x144 copy's pixels
    stub = StubDetector([Detection((0.0, 0.0, 144.0, 144.0), 0.9, marks.astype(np.float32))])
    cropper = FaceCropper(stub, DEFAULT_TEMPLATE, size=48, channels=3)
    found = cropper.detect(np.zeros((48, 48, 3), np.uint8))
    assert stub.shapes == [(144, 144, 3)]
    np.testing.assert_allclose(found[0].landmarks, DEFAULT_TEMPLATE.points_px(48), atol=1e-4)
    np.testing.assert_allclose(found[0].box, (-1 / 3, -1 / 3, 48.0, 48.0), atol=1e-6)
    # a face already on the template is aligned with the identity: the crop is the image itself
    image = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    crop, status = cropper.crop_largest(image)
    assert status == "face" and crop.shape == (48, 48, 3)
    assert np.abs(crop.astype(int) - image[:, :, ::-1].astype(int)).max() <= 1  # BGR in, RGB out


def test_crop_detections_gives_one_input_per_face_in_each_models_geometry():
    frame = np.random.default_rng(2).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    faces = [
        Detection((40.0, 40.0, 80.0, 80.0), 0.9, (DEFAULT_TEMPLATE.points_px(80) + 40).astype(np.float32)),
        Detection((200.0, 60.0, 60.0, 60.0), 1.0, None),  # a Haar-style face: box crop
    ]
    emotion = FaceCropper(StubDetector([]), DEFAULT_TEMPLATE, size=48, channels=1)
    gender = FaceCropper(StubDetector([]), DEFAULT_TEMPLATE, size=96, channels=3)
    assert [c.shape for c in emotion.crop_detections(frame, faces)] == [(48, 48, 1)] * 2
    assert [c.shape for c in gender.crop_detections(frame, faces)] == [(96, 96, 3)] * 2


def test_crop_spec_key_changes_with_template_and_detector_settings():
    spec = CropSpec()
    other = DEFAULT_TEMPLATE.__class__(((0.3, 0.38),) + DEFAULT_TEMPLATE.points[1:])
    assert spec.key() != CropSpec(template=DEFAULT_TEMPLATE).key()
    assert spec.key(DEFAULT_TEMPLATE) != spec.key(other)
    assert spec.key() != CropSpec(score_threshold=0.7).key()
    assert spec.key()["detector"]["name"] == "yunet" and CropSpec(detector="haar").key()["detector"]["name"] == "haar"
    cropper = CropSpec(detector="haar").cropper(64, 3)
    assert cropper.template == DEFAULT_TEMPLATE and (cropper.size, cropper.channels) == (64, 3)


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_bundled_yunet_finds_and_aligns_a_real_face():
    path = sorted((DATA / "domain-dev" / "taiwanese").rglob("*.jpg"))[0]
    photo = cv2.imread(str(path))
    detections = make_detector().detect(photo)
    assert detections and detections[0].score > 0.8 and detections[0].landmarks.shape == (5, 2)
    right_eye, left_eye = detections[0].landmarks[:2]
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    crop, status = FaceCropper(make_detector(), DEFAULT_TEMPLATE, 48, 1).crop_largest(photo)
    assert status == "face" and crop.shape == (48, 48, 1)
    fer = sorted((DATA / "fer2013" / "val" / "happy").glob("*"))[:20]
    statuses = [FaceCropper(make_detector(), DEFAULT_TEMPLATE, 48, 1).crop_largest(cv2.imread(str(p)))[1] for p in fer]
    assert statuses.count("face") >= 15 and "none" not in statuses  # 48x48 crops: never dropped


def test_measure_template_takes_symmetric_medians_of_the_landmark_fractions():
    from facesweep.errors import DataError
    from facesweep.faces.align import symmetric
    from facesweep.faces.template import measure_template

    rng = np.random.default_rng(3)
    base = np.array([[0.30, 0.40], [0.72, 0.38], [0.49, 0.60], [0.33, 0.78], [0.66, 0.77]])

    class Jittered(StubDetector):
        def detect(self, frame):
            h, w = frame.shape[:2]
            marks = (base + rng.normal(0, 0.01, base.shape)) * [w, h] - 0.5
            return [Detection((0.0, 0.0, float(w), float(h)), 0.9, marks.astype(np.float32))]

    images = [np.zeros((200, 160, 3), np.uint8)] * 41
    template = measure_template(images, Jittered([]), source="stub")
    np.testing.assert_allclose(template.array(), symmetric(base), atol=0.006)
    assert template.n == 41 and template.source == "stub" and template.points[2][0] == 0.5
    with pytest.raises(DataError, match="needs landmarks"):
        measure_template(images, make_detector("haar"))
    with pytest.raises(DataError, match="found faces in only 0"):
        measure_template(images, StubDetector([]))
