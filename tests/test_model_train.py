"""The training engine end to end on a tiny, easy dataset: the loss falls, val accuracy beats chance, the hooks
and history follow the contract in docs/ARCHITECTURE.md, and divergence raises ``TrainingDiverged``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from facesweep.errors import ConfigError, DataError, TrainingDiverged
from facesweep.io.dataset import Dataset, Split
from facesweep.model import train as train_module
from facesweep.model.config import tiny
from facesweep.model.train import HISTORY_KEYS, class_weights_for, train_and_evaluate
from facesweep.tasks import get_task


def easy_split(n: int, seed: int, num_classes: int = 7, size: int = 48, channels: int = 1) -> Split:
    """Noise with one bright square whose position is the class: learnable in an epoch or two."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    images = rng.integers(0, 60, (n, size, size, channels)).astype(np.uint8)
    cell = size // 3
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 3)
        images[i, row * cell + 2 : row * cell + cell - 2, col * cell + 2 : col * cell + cell - 2] = 220
    return Split(images, labels)


def easy_dataset(task: str = "emotion", n_train: int = 640, n_val: int = 210) -> Dataset:
    t = get_task(task)
    k = len(t.classes)
    splits = {
        "train": easy_split(n_train, 0, k, t.image_size, t.channels),
        "val": easy_split(n_val, 1, k, t.image_size, t.channels),
    }
    return Dataset(t, t.classes, splits, "easy squares")


@pytest.fixture(scope="module")
def easy() -> Dataset:
    return easy_dataset()


