"""Engineered inputs of 2D data (x₁², sin x₁, ...) as the model's first, parameter-free module."""

from __future__ import annotations

import torch
from torch import nn

from nnplay.spec import DEFAULT_INPUTS, INPUTS, ExperimentSpec


class Features(nn.Module):
    """The named functions of the two raw inputs (x1, x2), one column each, in the given order."""

    FUNCTIONS = (  # (name, column from x1 and x2)
        ("x1", lambda x1, x2: x1),
        ("x2", lambda x1, x2: x2),
        ("x1^2", lambda x1, x2: x1 * x1),
        ("x2^2", lambda x1, x2: x2 * x2),
        ("x1*x2", lambda x1, x2: x1 * x2),
        ("sin(x1)", lambda x1, x2: torch.sin(x1)),
        ("sin(x2)", lambda x1, x2: torch.sin(x2)),
    )

    def __init__(self, names):
        super().__init__()
        self.names = tuple(names)
        functions = dict(self.FUNCTIONS)
        self.columns = [functions[n] for n in self.names]  # looked up once, not every step

    def forward(self, x):  # (batch, 2) -> (batch, len(names))
        x1, x2 = x[:, 0], x[:, 1]
        return torch.stack([column(x1, x2) for column in self.columns], dim=1)

    def extra_repr(self):
        return ", ".join(self.names)


assert tuple(name for name, _ in Features.FUNCTIONS) == tuple(INPUTS)


def for_spec(spec: ExperimentSpec) -> Features | None:
    """The Features module a spec's model starts with; None for the plain inputs x1, x2."""
    inputs = spec.data.inputs
    return None if inputs == DEFAULT_INPUTS else Features(inputs)


def labels(names: tuple[str, ...]) -> list[str]:
    """The inputs as the page names them: x₁², sin x₁."""
    return [INPUTS[n] for n in names]
