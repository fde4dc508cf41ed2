"""A model's crop template: stored in config.json under inference.crop, DEFAULT_TEMPLATE when absent."""

from __future__ import annotations

import json
from dataclasses import replace

import jax
import pytest

from facesweep.errors import CheckpointError
from facesweep.faces.align import DEFAULT_TEMPLATE, Template
from facesweep.model.artifacts import TrainedModel, load_model, save_model
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.tasks import EMOTION_CLASSES

LOOSE = Template(((0.33, 0.42), (0.67, 0.42), (0.5, 0.58), (0.36, 0.72), (0.64, 0.72)), 7, "test", "yunet")


def tiny_model() -> TrainedModel:
    config = tiny()
    return TrainedModel(config, EMOTION_CLASSES, init_variables(model_for(config), jax.random.key(0)))


def test_crop_template_round_trips_through_config_json(tmp_path):
    model = tiny_model()
    assert model.crop_template == DEFAULT_TEMPLATE  # no stored template: the documented default
    plain = load_model(save_model(tmp_path / "plain", model))
    assert plain.crop is None and plain.crop_template == DEFAULT_TEMPLATE
    assert "crop" not in json.loads((tmp_path / "plain" / "config.json").read_text())["inference"]
    model.crop = {"template": LOOSE.to_dict(), "detector": "yunet"}
    loaded = load_model(save_model(tmp_path / "m", model))
    assert loaded.crop_template == LOOSE and loaded.crop["detector"] == "yunet"
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    assert meta["inference"]["crop"]["template"]["points"][0] == [0.33, 0.42]


def test_a_broken_stored_template_is_a_checkpoint_error(tmp_path):
    model = replace(tiny_model(), crop={"template": {"points": [[0.5, 0.5]]}})
    path = save_model(tmp_path / "m", model)
    with pytest.raises(CheckpointError, match="inference.crop is invalid"):
        load_model(path)


@pytest.mark.parametrize(("name", "source"), [("emotion", "fer2013/train"), ("gender", "gender training split")])
def test_shipped_models_carry_their_measured_templates(name, source):
    meta = json.loads(_pretrained(name).read_text())
    template = Template.from_dict(meta["inference"]["crop"]["template"])
    assert template.source.startswith(source) and template.n > 1000
    if name == "emotion":
        assert template == DEFAULT_TEMPLATE


def _pretrained(name):
    from facesweep.model.artifacts import PRETRAINED_DIR

    return PRETRAINED_DIR / name / "config.json"
