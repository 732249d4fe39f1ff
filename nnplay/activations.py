"""The activation explorer's math: f(x) and f'(x) from autograd for every activation the
Playground offers, the regions where the gradient all but vanishes, and a softmax with a
temperature. Explanations live here too, so the page only lays them out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nnplay.models import ACTIVATION_MODULES
from nnplay.spec import ACTIVATIONS

NEAR_ZERO = 0.05  # |f'(x)| below this is shaded as saturation (no gradient to learn from)


@dataclass(frozen=True)
class Param:
    """A constructor argument of an activation, with the range its slider offers."""

    name: str  # the keyword torch.nn takes
    label: str
    default: float
    low: float
    high: float
    step: float


PARAMS: dict[str, tuple[Param, ...]] = {
    "LeakyReLU": (Param("negative_slope", "slope for x < 0", 0.01, 0.0, 1.0, 0.01),),
    "ELU": (Param("alpha", "alpha", 1.0, 0.1, 3.0, 0.1),),
    "Softplus": (Param("beta", "beta", 1.0, 0.1, 10.0, 0.1),),
}

NOTES: dict[str, str] = {
    "ReLU": "max(0, x). Cheap, and its gradient is exactly 1 for positive inputs, so deep "
            "stacks train well. It hurts when a unit's input is negative for every sample: "
            "its gradient is 0, nothing updates it, and it stays dead. A high learning rate "
            "or a large negative bias can kill many units at once.",
    "LeakyReLU": "ReLU with a small slope for x < 0, so a unit that went negative still gets a "
                 "gradient and can come back. The usual fix for dead ReLUs.",
    "ELU": "Like ReLU for x > 0; for x < 0 it curves smoothly to -alpha. Outputs average "
           "closer to zero, which can speed training; the negative side still saturates.",
    "GELU": "x times the chance that a standard normal is below x: a smooth ReLU used in "
            "transformers. Slightly negative for small negative inputs, no hard kink at 0.",
    "SiLU": "x · sigmoid(x) (also called Swish): smooth, non-monotonic near 0, unbounded above. "
            "Behaves like ReLU for large inputs without dead units.",
    "Tanh": "Squashes to (-1, 1), centred on 0. Its gradient is at most 1 and falls towards 0 "
            "once |x| exceeds about 2: saturated units pass almost no gradient back, and "
            "through many layers gradients vanish.",
    "Sigmoid": "Squashes to (0, 1): the right output for a probability. As a hidden activation "
               "it hurts: its gradient is at most 0.25, so every layer shrinks the gradient by "
               "4x or more, and it is not centred on 0. This is the classic vanishing gradient.",
    "Softplus": "log(1 + e^(beta·x)) / beta: a smooth ReLU that is never exactly flat. Larger "
                "beta makes it sharper and closer to ReLU.",
    "Identity": "No non-linearity at all. A stack of Linear layers with Identity between them "
                "is one Linear layer: it can only draw straight decision boundaries.",
}  # fmt: skip
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
