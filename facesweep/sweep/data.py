"""The study's data: loaded once for the whole study, its train split optionally cut to a fixed seeded subset."""

from __future__ import annotations

import dataclasses

import numpy as np

from facesweep.io.dataset import Dataset, Split
from facesweep.sweep.options import SYNTHETIC_TRAIN_LIMIT, StudyOptions


def load_study_data(options: StudyOptions) -> Dataset:
    """The dataset, loaded once for the whole study (its train split cut to ``train_limit``)."""
    if options.data is None and options.synthetic_size is not None:
        from facesweep.io.synthetic import synthetic_dataset

        n_train, n_val = options.synthetic_size
        dataset = synthetic_dataset(options.task, n_train=n_train, n_val=n_val, seed=0)
    else:
        from facesweep.io import load_dataset

        dataset = load_dataset(options.task, options.data)
    limit = options.train_limit
    if limit == -1:
        limit = SYNTHETIC_TRAIN_LIMIT if options.data is None and options.synthetic_size is None else None
    return limit_train(dataset, limit)


def limit_train(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """``dataset`` with a fixed, seeded subset of ``limit`` train images (class shares kept by the shuffle)."""
    if limit is None or limit <= 0 or limit >= len(dataset.train):
        return dataset
    keep = np.sort(np.random.default_rng(seed).permutation(len(dataset.train))[:limit])
    train = Split(dataset.train.images[keep], dataset.train.labels[keep])
    source = f"{dataset.source}, {limit} of {len(dataset.train)} train images"
    return dataclasses.replace(dataset, splits={**dataset.splits, "train": train}, source=source)
