"""build(): a spec's whole model, feed-forward (models.build) or recurrent (recurrent.build).

This is the one place that chooses between the two builders, so neither imports the other
to dispatch."""

from __future__ import annotations

import torch
from torch import nn

from nnplay import models, recurrent
from nnplay.spec import ExperimentSpec


def build(spec: ExperimentSpec, in_features: int, n_classes: int,
          generator: torch.Generator | None = None) -> nn.Module:
    """The spec's model between in_features and its outputs, initialised from generator
    (default: a generator seeded with spec.seed)."""
    if generator is None:
        generator = torch.Generator().manual_seed(spec.seed)
    if spec.model.recurrent is not None:
        return recurrent.build(spec, in_features, n_classes, generator)
    return models.build(spec, in_features, n_classes, generator)
