"""Fine-tuning support: ``transfer_variables`` copies the trunk, keeps a fresh head, and refuses a mismatch."""

import jax
import numpy as np
import pytest

from facesweep.errors import ConfigError
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.model.train import transfer_variables


def test_transfer_copies_matching_layers_and_keeps_new_head() -> None:
    source_config = tiny("emotion")
    source = init_variables(model_for(source_config), jax.random.key(1))
    target_config = tiny("gender", image_size=48, channels=1)
    out = transfer_variables(source, target_config, seed=2)
    np.testing.assert_array_equal(out["params"]["conv0_0"]["kernel"], source["params"]["conv0_0"]["kernel"])
    np.testing.assert_array_equal(out["params"]["dense0"]["kernel"], source["params"]["dense0"]["kernel"])
    assert out["params"]["logits"]["kernel"].shape == (16, 2)  # 2 classes: fresh head, not the 7-way one


def test_transfer_between_unrelated_architectures_is_an_error() -> None:
    source = init_variables(model_for(tiny("emotion")), jax.random.key(1))
    target = tiny("gender", width=12, dense=(24,))  # every layer differs in shape (RGB input, other widths)
    with pytest.raises(ConfigError, match="no layer"):
        transfer_variables(source, target)
