"""One record per activation, loss and optimiser: the one place that says what each is.

The spec's allowed names, the widgets, validation, codegen and the explanations all read these
tables; the torch-side tables (activation modules, loss modules, optimiser builders) are keyed by
their names and checked against them in tests/test_concepts.py. This module imports nothing of
ours and no torch. To add one, see the README's "Adding an activation, a loss or an optimiser".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Task = Literal["classification", "regression"]


# --- activations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A constructor argument of an activation, with the range its slider offers."""

    name: str  # the keyword torch.nn takes
    label: str
    default: float
    low: float
    high: float
    step: float


@dataclass(frozen=True)
class ActivationRecord:
    """An element-wise non-linearity from torch.nn, how the instruments read it, and a note."""

    name: str  # the torch.nn class name, as in the spec and the URL
    kind: Literal["relu", "saturating", "other"]  # dead units (never positive) or saturation
    note: str  # what it does and when it hurts, for the activation explorer
    params: tuple[Param, ...] = ()  # constructor arguments the explorer offers (spec: defaults)
    bounds: tuple[float, float] | None = None  # output range, for the saturating kind


def _activations(*records: ActivationRecord) -> dict[str, ActivationRecord]:
    return {r.name: r for r in records}


ACTIVATIONS = _activations(
    ActivationRecord("ReLU", "relu",
        "max(0, x). Cheap, and its gradient is exactly 1 for positive inputs, so deep "
        "stacks train well. It hurts when a unit's input is negative for every sample: "
        "its gradient is 0, nothing updates it, and it stays dead. A high learning rate "
        "or a large negative bias can kill many units at once."),
    ActivationRecord("LeakyReLU", "relu",
        "ReLU with a small slope for x < 0, so a unit that went negative still gets a "
        "gradient and can come back. The usual fix for dead ReLUs.",
        (Param("negative_slope", "slope for x < 0", 0.01, 0.0, 1.0, 0.01),)),
    ActivationRecord("ELU", "relu",
        "Like ReLU for x > 0; for x < 0 it curves smoothly to -alpha. Outputs average "
        "closer to zero, which can speed training; the negative side still saturates.",
        (Param("alpha", "alpha", 1.0, 0.1, 3.0, 0.1),)),
    ActivationRecord("GELU", "relu",
        "x times the chance that a standard normal is below x: a smooth ReLU used in "
        "transformers. Slightly negative for small negative inputs, no hard kink at 0."),
    ActivationRecord("SiLU", "relu",
        "x · sigmoid(x) (also called Swish): smooth, non-monotonic near 0, unbounded above. "
        "Behaves like ReLU for large inputs without dead units."),
    ActivationRecord("Tanh", "saturating",
        "Squashes to (-1, 1), centred on 0. Its gradient is at most 1 and falls towards 0 "
        "once |x| exceeds about 2: saturated units pass almost no gradient back, and "
        "through many layers gradients vanish.", bounds=(-1.0, 1.0)),
    ActivationRecord("Sigmoid", "saturating",
        "Squashes to (0, 1): the right output for a probability. As a hidden activation "
        "it hurts: its gradient is at most 0.25, so every layer shrinks the gradient by "
        "4x or more, and it is not centred on 0. This is the classic vanishing gradient.",
        bounds=(0.0, 1.0)),
    ActivationRecord("Softplus", "other",
        "log(1 + e^(beta·x)) / beta: a smooth ReLU that is never exactly flat. Larger "
        "beta makes it sharper and closer to ReLU.",
        (Param("beta", "beta", 1.0, 0.1, 10.0, 0.1),)),
    ActivationRecord("Identity", "other",
        "No non-linearity at all. A stack of Linear layers with Identity between them "
        "is one Linear layer: it can only draw straight decision boundaries."),
)  # fmt: skip


# --- losses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossInfo:
    """Which task a loss fits, and what it asks of the model's output and targets."""

    task: Task
    output: Literal["logits", "log_softmax", "sigmoid", "linear"]
    target: Literal["index", "onehot", "binary", "value"]
    binary_only: bool = False
    note: str = ""


REGRESSION = LossInfo("regression", "linear", "value")  # every regression loss: raw outputs


@dataclass(frozen=True)
class LossRecord:
    """A torch.nn loss: what it measures, and the tasks it fits (with how, for classes)."""

    name: str  # the torch.nn class name, as in the spec
    note: str  # what it measures, in a sentence
    classification: LossInfo | None = None  # how it scores classes (None: it does not)
    regression: bool = False  # it fits real-valued targets (raw outputs against values)

    @property
    def fits(self) -> tuple[Task, ...]:
        """The tasks this loss can train."""
        return (("classification",) * (self.classification is not None)
                + ("regression",) * self.regression)  # fmt: skip


