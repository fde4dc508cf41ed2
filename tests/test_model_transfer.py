"""Fine-tuning support: ``transfer_variables`` copies the trunk, keeps a fresh head, and refuses a mismatch;
``interpolate_variables`` mixes a base and its fine-tune in weight space."""

import jax
import numpy as np
import pytest

from facesweep.errors import ConfigError
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.model.train import interpolate_variables, transfer_variables


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


def test_interpolation_runs_from_base_to_tuned() -> None:
    config = tiny("emotion")
    base = init_variables(model_for(config), jax.random.key(1))
    tuned = init_variables(model_for(config), jax.random.key(2))
    kernel = ("params", "conv0_0", "kernel")

    def leaf(tree: dict) -> np.ndarray:
        return np.asarray(tree[kernel[0]][kernel[1]][kernel[2]])

    np.testing.assert_allclose(leaf(interpolate_variables(base, tuned, 0.0)), leaf(base))
    np.testing.assert_allclose(leaf(interpolate_variables(base, tuned, 1.0)), leaf(tuned))
    quarter = interpolate_variables(base, tuned, 0.25)
    np.testing.assert_allclose(leaf(quarter), 0.75 * leaf(base) + 0.25 * leaf(tuned), rtol=1e-6, atol=1e-7)
    stats = jax.tree.leaves(quarter["batch_stats"])
    pairs = zip(jax.tree.leaves(base["batch_stats"]), jax.tree.leaves(tuned["batch_stats"]), strict=True)
    expected = [0.75 * np.asarray(a) + 0.25 * np.asarray(b) for a, b in pairs]
    assert stats and all(np.allclose(s, e) for s, e in zip(stats, expected, strict=True))


def test_interpolation_refuses_other_networks_and_bad_alpha() -> None:
    base = init_variables(model_for(tiny("emotion")), jax.random.key(1))
    other = init_variables(model_for(tiny("emotion", dense=(24,))), jax.random.key(1))
    with pytest.raises(ConfigError, match="different networks"):
        interpolate_variables(base, other, 0.5)
    with pytest.raises(ConfigError, match="alpha"):
        interpolate_variables(base, base, 1.5)
