"""On-device augmentation, run inside the jitted ``train_step`` so the host does no per-image Python work.

Each image gets its own random horizontal flip (faces are left-right symmetric, and so are the labels), a small
affine warp (shift up to ±8% of the side, scale 0.9-1.1, rotation up to ±10 degrees) resampled bilinearly with
edge replication, and brightness (±10% of full range) / contrast (0.8-1.25x) jitter. Input ``uint8`` or float in
[0, 255]; output float32 in [0, 255], so the model's single normalisation path still applies.

``camera=True`` adds what a webcam and a face detector do to a face that a dataset crop does not show: blur (a
random blend towards a Gaussian-blurred copy), resolution loss (a blend towards a half-resolution copy, as for a
small face upscaled to the model's input), sensor noise (Gaussian, sd up to 8 grey levels), gamma (0.67-1.5) and,
for colour input, white balance (per-channel gain 0.9-1.1) and a 10% chance of grey. The detector's box jitter is
the warp's shift, scale and rotation, applied to every image either way.

Nothing here depends on the parameters, so no gradient ever flows back through the warp.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MAX_SHIFT = 0.08  # fraction of the side
MAX_SCALE = 0.10  # zoom factor in [1 - s, 1 + s]
MAX_ROTATION = 10.0  # degrees
MAX_BRIGHTNESS = 0.10 * 255  # additive, in pixel units
MAX_CONTRAST = 0.25  # log-uniform factor in [1/(1+c), 1+c]
CAMERA_P = 0.5  # chance that each of blur / resolution loss / noise is applied to an image (camera=True)
MAX_NOISE = 8.0  # Gaussian sensor-noise sd, grey levels
MAX_GAMMA = 1.5  # log-uniform gamma in [1/g, g]
MAX_GAIN = 0.10  # per-channel white-balance gain in [1 - g, 1 + g] (colour input)
GREY_P = 0.10  # chance a colour image is turned grey


def augment_batch(images: jax.Array, rng: jax.Array, *, camera: bool = False) -> jax.Array:
    """Randomly flip, warp and re-light a batch ``(N, H, W, C)``; returns float32 ``(N, H, W, C)`` in [0, 255].

    ``camera`` (static) adds blur, resolution loss, noise, gamma and colour jitter (see the module docstring)."""
    n, h, w, c = images.shape
    k_flip, k_shift, k_scale, k_rot, k_bright, k_contrast, k_camera = jax.random.split(rng, 7)
    flip = jnp.where(jax.random.bernoulli(k_flip, 0.5, (n,)), -1.0, 1.0)
    shift = jax.random.uniform(k_shift, (n, 2), minval=-MAX_SHIFT, maxval=MAX_SHIFT) * jnp.array([h, w])
    scale = jax.random.uniform(k_scale, (n,), minval=1 - MAX_SCALE, maxval=1 + MAX_SCALE)
    angle = jnp.deg2rad(jax.random.uniform(k_rot, (n,), minval=-MAX_ROTATION, maxval=MAX_ROTATION))

    # Inverse map: for each output pixel (y, x) find its source point; rotation + zoom about the centre,
    # the flip folded into the x axis, then the shift.
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    ys = jnp.arange(h, dtype=jnp.float32) - cy
    xs = jnp.arange(w, dtype=jnp.float32) - cx
    gy, gx = jnp.meshgrid(ys, xs, indexing="ij")  # (H, W)
    cos = (jnp.cos(angle) / scale)[:, None, None]
    sin = (jnp.sin(angle) / scale)[:, None, None]
    src_y = cos * gy - sin * gx + cy - shift[:, 0, None, None]
    src_x = (sin * gy + cos * gx) * flip[:, None, None] + cx - shift[:, 1, None, None]
    warped = _bilinear(images.astype(jnp.float32), src_y, src_x)
    if camera:
        warped = _camera(warped, k_camera)

    brightness = jax.random.uniform(k_bright, (n, 1, 1, 1), minval=-MAX_BRIGHTNESS, maxval=MAX_BRIGHTNESS)
    log_c = jnp.log1p(MAX_CONTRAST)
    contrast = jnp.exp(jax.random.uniform(k_contrast, (n, 1, 1, 1), minval=-log_c, maxval=log_c))
    mean = jnp.mean(warped, axis=(1, 2, 3), keepdims=True)
    out = (warped - mean) * contrast + mean + brightness
    return jnp.clip(out, 0.0, 255.0)


def _bilinear(images: jax.Array, src_y: jax.Array, src_x: jax.Array) -> jax.Array:
    """Sample ``images (N, H, W, C)`` at float coordinates ``(N, H, W)``, clamping to the edge."""
    n, h, w, c = images.shape
    src_y = jnp.clip(src_y, 0.0, h - 1.0)
    src_x = jnp.clip(src_x, 0.0, w - 1.0)
    y0 = jnp.floor(src_y)
    x0 = jnp.floor(src_x)
    wy = (src_y - y0)[..., None]
    wx = (src_x - x0)[..., None]
    y0 = y0.astype(jnp.int32)
    x0 = x0.astype(jnp.int32)
    y1 = jnp.minimum(y0 + 1, h - 1)
    x1 = jnp.minimum(x0 + 1, w - 1)
    flat = images.reshape(n, h * w, c)

    def gather(yi: jax.Array, xi: jax.Array) -> jax.Array:
        idx = (yi * w + xi).reshape(n, h * w, 1)
        return jnp.take_along_axis(flat, idx, axis=1).reshape(n, h, w, c)

    top = gather(y0, x0) * (1 - wx) + gather(y0, x1) * wx
    bottom = gather(y1, x0) * (1 - wx) + gather(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


def _blend(images: jax.Array, other: jax.Array, key: jax.Array) -> jax.Array:
    """Per image: with probability ``CAMERA_P`` move a uniform random fraction of the way to ``other``."""
    n = images.shape[0]
    k_on, k_amount = jax.random.split(key)
    amount = jax.random.uniform(k_amount, (n, 1, 1, 1)) * jax.random.bernoulli(k_on, CAMERA_P, (n, 1, 1, 1))
    return images + (other - images) * amount


def _gaussian_blur(images: jax.Array, sigma: float = 1.2) -> jax.Array:
    """A separable 5-tap Gaussian blur per channel, edges replicated."""
    taps = jnp.exp(-0.5 * (jnp.arange(-2, 3, dtype=jnp.float32) / sigma) ** 2)
    taps = taps / jnp.sum(taps)
    padded = jnp.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    h, w = images.shape[1:3]
    rows = sum(taps[i] * padded[:, i : i + h, :, :] for i in range(5))
    return sum(taps[i] * rows[:, :, i : i + w, :] for i in range(5))


def _camera(images: jax.Array, rng: jax.Array) -> jax.Array:
    """Blur, resolution loss, noise, gamma and (colour) white balance / grey: see the module docstring."""
    n, h, w, c = images.shape
    k_blur, k_res, k_sd, k_noise_on, k_noise, k_gamma, k_gain, k_grey = jax.random.split(rng, 8)
    images = _blend(images, _gaussian_blur(images), k_blur)
    small = jax.image.resize(images, (n, max(1, h // 2), max(1, w // 2), c), "linear")
    images = _blend(images, jax.image.resize(small, images.shape, "linear"), k_res)
    sd = jax.random.uniform(k_sd, (n, 1, 1, 1), maxval=MAX_NOISE) * jax.random.bernoulli(
        k_noise_on, CAMERA_P, (n, 1, 1, 1)
    )
    images = images + sd * jax.random.normal(k_noise, images.shape)
    log_g = jnp.log(MAX_GAMMA)
    gamma = jnp.exp(jax.random.uniform(k_gamma, (n, 1, 1, 1), minval=-log_g, maxval=log_g))
    images = 255.0 * (jnp.clip(images, 0.0, 255.0) / 255.0) ** gamma
    if c == 3:
        gain = jax.random.uniform(k_gain, (n, 1, 1, 3), minval=1 - MAX_GAIN, maxval=1 + MAX_GAIN)
        images = images * gain
        grey = jnp.mean(images, axis=3, keepdims=True)
        images = jnp.where(jax.random.bernoulli(k_grey, GREY_P, (n, 1, 1, 1)), grey, images)
    return jnp.clip(images, 0.0, 255.0)