def _losses(*records: LossRecord) -> dict[str, LossRecord]:
    return {r.name: r for r in records}


def _classes(output: str, target: str, binary_only: bool = False, note: str = "") -> LossInfo:
    return LossInfo("classification", output, target, binary_only, note)  # type: ignore[arg-type]


LOSSES = _losses(
    LossRecord("CrossEntropyLoss", "minus the log-probability the softmax of the outputs gives "
               "the right class", _classes("logits", "index")),
    LossRecord("NLLLoss", "minus the log-probability of the right class, read from "
               "log-probabilities", _classes("log_softmax", "index",
                                             note="output gets log_softmax")),
    LossRecord("BCEWithLogitsLoss", "binary cross-entropy of one output through a sigmoid, "
               "computed stably in one step", _classes("logits", "binary", binary_only=True)),
    LossRecord("BCELoss", "binary cross-entropy of a probability against a 0/1 target",
               _classes("sigmoid", "binary", binary_only=True, note="output gets a Sigmoid")),
    LossRecord("KLDivLoss", "how far the predicted distribution is from the target one "
               "(Kullback-Leibler)", _classes("log_softmax", "onehot",
                                              note="log-probabilities against one-hot targets")),
    LossRecord("MSELoss", "the mean squared difference between outputs and targets",
               _classes("logits", "onehot", note="against one-hot targets"), regression=True),
    LossRecord("L1Loss", "the mean absolute difference between outputs and targets",
               _classes("logits", "onehot", note="against one-hot targets"), regression=True),
    LossRecord("SmoothL1Loss", "squared for small differences, absolute for large ones: "
               "robust to outliers", regression=True),
    LossRecord("HuberLoss", "like SmoothL1Loss, with the switch point (delta) scaling the "
               "quadratic part", regression=True),
)  # fmt: skip


# --- optimisers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerSetting:
    """A setting some optimisers take beyond lr and weight decay: its default and its widget."""

    label: str
    default: float | bool
    widget: Literal["slider", "checkbox", "number"] = "number"
    low: float = 0.0  # the widget's range (the spec's bounds may be wider)
    high: float = 1.0
    step: float = 0.01
    format: str = "%.3f"  # number widgets only


# Keyed by the OptimizerSpec field; numbers an optimiser takes are drawn side by side.
OPTIMIZER_SETTINGS: dict[str, OptimizerSetting] = {
    "momentum": OptimizerSetting("Momentum", 0.0, "slider", 0.0, 0.99, 0.01),
    "nesterov": OptimizerSetting("Nesterov", False, "checkbox"),
    "beta1": OptimizerSetting("beta1", 0.9, "number", 0.0, 0.999, 0.01, "%.3f"),
    "beta2": OptimizerSetting("beta2", 0.999, "number", 0.0, 0.9999, 0.001, "%.4f"),
}


@dataclass(frozen=True)
class OptimizerRecord:
    """A torch.optim optimiser: the settings of its own it takes, a usual rate, and a note."""

    name: str  # the torch.optim class name, as in the spec
    family: Literal["sgd", "adaptive"]  # one rate for all weights, or one per weight
    note: str
    typical_lr: float  # a usual starting learning rate (the doctor compares against it)
    settings: tuple[str, ...] = ()  # keys of OPTIMIZER_SETTINGS, besides lr and weight decay


def _optimizers(*records: OptimizerRecord) -> dict[str, OptimizerRecord]:
    return {r.name: r for r in records}


OPTIMIZERS = _optimizers(
    OptimizerRecord("SGD", "sgd", "steps down the gradient; momentum keeps a running "
                    "direction, Nesterov looks ahead along it", 0.1, ("momentum", "nesterov")),
    OptimizerRecord("Adam", "adaptive", "one step size per weight, from running averages of "
                    "the gradient (beta1) and its square (beta2)", 0.01, ("beta1", "beta2")),
    OptimizerRecord("AdamW", "adaptive", "Adam with weight decay applied to the weights "
                    "directly, not through the gradient", 0.01, ("beta1", "beta2")),
    OptimizerRecord("Adagrad", "adaptive", "divides each weight's step by the root of all its "
                    "squared gradients so far: steps only shrink", 0.01),
    OptimizerRecord("Adadelta", "adaptive", "Adagrad with running averages instead of sums, "
                    "scaled so a rate of 1 is usual", 1.0),
    OptimizerRecord("RMSprop", "adaptive", "divides each step by a running average of the "
                    "squared gradient; momentum optional", 0.01, ("momentum",)),
)  # fmt: skip


def takes(setting: str) -> tuple[str, ...]:
    """The optimisers that take an optimiser setting of their own ('momentum': SGD, RMSprop)."""
    return tuple(name for name, r in OPTIMIZERS.items() if setting in r.settings)
