"""The CNN family: output shapes per depth, hand-counted parameters, presets, the custom max-pool gradient and
the on-device augmentation."""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from facesweep.errors import ConfigError
from facesweep.model.augment import augment_batch
from facesweep.model.cnn import count_params, feature_shape, init_variables, model_for
from facesweep.model.config import tiny
from facesweep.model.pool import max_pool_2x2
from facesweep.model.presets import PRESETS, get_preset


@pytest.mark.parametrize(("depth", "side"), [(1, 24), (2, 12), (3, 6), (4, 3), (5, 1)])
def test_output_shape_per_depth(depth: int, side: int) -> None:
    config = tiny(depth=depth, width=4, dense=(8,))
    model = model_for(config)
    variables = init_variables(model, jax.random.key(0))
    logits = model.apply(variables, jnp.zeros((3, 48, 48, 1), jnp.uint8), train=False)
    assert logits.shape == (3, 7)
    assert feature_shape(config)[:2] == (side, side)


def test_parameter_count_by_hand() -> None:
    # tiny(): 48x48x1 -> conv 3x3x1x8 (no bias) + BN(8) -> pool -> conv 3x3x8x16 + BN(16) -> pool -> 12x12x16
    conv = 3 * 3 * 1 * 8 + 2 * 8 + 3 * 3 * 8 * 16 + 2 * 16
    dense = 12 * 12 * 16 * 16 + 16
    logits = 16 * 7 + 7
    assert count_params(tiny()) == conv + dense + logits == 38271
    # dense=() global-average-pools the last block straight into the logits
    assert count_params(tiny(dense=())) == conv + 16 * 7 + 7
    # two convs per block add a 3x3xCxC conv + BN per block
    extra = 3 * 3 * 8 * 8 + 2 * 8 + 3 * 3 * 16 * 16 + 2 * 16
    assert count_params(tiny(convs_per_block=2)) == conv + dense + logits + extra


def test_training_fields_share_one_module() -> None:
    assert model_for(tiny(epochs=1, learning_rate=1e-3)) is model_for(tiny(epochs=9, learning_rate=1e-2))
    assert model_for(tiny(depth=2)) is not model_for(tiny(depth=3))


def test_presets() -> None:
    assert set(PRESETS) == {"seed-emotion-1", "seed-emotion-2", "seed-emotion-3", "seed-gender"}
    one = get_preset("seed-emotion-1")
    assert one.block_widths() == (64, 128, 256, 512) and one.dense == (256, 512)
    assert (get_preset("seed-emotion-2").depth, len(get_preset("seed-emotion-2").dense)) == (3, 1)
    assert (get_preset("seed-emotion-3").depth, len(get_preset("seed-emotion-3").dense)) == (2, 1)
    gender = get_preset("seed-gender")
    assert (gender.depth, gender.input_shape, len(gender.dense)) == (6, (96, 96, 3), 1)
    for config in PRESETS.values():
        config.validate()
    with pytest.raises(ConfigError, match="choose one of: seed-emotion-1, seed-emotion-2"):
        get_preset("seed-emotion-9")
    with pytest.raises(ConfigError, match="depth must be 1..5 for 48x48 input"):
        dataclasses.replace(one, depth=6).validate()


def _weighted_sum(pool):
    # A non-uniform cotangent so a gradient routed to the wrong window element shows up.
    return lambda x: jnp.sum(pool(x) * (1 + jnp.arange(pool(x).size, dtype=x.dtype)).reshape(pool(x).shape))


def _reference_pool(x: jax.Array) -> jax.Array:
    return nn.max_pool(x, (2, 2), strides=(2, 2), padding="VALID")


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (1, 7, 9, 2)])
def test_max_pool_matches_flax_forward_and_gradient(shape: tuple[int, ...]) -> None:
    x = jax.random.normal(jax.random.key(1), shape)
    np.testing.assert_array_equal(max_pool_2x2(x), _reference_pool(x))
    np.testing.assert_array_equal(jax.grad(_weighted_sum(max_pool_2x2))(x), jax.grad(_weighted_sum(_reference_pool))(x))


