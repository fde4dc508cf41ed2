"""Config field metadata: the one place that says which fields shape the network, which a study may search, and
each field's `facesweep train` flag; and every architecture field really reaches the network."""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from facesweep.model.cnn import ARCHITECTURE_FIELDS, CNN, init_variables, model_for
from facesweep.model.config import Config, architecture_fields, flag_fields, searchable_fields, tiny

# For each architecture field, a value that must change the network of BASE (shapes or the train-mode forward
# pass). A new architecture field without an entry here fails test_every_architecture_field_has_a_probe.
BASE = tiny(image_size=16, depth=2, width=4, growth=2.0, max_width=6, dense=(8,), conv_dropout=0.2, dropout=0.2)
CHANGED = {
    "image_size": 24,
    "channels": 3,
    "num_classes": 2,
    "depth": 3,
    "width": 5,
    "growth": 1.0,
    "max_width": 8,
    "convs_per_block": 2,
    "dense": (9,),
    "conv_dropout": 0.5,
    "dropout": 0.5,
}


def param_shapes(config: Config) -> list:
    """Parameter paths and shapes, traced without allocating or compiling."""
    shapes = jax.eval_shape(lambda: init_variables(CNN(config), jax.random.key(0)))["params"]
    return [(jax.tree_util.keystr(path), leaf.shape) for path, leaf in jax.tree_util.tree_leaves_with_path(shapes)]


def train_output(config: Config) -> np.ndarray:
    """The train-mode forward pass (dropout on) for fixed weights, images and dropout key."""
    model = CNN(config)
    variables = init_variables(model, jax.random.key(0))
    images = jnp.asarray(np.random.default_rng(0).integers(0, 256, (2, *config.input_shape)), jnp.uint8)
    out, _ = model.apply(variables, images, train=True, rngs={"dropout": jax.random.key(1)}, mutable=["batch_stats"])
    return np.asarray(out)


def test_every_architecture_field_has_a_probe() -> None:
    assert set(CHANGED) == set(architecture_fields())
    assert ARCHITECTURE_FIELDS == architecture_fields()


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_every_architecture_field_reaches_the_network(name: str) -> None:
    changed = dataclasses.replace(BASE, **{name: CHANGED[name]}).validate()
    assert getattr(changed, name) != getattr(BASE, name)
    base, new = model_for(BASE).config, model_for(changed).config  # through model_for: no field is dropped
    if param_shapes(base) == param_shapes(new):  # same weights: the forward pass must differ (dropout rates)
        assert not np.allclose(train_output(base), train_output(new)), name


def test_training_fields_do_not_change_the_network() -> None:
    trained = dataclasses.replace(BASE, epochs=7, learning_rate=0.01, seed=3, augment=False, patience=2)
    assert model_for(trained) is model_for(BASE)  # one module instance: one compiled program


def test_searchable_and_flags_follow_the_metadata() -> None:
    from facesweep.cli.train import OVERRIDES
    from facesweep.sweep.space import UNSEARCHABLE

    assert UNSEARCHABLE == ("task", "image_size", "channels", "num_classes", "extra")
    assert set(searchable_fields()) | set(UNSEARCHABLE) == {f.name for f in dataclasses.fields(Config)}
    assert OVERRIDES["lr"] == "learning_rate" and OVERRIDES["no_augment"] == "augment"
    assert set(OVERRIDES.values()) == {f.name for f in flag_fields()}
    for spec in dataclasses.fields(Config):
        assert spec.metadata["help"], spec.name  # every field says what it is


def test_train_flags_build_the_config() -> None:
    from facesweep.cli.train import build_config, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "--depth", "2", "--lr", "0.002", "--dense", "none", "--no-augment",
                              "--channels", "3", "--schedule", "constant"])  # fmt: skip
    config = build_config(args)
    assert (config.depth, config.learning_rate, config.dense, config.augment) == (2, 0.002, (), False)
    assert (config.channels, config.schedule) == (3, "constant")
    assert build_config(parser.parse_args(["train"])).augment is True
