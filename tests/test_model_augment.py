"""Camera augmentation: shapes, range, and that each effect really changes the image (and only when asked)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from facesweep.model.augment import _camera, _gaussian_blur, augment_batch


@pytest.mark.parametrize("channels", [1, 3])
def test_camera_augment_keeps_shape_and_range(channels: int) -> None:
    images = jax.random.randint(jax.random.key(0), (8, 48, 48, channels), 0, 256).astype(jnp.uint8)
    out = np.asarray(augment_batch(images, jax.random.key(1), camera=True))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    plain = np.asarray(augment_batch(images, jax.random.key(1)))
    assert not np.allclose(out, plain)  # the camera stage changed something beyond the warp and lighting


def test_blur_smooths_a_checkerboard_and_keeps_a_flat_image() -> None:
    board = (np.indices((48, 48)).sum(0) % 2 * 255).astype(np.float32)[None, :, :, None]
    blurred = np.asarray(_gaussian_blur(jnp.asarray(board)))
    assert blurred.std() < 0.25 * board.std()
    flat = np.full((1, 16, 16, 1), 77.0, np.float32)
    np.testing.assert_allclose(np.asarray(_gaussian_blur(jnp.asarray(flat))), flat, atol=1e-3)


def test_camera_colour_jitter_only_for_colour_input() -> None:
    grey = jnp.full((64, 24, 24, 3), 128.0)
    out = np.asarray(_camera(grey, jax.random.key(2)))
    spread = out.mean(axis=(1, 2)).max(axis=1) - out.mean(axis=(1, 2)).min(axis=1)
    assert spread.max() > 3.0  # white balance moved the channels apart in some images
    assert (spread < 1e-3).any()  # and some images were turned grey (or drew gains near 1)