def test_max_pool_ties_go_to_the_first_maximum_like_select_and_scatter() -> None:
    # Integers 0..2 tie often; after ReLU whole windows of zeros tie too.
    x = jnp.round(jax.random.uniform(jax.random.key(2), (2, 6, 6, 4)) * 2)
    x = x.at[0, :2, :2, 0].set(1.0)  # a window of four equal values
    grad = jax.grad(_weighted_sum(max_pool_2x2))(x)
    np.testing.assert_array_equal(grad, jax.grad(_weighted_sum(_reference_pool))(x))
    window = grad[0, :2, :2, 0]
    assert window[0, 0] != 0 and float(jnp.sum(window != 0)) == 1  # all of it on the top-left element


def test_augment_keeps_shape_and_range_and_varies_per_image() -> None:
    images = jnp.asarray(np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)), jnp.uint8)
    out = augment_batch(images, jax.random.key(0))
    assert out.shape == images.shape and out.dtype == jnp.float32
    assert float(out.min()) >= 0 and float(out.max()) <= 255
    assert not np.allclose(out, augment_batch(images, jax.random.key(1)))
    # A flat image stays flat whatever the warp (edge replication), up to brightness/contrast.
    flat = augment_batch(jnp.full((2, 48, 48, 3), 100, jnp.uint8), jax.random.key(3))
    assert float(jnp.ptp(flat[0])) < 1e-3


def test_hash_dropout_rate_scale_and_determinism() -> None:
    from facesweep.model.cnn import Dropout

    x = jnp.ones((4, 32, 32, 16))
    layer = Dropout(0.25)
    out = layer.apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)})
    kept = np.asarray(out) != 0
    assert abs(kept.mean() - 0.75) < 0.01  # 65k draws: the share kept is within 1% of 1 - rate
    np.testing.assert_allclose(np.asarray(out)[kept], 1 / 0.75, rtol=1e-6)  # inverted dropout keeps the mean
    again = layer.apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)})
    other = layer.apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(1)})
    np.testing.assert_array_equal(out, again)
    assert 0.5 < np.mean(np.asarray(other) != 0) and not np.array_equal(out, other)
    # neighbouring elements are not correlated (a weak hash would keep whole runs together)
    flat = kept.reshape(-1)
    assert abs(np.mean(flat[1:] == flat[:-1]) - (0.75**2 + 0.25**2)) < 0.01
    np.testing.assert_array_equal(layer.apply({}, x, deterministic=True), x)


@pytest.mark.parametrize("channels", [3, 40])  # below and above MIN_CHANNELS (on CPU)
def test_conv3x3_matches_flax_conv_and_its_gradients(channels: int) -> None:
    from facesweep.model.conv import Conv3x3

    x = jax.random.normal(jax.random.key(0), (2, 7, 6, channels))
    ours, ref = Conv3x3(5), nn.Conv(5, (3, 3), padding="SAME", use_bias=False)
    variables = ref.init(jax.random.key(1), x)
    assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape, variables)

    def loss(module):
        return lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)))

    np.testing.assert_allclose(ours.apply(variables, x), ref.apply(variables, x), rtol=1e-5, atol=1e-5)
    for got, want in zip(jax.grad(loss(ours), argnums=(0, 1))(variables, x),
                         jax.grad(loss(ref), argnums=(0, 1))(variables, x), strict=True):  # fmt: skip
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), got, want)


def test_conv3x3_custom_gradient_directly() -> None:
    # The custom VJP itself, whatever backend picks for the module.
    from facesweep.model.conv import _conv, conv3x3

    x = jax.random.normal(jax.random.key(0), (2, 6, 5, 33))
    k = jax.random.normal(jax.random.key(1), (3, 3, 33, 4))
    ours = jax.grad(lambda x, k: jnp.sum(jnp.sin(conv3x3(x, k))), argnums=(0, 1))(x, k)
    reference = jax.grad(lambda x, k: jnp.sum(jnp.sin(_conv(x, k))), argnums=(0, 1))(x, k)
    for got, want in zip(ours, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