def test_short_run_learns_and_reports_history(easy: Dataset) -> None:
    seen: list[tuple[int, dict]] = []
    steps: list[tuple[int, int, int]] = []
    config = tiny(epochs=3, learning_rate=3e-3)
    result = train_and_evaluate(
        config,
        easy,
        on_epoch=lambda epoch, metrics: seen.append((epoch, metrics)),
        on_step=lambda epoch, step, total, metrics: steps.append((epoch, step, total)),
    )
    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert [tuple(h) for h in result.history] == [HISTORY_KEYS] * 3
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.history[-1]["val_accuracy"] > 0.6  # chance is 1/7
    assert len(steps) == 3 * (640 // config.batch_size)  # last partial batch dropped
    assert result.best_epoch in (1, 2, 3) and not result.stopped_early and not result.interrupted
    assert result.compile_seconds >= 0 and result.train_seconds > 0
    probs = result.model.predict(easy.val.images[:5])
    assert probs.shape == (5, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_weight_decay_shrinks_the_kernels(easy: Dataset) -> None:
    """--weight-decay acts (it once did nothing: the decay mask was taken for a schedule of the step count)."""
    import jax

    def params(wd: float) -> dict:
        return train_and_evaluate(tiny(epochs=1, learning_rate=3e-3, weight_decay=wd), easy).model.variables["params"]

    plain, decayed = params(0.0), params(50.0)
    norm = lambda tree, ndim: sum(float(np.sum(np.square(x))) for x in jax.tree.leaves(tree) if x.ndim == ndim)  # noqa: E731
    assert norm(decayed, 4) < 0.9 * norm(plain, 4)  # conv kernels shrink
    assert norm(decayed, 2) < 0.9 * norm(plain, 2)  # dense kernels shrink


def test_nan_loss_raises_training_diverged(easy: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    # Inject the NaN through the class weights: the objective is NaN from the first step, the weights after it.
    monkeypatch.setattr(train_module, "class_weights_for", lambda config, labels: np.full(7, np.nan, np.float32))
    with pytest.raises(TrainingDiverged, match="in epoch 1"):
        train_and_evaluate(tiny(epochs=2), easy)


def test_wrong_image_shape_is_a_data_error(easy: Dataset) -> None:
    with pytest.raises(DataError, match=r"\(48, 48, 1\)"):
        train_and_evaluate(tiny(image_size=32), easy)


def test_impossible_depth_is_a_config_error(easy: Dataset) -> None:
    with pytest.raises(ConfigError, match="depth must be 1..5 for 48x48"):
        train_and_evaluate(tiny(depth=7), easy)


def _flat_val(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation that never improves after epoch 1, so patience decides when training stops."""
    scores = iter([0.5, 0.4, 0.4, 0.4, 0.4, 0.4])

    def evaluate_split(state, split, num_classes, batch_size=256):
        accuracy = next(scores)
        return {"loss": 1.0 - accuracy, "accuracy": accuracy, "macro_f1": accuracy}

    monkeypatch.setattr(train_module, "evaluate_split", evaluate_split)


def test_early_stopping_restores_the_best_epoch(easy: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    _flat_val(monkeypatch)
    best_weights: list = []
    real_host = train_module._host_variables

    def spy(state):
        best_weights.append(real_host(state))
        return best_weights[-1]

    monkeypatch.setattr(train_module, "_host_variables", spy)
    result = train_and_evaluate(tiny(epochs=6, patience=2), easy)
    assert (result.best_epoch, result.stopped_early, len(result.history)) == (1, True, 3)
    restored = result.model.variables["params"]["logits"]["kernel"]
    np.testing.assert_array_equal(restored, best_weights[1]["params"]["logits"]["kernel"])  # [0] is the init copy


def test_stop_on_interrupt_returns_best_so_far(easy: Dataset) -> None:
    def on_epoch(epoch: int, metrics: dict) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    result = train_and_evaluate(tiny(epochs=4), easy, on_epoch=on_epoch, stop_on_interrupt=True)
    assert result.interrupted and len(result.history) == 2 and result.best_epoch in (1, 2)
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(tiny(epochs=4), easy, on_epoch=on_epoch)


def test_on_epoch_exceptions_propagate(easy: Dataset) -> None:
    class Pruned(Exception):
        pass

    def on_epoch(epoch: int, metrics: dict) -> None:
        raise Pruned

    with pytest.raises(Pruned):
        train_and_evaluate(tiny(epochs=3), easy, on_epoch=on_epoch)


def test_schedules_and_plateau(easy: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    cosine = train_and_evaluate(tiny(epochs=2, learning_rate=1e-3), easy).history
    assert cosine[-1]["learning_rate"] < 1e-5  # cosine decays to ~0 by the last step
    constant = train_and_evaluate(tiny(epochs=1, schedule="constant", learning_rate=2e-3), easy).history
    assert constant[0]["learning_rate"] == pytest.approx(2e-3)
    _flat_val(monkeypatch)
    plateau = train_and_evaluate(tiny(epochs=5, schedule="plateau", learning_rate=1e-3), easy).history
    # val_loss 0.5 then flat 0.6: after PLATEAU_PATIENCE=2 epochs without improvement the rate halves.
    assert [h["learning_rate"] for h in plateau] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 5e-4])


def test_balanced_class_weights() -> None:
    labels = np.array([0, 0, 0, 1], np.int32)
    weights = train_module.class_weights_for(tiny(num_classes=3, class_weighting="balanced"), labels)
    np.testing.assert_allclose(weights, [4 / (3 * 3), 4 / (3 * 1), 0.0])
    assert train_module.class_weights_for(tiny(), labels).tolist() == [1.0] * 7


def test_sqrt_class_weights_sit_between_none_and_balanced() -> None:
    labels = np.array([0] * 90 + [1] * 10, np.int32)
    config = tiny("emotion", num_classes=2)
    none = class_weights_for(config, labels)
    sqrt = class_weights_for(dataclasses.replace(config, class_weighting="sqrt"), labels)
    balanced = class_weights_for(dataclasses.replace(config, class_weighting="balanced"), labels)
    np.testing.assert_allclose(none, [1.0, 1.0])
    assert balanced[1] / balanced[0] == pytest.approx(9.0)
    assert sqrt[1] / sqrt[0] == pytest.approx(3.0)  # sqrt(90 / 10)
    assert float(np.sum(sqrt[labels])) / len(labels) == pytest.approx(1.0)  # mean weight over images is 1
