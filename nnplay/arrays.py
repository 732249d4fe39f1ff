"""The types every dataset builder shares: a split as numpy arrays, and the error a dataset
that cannot be loaded raises. Imports nothing of nnplay, so data, sequences and tabular can
all import it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DataUnavailable(Exception):
    """A dataset that cannot be loaded here; the message is one sentence for the page."""


@dataclass(frozen=True)
class Arrays:
    """A dataset's train/test split as numpy arrays, before it goes to the device."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None
    feature_names: tuple[str, ...] = ()  # as in data.Dataset
    vocab: tuple[str, ...] = ()  # sequence tasks: as in data.Dataset
    lengths_train: np.ndarray | None = None
    lengths_test: np.ndarray | None = None
    subsets: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: tuple[str, np.ndarray] | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
