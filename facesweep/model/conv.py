"""3x3 "SAME" convolution (NHWC, HWIO) with a hand-written filter gradient.

Why: XLA:CPU's backward-filter convolution ran at about half the speed of its forward convolution on the
expression models' middle layers. Written as nine GEMMs -- one per kernel tap, ``shifted(x)^T @ dy`` over all
``N*H*W`` rows -- the filter gradient uses the same fast matrix-multiply path as a dense layer: about +10% images/s
for expression model 1 on the 2-core dev machine (``bench/throughput.py``). The input gradient stays XLA's own.
Both are ordinary jax ops, so this runs (and is exact up to float rounding) on GPU as well.

Used on the CPU backend for layers with at least ``MIN_CHANNELS`` input channels (a 1- or 3-channel first
layer is faster with XLA's kernel); on GPU the layer is a plain ``lax.conv_general_dilated`` (cuDNN).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

MIN_CHANNELS = 32  # below this the nine thin GEMMs lose to XLA's backward-filter convolution
_DIMS = ("NHWC", "HWIO", "NHWC")


def _conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=_DIMS)


@jax.custom_vjp
def conv3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """``(N, H, W, C) * (3, 3, C, O) -> (N, H, W, O)``, stride 1, zero padding 1."""
    return _conv(x, kernel)


def _conv3x3_fwd(x: jax.Array, kernel: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    return _conv(x, kernel), (x, kernel)


def _conv3x3_bwd(residuals: tuple[jax.Array, jax.Array], g: jax.Array) -> tuple[jax.Array, jax.Array]:
    x, kernel = residuals
    dx = jax.vjp(lambda x_: _conv(x_, kernel), x)[1](g)[0]
    n, h, w, c = x.shape
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    rows = g.reshape(n * h * w, g.shape[-1])
    taps = [
        [padded[:, i : i + h, j : j + w, :].reshape(n * h * w, c).T @ rows for j in range(3)] for i in range(3)
    ]
    dkernel = jnp.stack([jnp.stack(row) for row in taps])  # (3, 3, C, O)
    return dx, dkernel.astype(kernel.dtype)


conv3x3.defvjp(_conv3x3_fwd, _conv3x3_bwd)


class Conv3x3(nn.Module):
    """Drop-in for ``nn.Conv(features, (3, 3), padding="SAME", use_bias=False)``: same ``kernel`` parameter name,
    shape and initialiser, so artifacts are interchangeable."""

    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (3, 3, x.shape[-1], self.features))
        kernel = kernel.astype(x.dtype)
        # On GPU cuDNN's backward-filter kernel is the better choice; the GEMM form is a CPU win.
        use_gemm = x.shape[-1] >= MIN_CHANNELS and jax.default_backend() == "cpu"
        return conv3x3(x, kernel) if use_gemm else _conv(x, kernel)
