"""The CNN family: one Flax linen module whose shape is read from the frozen ``Config``.

A block is ``convs_per_block`` x (3x3 conv -> batch norm -> ReLU), then a 2x2 max-pool and dropout; block ``i``
has ``config.block_widths()[i]`` channels. The head flattens the last feature map and applies the dense layers
(Dense -> ReLU, dropout before each), then the logits; with ``dense=()`` it global-average-pools instead, so a
deep-but-narrow net does not pay for a huge flatten.

Images arrive as ``uint8 (N, H, W, C)`` (or float in [0, 255] after on-device augmentation) and are scaled to
[0, 1] here, inside ``__call__``, so training, evaluation and the live camera share one normalisation path.

    >>> model = CNN(tiny())
    >>> variables = init_variables(model, jax.random.key(0))
    >>> logits = model.apply(variables, images, train=False)
"""

from __future__ import annotations

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from facesweep.model.config import Config, architecture_fields
from facesweep.model.conv import Conv3x3
from facesweep.model.pool import max_pool_2x2

BN_MOMENTUM = 0.9  # running-statistics decay; 0.9 (not flax's 0.99) so short runs evaluate well
BN_EPSILON = 1e-5


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser: a cheap, well-mixed bijection on uint32."""
    h = (h ^ (h >> 16)) * jnp.uint32(0x85EBCA6B)
    h = (h ^ (h >> 13)) * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


class Dropout(nn.Module):
    """Inverted dropout whose mask is a counter-based hash of (element index, per-call seed).

    Why not ``nn.Dropout``: ``jax.random.bernoulli`` on activation-sized tensors costs ~23 ms per 2.4M-element
    mask on XLA:CPU (threefry) and added ~4 s to the train step's compile; this mask costs ~0.25 ms and compiles
    to a few fused integer ops, on CPU and GPU alike. The seed still comes from the module's ``dropout`` rng, so
    masks differ per step and per layer and are reproducible from the train seed.
    """

    rate: float

    @nn.compact
    def __call__(self, x: jax.Array, *, deterministic: bool) -> jax.Array:
        if deterministic or self.rate <= 0:
            return x
        seed = _fmix32(jax.random.bits(self.make_rng("dropout"), (), jnp.uint32))
        index = jax.lax.iota(jnp.uint32, x.size).reshape(x.shape)
        bits = _fmix32(index * jnp.uint32(0x9E3779B1) + seed)
        threshold = jnp.uint32(min(int(round(self.rate * 2**32)), 2**32 - 1))
        return jnp.where(bits >= threshold, x * (1.0 / (1.0 - self.rate)), jnp.zeros_like(x))


class CNN(nn.Module):
    config: Config

    @nn.compact
    def __call__(self, images: jax.Array, *, train: bool = False) -> jax.Array:
        cfg = self.config
        x = images.astype(jnp.float32) * (1.0 / 255.0)
        for block, width in enumerate(cfg.block_widths()):
            for conv in range(cfg.convs_per_block):
                # No conv bias: the batch norm's shift makes it redundant. Conv3x3: a faster filter gradient on CPU.
                x = Conv3x3(width, name=f"conv{block}_{conv}")(x)
                x = nn.BatchNorm(
                    use_running_average=not train, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"bn{block}_{conv}"
                )(x)
                x = nn.relu(x)
            x = max_pool_2x2(x)
            if cfg.conv_dropout > 0:
                x = Dropout(cfg.conv_dropout)(x, deterministic=not train)
        if cfg.dense:
            x = x.reshape(x.shape[0], -1)
        else:
            x = jnp.mean(x, axis=(1, 2))
        for i, units in enumerate(cfg.dense):
            if cfg.dropout > 0:
                x = Dropout(cfg.dropout)(x, deterministic=not train)
            x = nn.relu(nn.Dense(units, name=f"dense{i}")(x))
        if cfg.dropout > 0 and cfg.dense:
            x = Dropout(cfg.dropout)(x, deterministic=not train)
        return nn.Dense(cfg.num_classes, name="logits")(x)


ARCHITECTURE_FIELDS = architecture_fields()  # the Config fields that change the network (their field metadata)


def model_for(config: Config) -> CNN:
    """The network for ``config``, built from its architecture fields only.

    Training fields (epochs, learning rate, seed, ...) are reset to their defaults so that two configs with the
    same architecture share one module *instance*. jax compares the train state's ``apply_fn`` (a bound
    method, equal only for the same instance) when looking up compiled programs, so this is what lets two trials
    with the same architecture share one compiled train step.
    """
    return _cached_model(Config(**{name: getattr(config, name) for name in ARCHITECTURE_FIELDS}))


@functools.lru_cache(maxsize=64)
def _cached_model(arch: Config) -> CNN:
    return CNN(arch)


def feature_shape(config: Config) -> tuple[int, int, int]:
    """``(H, W, C)`` of the last block's output (each block floors H and W by half)."""
    side = config.image_size
    for _ in range(config.depth):
        side //= 2
    return (side, side, config.block_widths()[-1])


def init_variables(model: CNN, rng: jax.Array) -> dict:
    """``{"params": ..., "batch_stats": ...}`` for a batch-of-one uint8 input of the config's shape."""
    dummy = jnp.zeros((1, *model.config.input_shape), jnp.uint8)
    return dict(model.init({"params": rng}, dummy, train=False))


def count_params(config: Config) -> int:
    """Trainable parameters (batch-norm running statistics excluded), computed without allocating weights."""
    model = CNN(config)
    shapes = jax.eval_shape(lambda: init_variables(model, jax.random.key(0)))
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(shapes["params"]))
