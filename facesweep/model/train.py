"""The training engine: ``create_train_state``, a pure ``train_step``, ``eval_step`` and ``train_and_evaluate``.

    result = train_and_evaluate(config, dataset, on_epoch=lambda epoch, metrics: print(epoch, metrics))
    result.model.predict(images)  # TrainedModel, see artifacts.py

How it is put together (and why):
- ``train_step(state, batch, rng) -> (state, metrics)`` is pure and module-level, jitted once with the state
  donated. Everything that changes between trials of the same architecture -- learning rate and schedule, weight
  decay, class weights -- lives in the state as arrays, and the network is built from the architecture fields of
  the config only, so a sweep compiles once per architecture, not once per trial. Epochs never change the program.
- The per-step key is ``fold_in(rng, state.step)``; augmentation runs on the device inside the step, on uint8
  images that the model scales itself. The last partial batch is dropped so one shape serves the whole epoch.
- Metrics stay on the device and are fetched once per epoch; compile time (ahead-of-time lowering of the train
  and eval steps) is measured before the first epoch and reported apart from training time.
- A NaN/inf epoch loss raises ``TrainingDiverged``; ``on_epoch`` may raise (the sweep prunes that way) and the
  exception propagates. With ``stop_on_interrupt=True`` Ctrl-C returns the best-so-far result instead.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from flax.training import train_state

from facesweep.errors import ConfigError, DataError, TrainingDiverged
from facesweep.io.dataset import Dataset, Split
from facesweep.model.artifacts import TrainedModel
from facesweep.model.augment import augment_batch
from facesweep.model.cnn import count_params, init_variables, model_for
from facesweep.model.config import Config
from facesweep.model.metrics import classification_metrics, softmax_cross_entropy
from facesweep.model.runtime import tune_host_allocator

EVAL_BATCH = 256  # images per eval step; the last batch is padded and masked, so one shape serves all
PLATEAU_FACTOR = 0.5  # "plateau" schedule: multiply the learning rate by this ...
PLATEAU_PATIENCE = 2  # ... after this many epochs without a lower val_loss
PLATEAU_MIN_SCALE = 1 / 64  # ... but never below this fraction of the peak
HISTORY_KEYS = (
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "val_macro_f1",
    "epoch_seconds",
    "learning_rate",
)

OnEpoch = Callable[[int, dict], None]
OnStep = Callable[[int, int, int, dict], None]  # (epoch, step within epoch 1-based, steps per epoch, metrics)
ScoreEpoch = Callable[[int, dict], float]  # (epoch, host variables) -> selection score, higher is better


def _decay_mask(params: Any) -> Any:
    """Weight decay on kernels only; biases and batch-norm scales/shifts are left alone."""
    return jax.tree.map(lambda p: p.ndim > 1, params)


tune_host_allocator()  # before XLA starts its threads; see runtime.py (FACESWEEP_NO_MALLOPT=1 to skip)


# One optimizer object for every run: its hyperparameters are arrays in the optimizer state (overwritten per
# run and per step), so the static part of the train state -- and hence the compiled program -- is shared.
# ``mask`` is static: inject_hyperparams takes any other callable argument for a schedule of the step count, and
# called the mask on the count (a scalar: "ndim > 1" is False), so no weight was ever decayed (--weight-decay did
# nothing until this was found, 2026-12-06).
_TX = optax.inject_hyperparams(optax.adamw, static_args=("mask",))(learning_rate=1e-3, weight_decay=1e-4,
                                                                   mask=_decay_mask)  # fmt: skip


class TrainState(train_state.TrainState):
    batch_stats: Any  # batch-norm running statistics
    class_weights: jax.Array  # (K,) loss weight per true class; ones unless class_weighting="balanced"
    lr_schedule: dict[str, jax.Array]  # peak, warmup_steps, decay_steps, cosine (0/1), scale (plateau)
    dense_lr_ref: jax.Array  # float32 scalar: Config.dense_lr_ref (an array, so runs share the compiled step)
    augment: bool = struct.field(pytree_node=False, default=False)
    camera_augment: bool = struct.field(pytree_node=False, default=False)
    label_smoothing: float = struct.field(pytree_node=False, default=0.0)


@dataclass
class TrainResult:
    model: TrainedModel  # best epoch's weights when early stopping restores best (or when interrupted)
    history: list[dict]  # one dict per epoch run, keys HISTORY_KEYS
    compile_seconds: float  # ahead-of-time compilation of train and eval steps (0 when already compiled)
    train_seconds: float  # wall time of the epochs, compile excluded
    param_count: int  # trainable parameters
    best_epoch: int  # 1-based epoch with the best monitored metric (0 if none finished)
    stopped_early: bool  # patience ran out before config.epochs
    interrupted: bool = False  # Ctrl-C with stop_on_interrupt=True


# -- building blocks ----------------------------------------------------------------------------------------
def scale_dense_updates(updates: Any, ref: jax.Array) -> Any:
    """Dense kernels' (2-D leaves, ``(fan_in, units)``) updates times min(1, sqrt(ref / fan_in)); ``ref`` 0 = off.

    Why: Adam moves every weight by about the learning rate whatever its gradient's size, so a dense unit's
    pre-activation moves by ~ fan_in x lr x mean input in one step. Behind a 24x24x16 flatten (depth 1) that is
    several units at lr 1e-3: seeds whose early steps point the same way push all 64 head units below zero, the
    ReLUs die, the logits go constant and the run stays at chance (measured: seed 103 of a depth-1 net, 3 of 64
    head units ever active). Conv kernels (4-D) sit before batch norm, which undoes a shift, and are left alone.
    """

    def scale(u: jax.Array) -> jax.Array:
        if u.ndim != 2:
            return u
        factor = jnp.where(ref > 0, jnp.minimum(1.0, jnp.sqrt(ref / u.shape[0])), 1.0)
        return u * factor.astype(u.dtype)

    return jax.tree.map(scale, updates)


def learning_rate_at(step: Any, schedule: dict[str, Any]) -> Any:
    """Learning rate after ``step`` updates: linear warm-up, then cosine to 0 (``cosine=1``) or flat, times
    ``scale`` (the plateau schedule's host-side factor). Works on device arrays inside the step and on floats."""
    step = jnp.asarray(step, jnp.float32)
    warmup = jnp.maximum(schedule["warmup_steps"], 1.0)
    decay = jnp.maximum(schedule["decay_steps"] - schedule["warmup_steps"], 1.0)
    ramp = jnp.where(schedule["warmup_steps"] > 0, jnp.minimum((step + 1.0) / warmup, 1.0), 1.0)
    progress = jnp.clip((step - schedule["warmup_steps"]) / decay, 0.0, 1.0)
    cosine = 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
    shape = jnp.where(step < schedule["warmup_steps"], ramp, jnp.where(schedule["cosine"] > 0, cosine, 1.0))
    return schedule["peak"] * schedule["scale"] * shape


def class_weights_for(config: Config, labels: np.ndarray) -> np.ndarray:
    """``(K,)`` loss weights: ones; ``n / (K * count_k)`` for "balanced"; for "sqrt" ``1 / sqrt(count_k)``
    scaled so the mean weight over the training images is 1 (half-way, in log terms, between none and balanced:
    a dataset's class shares are partly a fact about that dataset, not about faces). 0 for a class with no samples.
    """
    k = config.num_classes
    if config.class_weighting not in ("balanced", "sqrt"):
        return np.ones(k, np.float32)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    if config.class_weighting == "balanced":
        weights = np.where(counts > 0, len(labels) / (k * np.maximum(counts, 1)), 0.0)
    else:
        raw = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
        weights = raw * len(labels) / max(float(np.sum(raw * counts)), 1e-12)
    return weights.astype(np.float32)


def create_train_state(
    config: Config,
    rng: jax.Array,
    steps_per_epoch: int,
    class_weights: np.ndarray | None = None,
    initial_variables: dict | None = None,
) -> TrainState:
    """Initialised parameters (or ``initial_variables``), AdamW state and the run's schedule for ``config``."""
    model = model_for(config)
    variables = init_variables(model, rng) if initial_variables is None else initial_variables
    total = steps_per_epoch * config.epochs
    if config.schedule == "cosine":
        # One warm-up epoch, but at most a fifth of the run so a 1-2 epoch run still decays.
        warmup, cosine = min(steps_per_epoch, total // 5), 1.0
    else:
        warmup, cosine = 0, 0.0
    schedule = {
        "peak": jnp.float32(config.learning_rate),
        "warmup_steps": jnp.float32(warmup),
        "decay_steps": jnp.float32(total),
        "cosine": jnp.float32(cosine),
        "scale": jnp.float32(1.0),
    }
    opt_state = _TX.init(variables["params"])
    opt_state = opt_state._replace(
        hyperparams={
            **opt_state.hyperparams,
            "learning_rate": jnp.float32(config.learning_rate),
            "weight_decay": jnp.float32(config.weight_decay),
        }
    )
    if class_weights is None:
        class_weights = np.ones(config.num_classes, np.float32)
    return TrainState(
        step=jnp.int32(0),
        apply_fn=model.apply,
        params=variables["params"],
        tx=_TX,
        opt_state=opt_state,
        batch_stats=variables["batch_stats"],
        class_weights=jnp.asarray(class_weights, jnp.float32),
        lr_schedule=schedule,
        augment=config.augment,
        camera_augment=config.camera_augment,
        label_smoothing=float(config.label_smoothing),
        dense_lr_ref=jnp.float32(config.dense_lr_ref),
    )


def train_step(state: TrainState, batch: dict[str, jax.Array], rng: jax.Array) -> tuple[TrainState, dict]:
    """One AdamW update on ``batch`` (``image`` uint8 (B,H,W,C), ``label`` int32 (B,)).

    Returns the new state and device-side metrics for the batch: ``loss`` (plain cross-entropy, comparable with
    val_loss), ``objective`` (the optimised, weighted/smoothed loss) and ``accuracy``.
    """
    key = jax.random.fold_in(rng, state.step)
    aug_key, dropout_key = jax.random.split(key)
    images, labels = batch["image"], batch["label"]
    if state.augment:
        images = augment_batch(images, aug_key, camera=state.camera_augment)

    def loss_fn(params: Any) -> tuple[jax.Array, tuple[jax.Array, Any]]:
        logits, updates = state.apply_fn(
            {"params": params, "batch_stats": state.batch_stats},
            images,
            train=True,
            rngs={"dropout": dropout_key},
            mutable=["batch_stats"],
        )
        per_example = softmax_cross_entropy(logits, labels, label_smoothing=state.label_smoothing)
        # Mean of weighted losses (not divided by the weights' sum): balanced weights average 1 over the
        # training set, so the loss keeps its scale and the learning rate keeps its meaning.
        objective = jnp.mean(per_example * state.class_weights[labels])
        return objective, (logits, updates)

    (objective, (logits, updates)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    # The schedule is evaluated here from arrays in the state (not baked into the optimizer as a closure),
    # so runs that differ only in learning rate or schedule share the compiled step.
    lr = learning_rate_at(state.step, state.lr_schedule)
    opt_state = state.opt_state._replace(hyperparams={**state.opt_state.hyperparams, "learning_rate": lr})
    step_updates, opt_state = state.tx.update(grads, opt_state, state.params)
    step_updates = scale_dense_updates(step_updates, state.dense_lr_ref)
    state = state.replace(step=state.step + 1, params=optax.apply_updates(state.params, step_updates),
                          opt_state=opt_state, batch_stats=updates["batch_stats"])  # fmt: skip
    logits = jax.lax.stop_gradient(logits)
    metrics = {
        "loss": jnp.mean(softmax_cross_entropy(logits, labels)),
        "objective": objective,
        "accuracy": jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32)),
    }
    return state, metrics


def eval_step(state: TrainState, images: jax.Array, labels: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:
    """Inference-mode forward pass on a padded batch: summed loss over real rows and predicted labels."""
    logits = state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, images, train=False)
    loss = softmax_cross_entropy(logits, labels)
    return {"loss_sum": jnp.sum(jnp.where(mask, loss, 0.0)), "pred": jnp.argmax(logits, -1).astype(jnp.int32)}


# Jitted once at import; jax caches one executable per (architecture, batch shape) and the sweep reuses it.
_train_step = jax.jit(train_step, donate_argnums=0)
_eval_step = jax.jit(eval_step)


_COMPILED: set[tuple] = set()  # (function, argument structure and shapes) already compiled in this process


def _compile(fn: Any, *args: Any) -> float:
    """Compile ``fn`` for ``args`` ahead of time and return the seconds taken.

    Lowering + compiling fills jax's executable cache, so the first real call does not compile again. An AOT
    ``.compile()`` always recompiles, though, so remember what was compiled: a second trial with the same
    architecture reports 0 s, which is the truth.
    """
    leaves, treedef = jax.tree.flatten(args)
    key = (fn, treedef, tuple(str(jax.typeof(x)) for x in leaves))
    if key in _COMPILED:
        return 0.0
    start = time.perf_counter()
    fn.lower(*args).compile()
    _COMPILED.add(key)
    return time.perf_counter() - start


def evaluate_split(state: TrainState, split: Split, num_classes: int, batch_size: int = EVAL_BATCH) -> dict:
    """``loss``, ``accuracy``, ``macro_f1`` (and the rest of ``classification_metrics``) on a whole split."""
    n = len(split)
    if n == 0:
        raise DataError("validation split is empty")
    losses, preds = [], []
    for start in range(0, n, batch_size):
        images, labels, mask = _padded(split, start, batch_size)
        out = _eval_step(state, images, labels, mask)
        losses.append(out["loss_sum"])
        preds.append(out["pred"])
    loss_sum, pred = jax.device_get((jnp.sum(jnp.stack(losses)), jnp.concatenate(preds)))
    metrics = classification_metrics(split.labels, pred[:n], num_classes)
    metrics["loss"] = float(loss_sum) / n
    return metrics


def _padded(split: Split, start: int, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images = split.images[start : start + batch_size]
    labels = split.labels[start : start + batch_size]
    real = len(labels)
    mask = np.arange(batch_size) < real
    if real < batch_size:
        images = np.concatenate([images, np.zeros((batch_size - real, *images.shape[1:]), images.dtype)])
        labels = np.concatenate([labels, np.zeros(batch_size - real, labels.dtype)])
    return images, labels.astype(np.int32), mask


def _check_data(config: Config, data: Dataset) -> None:
    for name in ("train", "val"):
        if name not in data.splits:
            raise DataError(f"dataset has no {name!r} split (splits: {', '.join(data.splits) or 'none'})")
        split = data.splits[name]
        if split.images.ndim != 4 or tuple(split.images.shape[1:]) != config.input_shape:
            raise DataError(
                f"{name} images have shape {tuple(split.images.shape[1:])}, the config expects "
                f"{config.input_shape} (image_size={config.image_size}, channels={config.channels})"
            )
        if split.images.dtype != np.uint8:
            raise DataError(f"{name} images must be uint8, got {split.images.dtype}")
    if len(data.classes) != config.num_classes:
        raise ConfigError(f"config has num_classes={config.num_classes}, the dataset has {len(data.classes)}")
    if len(data.train) < config.batch_size:
        raise DataError(
            f"training split has {len(data.train)} images, fewer than batch_size={config.batch_size}"
        )


def _host_variables(state: TrainState) -> dict:
    """A host copy of the weights: the device buffers are donated to the next step, so a reference won't do."""
    return jax.device_get({"params": state.params, "batch_stats": state.batch_stats})


_MONITOR_SIGN = {"val_accuracy": 1.0, "val_macro_f1": 1.0, "val_loss": -1.0}


# -- the loop -----------------------------------------------------------------------------------------------
def train_and_evaluate(
    config: Config,
    data: Dataset,
    *,
    on_epoch: OnEpoch | None = None,
    on_step: OnStep | None = None,
    stop_on_interrupt: bool = False,
    on_compile: Callable[[float], None] | None = None,
    initial_variables: dict | None = None,
    score_epoch: ScoreEpoch | None = None,
) -> TrainResult:
    """Train ``config`` on ``data.train``, evaluate on ``data.val`` after every epoch, return a ``TrainResult``.

    ``on_epoch(epoch, metrics)`` gets the epoch's history dict (keys ``HISTORY_KEYS``) and may raise.
    ``on_step(epoch, step, steps_per_epoch, metrics)`` gets the step's device-side metrics (``loss``,
    ``accuracy``); converting them to float waits for the device, so a progress bar should do it sparingly.
    ``on_compile(seconds)`` is called once the steps are compiled, before the first epoch (0 s when cached).
    ``initial_variables`` (``{"params", "batch_stats"}`` for this config, e.g. from ``transfer_variables``)
    replace the random initialisation, for fine-tuning.
    Early stopping (``config.patience > 0``) watches ``config.monitor`` and restores the best epoch's weights.
    ``score_epoch(epoch, variables)`` (e.g. ``facesweep.model.select.worst_group_scorer``) replaces the monitored
    metric: its score is recorded as ``select_score`` and the best-scoring epoch's weights are returned.
    """
    config.validate()
    _check_data(config, data)
    tune_host_allocator()  # XLA:CPU only: reuse activation pages between steps (see runtime.py)
    train, num_classes, batch_size = data.train, config.num_classes, config.batch_size
    steps_per_epoch = len(train) // batch_size
    rng = jax.random.key(config.seed)
    init_rng, step_rng = jax.random.split(rng)
    state = create_train_state(
        config, init_rng, steps_per_epoch, class_weights_for(config, train.labels), initial_variables
    )
    shuffle = np.random.default_rng(config.seed)

    example = {"image": train.images[:batch_size], "label": train.labels[:batch_size].astype(np.int32)}
    eval_batch = min(EVAL_BATCH, 1 << max(0, math.ceil(math.log2(max(len(data.val), 1)))))
    compile_seconds = _compile(_train_step, state, example, step_rng)
    compile_seconds += _compile(_eval_step, state, *_padded(data.val, 0, eval_batch))
    if on_compile is not None:
        on_compile(compile_seconds)

    history: list[dict] = []
    sign = _MONITOR_SIGN[config.monitor]
    best_score, best_epoch, best_variables = -math.inf, 0, _host_variables(state)
    plateau_best, plateau_wait = math.inf, 0
    stopped_early = interrupted = False
    train_start = time.perf_counter()
    try:
        for epoch in range(1, config.epochs + 1):
            epoch_start = time.perf_counter()
            order = shuffle.permutation(len(train))
            step_metrics = []
            for step in range(steps_per_epoch):
                idx = np.sort(order[step * batch_size : (step + 1) * batch_size])  # sorted: cheaper host gather
                batch = {"image": train.images[idx], "label": train.labels[idx].astype(np.int32)}
                state, metrics = _train_step(state, batch, step_rng)
                step_metrics.append(metrics)
                if on_step is not None:
                    on_step(epoch, step + 1, steps_per_epoch, metrics)
            fetched = jax.device_get({k: jnp.mean(jnp.stack([m[k] for m in step_metrics])) for k in ("loss",
                                      "objective", "accuracy")})
            if not (math.isfinite(fetched["loss"]) and math.isfinite(fetched["objective"])):
                raise TrainingDiverged(
                    f"loss became {fetched['objective']} in epoch {epoch} "
                    f"(learning_rate={config.learning_rate}); try a lower learning rate"
                )
            val = evaluate_split(state, data.val, num_classes, eval_batch)
            lr = float(learning_rate_at(epoch * steps_per_epoch - 1, jax.device_get(state.lr_schedule)))
            record = {
                "epoch": epoch,
                "train_loss": float(fetched["loss"]),
                "train_accuracy": float(fetched["accuracy"]),
                "val_loss": val["loss"],
                "val_accuracy": val["accuracy"],
                "val_macro_f1": val["macro_f1"],
                "epoch_seconds": time.perf_counter() - epoch_start,
                "learning_rate": lr,
            }
            history.append(record)

            if score_epoch is None:
                score = sign * record[config.monitor]
            else:
                score = record["select_score"] = float(score_epoch(epoch, _host_variables(state)))
            if score > best_score:
                best_score, best_epoch = score, epoch
                best_variables = _host_variables(state)
            if config.schedule == "plateau":
                if record["val_loss"] < plateau_best - 1e-4:
                    plateau_best, plateau_wait = record["val_loss"], 0
                else:
                    plateau_wait += 1
                    if plateau_wait >= PLATEAU_PATIENCE:
                        plateau_wait = 0
                        scale = max(float(state.lr_schedule["scale"]) * PLATEAU_FACTOR, PLATEAU_MIN_SCALE)
                        state = state.replace(lr_schedule={**state.lr_schedule, "scale": jnp.float32(scale)})
            if on_epoch is not None:
                on_epoch(epoch, dict(record))
            if config.patience > 0 and epoch - best_epoch >= config.patience and epoch < config.epochs:
                stopped_early = True
                break
    except KeyboardInterrupt:
        if not stop_on_interrupt:
            raise
        interrupted = True
    train_seconds = time.perf_counter() - train_start

    # Early stopping restores the best epoch; an interrupted run keeps the best so far (the live buffers may
    # have been donated to a step that never finished); otherwise the last epoch's weights are the result.
    restore = interrupted or config.patience > 0 or score_epoch is not None
    variables = best_variables if restore else _host_variables(state)
    trained = TrainedModel(config=config, classes=tuple(data.classes), variables=variables)
    return TrainResult(
        model=trained,
        history=history,
        compile_seconds=compile_seconds,
        train_seconds=train_seconds,
        param_count=count_params(config),
        best_epoch=best_epoch,
        stopped_early=stopped_early,
        interrupted=interrupted,
    )


def transfer_variables(source: dict, config: Config, seed: int = 0) -> dict:
    """Fresh variables for ``config`` with every layer that ``source`` has in the same shape copied over.

    For fine-tuning one task from another: the convolutional trunk transfers, a head whose class count differs
    keeps its random initialisation. ``ConfigError`` when no layer matches (different architectures).
    """
    target = init_variables(model_for(config), jax.random.key(seed))
    copied, total = 0, 0

    def pick(path: tuple, fresh: Any) -> Any:
        nonlocal copied, total
        total += 1
        node = source
        for key in path:
            key = getattr(key, "key", key)
            if not isinstance(node, dict) or key not in node:
                return fresh
            node = node[key]
        if getattr(node, "shape", None) != fresh.shape:
            return fresh
        copied += 1
        return jnp.array(node, dtype=fresh.dtype)  # a copy: the train step donates its state's buffers

    result = jax.tree_util.tree_map_with_path(pick, target)
    if copied == 0:
        raise ConfigError("no layer of the source model matches the target architecture; cannot fine-tune")
    return result


def interpolate_variables(base: Any, tuned: Any, alpha: float) -> Any:
    """``(1 - alpha) * base + alpha * tuned`` leaf by leaf: the weight-space ensemble of robust fine-tuning
    (WiSE-FT, Wortsman et al. 2022). ``alpha=0`` is ``base``, ``1`` is ``tuned``; batch-norm statistics are
    interpolated like the weights. Both must be the same network: ``ConfigError`` naming the first leaf that
    differs in path or shape, or an ``alpha`` outside 0..1.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"alpha must be within 0..1, got {alpha}")
    flat_base, tree = jax.tree_util.tree_flatten_with_path(base)
    flat_tuned, tree_tuned = jax.tree_util.tree_flatten_with_path(tuned)
    paths_base = [jax.tree_util.keystr(p) for p, _ in flat_base]
    paths_tuned = [jax.tree_util.keystr(p) for p, _ in flat_tuned]
    if paths_base != paths_tuned:
        pairs = zip(paths_base, paths_tuned, strict=False)
        first = next((a for a, b in pairs if a != b), None) or "(a different number of leaves)"
        raise ConfigError(f"cannot interpolate different networks: layers differ at {first}")
    leaves = []
    for (path, a), (_, b) in zip(flat_base, flat_tuned, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise ConfigError(
                f"cannot interpolate different networks: {jax.tree_util.keystr(path)} is {a.shape} vs {b.shape}"
            )
        mixed = (1.0 - alpha) * a.astype(np.float64) + alpha * b.astype(np.float64)
        leaves.append(mixed.astype(a.dtype) if np.issubdtype(a.dtype, np.floating) else a)
    return jax.tree_util.tree_unflatten(tree, leaves)


def with_overrides(config: Config, **overrides: Any) -> Config:
    """``dataclasses.replace`` that turns an unknown field into a ``ConfigError``."""
    try:
        return dataclasses.replace(config, **overrides)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
