"""The activation explorer's math: f(x) and f'(x) from autograd for every activation the
Playground offers, the regions where the gradient all but vanishes, and a softmax with a
temperature. Explanations come from the activation records, so the page only lays them out."""

from __future__ import annotations

import numpy as np
import torch

from nnplay import concepts
from nnplay.concepts import Param
from nnplay.models import ACTIVATION_MODULES
from nnplay.spec import ACTIVATIONS

NEAR_ZERO = 0.05  # |f'(x)| below this is shaded as saturation (no gradient to learn from)


# The explorer's sliders and notes, from the one record per activation (nnplay.concepts).
PARAMS: dict[str, tuple[Param, ...]] = {n: r.params for n, r in concepts.ACTIVATIONS.items()
                                        if r.params}
NOTES: dict[str, str] = {n: r.note for n, r in concepts.ACTIVATIONS.items()}
assert set(PARAMS) <= set(ACTIVATIONS) and set(NOTES) == set(ACTIVATIONS)


def defaults(name: str) -> dict[str, float]:
    """The default parameters of an activation ({} when it has none)."""
    return {p.name: p.default for p in PARAMS.get(name, ())}


def module(name: str, params: dict[str, float] | None = None) -> torch.nn.Module:
    """The torch.nn activation with the given parameters (defaults for those not given)."""
    return ACTIVATION_MODULES[name](**(defaults(name) | (params or {})))


def curve(name: str, x: np.ndarray, params: dict[str, float] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) at the points x, the derivative from autograd."""
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    y = module(name, params)(xt)
    (grad,) = torch.autograd.grad(y.sum(), xt)  # elementwise f, so d(sum f)/dx_i = f'(x_i)
    return y.detach().numpy(), grad.numpy()


def flat_regions(x: np.ndarray, grad: np.ndarray, threshold: float = NEAR_ZERO
                 ) -> list[tuple[float, float]]:
    """The intervals of x (as (start, end), in order) where |f'(x)| < threshold."""
    flat = np.abs(np.asarray(grad)) < threshold
    if not flat.any():
        return []
    edges = np.diff(np.concatenate([[0], flat.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
    return [(float(x[s]), float(x[e])) for s, e in zip(starts, ends)]


def softmax(values: list[float] | np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(values / temperature): low temperature sharpens towards argmax, high flattens."""
    if temperature <= 0:
        raise ValueError("The temperature must be above 0.")
    v = torch.tensor(np.asarray(values, dtype=np.float64))
    return torch.softmax(v / temperature, dim=0).numpy()


def parse_vector(text: str, limit: int = 12) -> list[float]:
    """Numbers separated by commas or spaces ('2, 1, 0.1'); ValueError with a sentence."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not 2 <= len(parts) <= limit:
        raise ValueError(f"Enter 2 to {limit} numbers separated by commas, e.g. 2, 1, 0.1.")
    values = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise ValueError(f"'{p}' is not a number.") from None
        if not np.isfinite(v) or abs(v) > 1e6:
            raise ValueError(f"'{p}' is out of range: use numbers between -1e6 and 1e6.")
        values.append(v)
    return values
