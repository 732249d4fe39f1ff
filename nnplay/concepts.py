"""One record per activation, loss, optimiser and dataset: the one place that says what each is.

The spec's allowed names, the widgets, validation, codegen and the explanations all read these
tables; the torch-side tables (activation modules, loss modules, optimiser builders, dataset
builders) are keyed by their names and checked against them in tests/test_concepts.py. This
module imports nothing of ours and no torch. To add one, see the README's "Contributing".
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


# --- datasets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSetting:
    """A number some datasets read: its default and range (the spec's bounds and the control's)."""

    label: str
    default: int | float
    low: int | float
    high: int | float
    step: int | float
    widget: Literal["slider", "number"] = "slider"
    format: str | None = None
    help: str = ""


# The DataSpec fields only some datasets read; a record's `settings` names the ones it reads.
# Specs that differ only in fields their dataset does not read share one built dataset.
DATASET_SETTINGS = ("noise", "n_samples", "train_fraction", "subset", "file", "target",
                    "seq_len", "horizon", "per_step", "points")  # fmt: skip

# The numbers among them, keyed by the DataSpec field (seq_len 0: the task's own length).
DATA_SETTINGS: dict[str, DataSetting] = {
    "noise": DataSetting("Noise", 0.1, 0.0, 0.5, 0.01, format="%.2f"),
    "n_samples": DataSetting("Samples", 1000, 50, 2000, 50),
    "train_fraction": DataSetting("Training share", 0.5, 0.1, 0.9, 0.05),
    "subset": DataSetting("Training subset (0: all)", 0, 0, 60000, 500, "number",
                          help="Train on this many images only, to keep a class demo fast."),
    "seq_len": DataSetting("Sequence length", 0, 0, 200, 1,
                           help="Steps per sequence (for sentences: the most words; shorter "
                                "ones are padded and packed)."),
    "horizon": DataSetting("Forecast horizon", 1, 1, 10, 1,
                           help="How many values after the window the model forecasts."),
}  # fmt: skip

DataKind = Literal["2d", "1d", "image", "table", "sequence", "tokens"]
# Which builder family makes a dataset (data.SOURCES; codegen writes each family's load_data):
# a numpy generator in data.GENERATORS, scikit-learn's bundled digits, a torchvision class read
# from its files, an uploaded CSV (nnplay.tabular), a sequence task (sequences.BUILDERS), the
# points drawn on the page (nnplay.drawn).
Source = Literal["generated", "bundled", "torchvision", "upload", "sequence", "drawn"]


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset: its task and shape, the settings it reads, where it comes from, and a note."""

    name: str  # as in the spec and the URL
    label: str
    task: Task
    kind: DataKind
    source: Source
    note: str  # what the data is, in a sentence or two, for the Data tab
    settings: tuple[str, ...]  # the DATASET_SETTINGS it reads (name, classes, inputs: all do)
    classes: int = 0  # default number of classes (0 for regression)
    max_classes: int = 0  # the most classes it can have
    features: int = 2  # input features of one sample (pixels for images; vocabulary for tokens)
    samples: int = 0  # a fixed set's size: all of it (split by train_fraction) or its train part
    test_samples: int = 0  # a fixed set's own test split (0: split off by train_fraction)
    torchvision: str = ""  # the torchvision.datasets class a torchvision set loads
    seq_len: int = 0  # sequence tasks: default length (0: not a sequence), and the shortest
    min_seq_len: int = 0
    memory: bool = False  # a long-memory task: the Sequences page races cells as sequences grow

    @property
    def downloads(self) -> bool:
        """torchvision downloads its files on first use."""
        return self.source == "torchvision"

    @property
    def upload(self) -> bool:
        """Its rows come from an uploaded CSV (see nnplay.tabular)."""
        return self.source == "upload"

    @property
    def per_step(self) -> bool:
        """Targets can be given at every time step (sequence-to-sequence)."""
        return "per_step" in self.settings


def _datasets(*records: DatasetRecord) -> dict[str, DatasetRecord]:
    return {r.name: r for r in records}


_GENERATED = ("noise", "n_samples", "train_fraction")
_SEQUENCE = ("noise", "n_samples", "train_fraction", "seq_len")

DATASETS = _datasets(
    DatasetRecord("circle", "Circle", "classification", "2d", "generated",
                  "A disc of one class inside a ring of the other: no straight line separates "
                  "them, but x₁² + x₂² does.", _GENERATED, 2, 2),
    DatasetRecord("xor", "XOR", "classification", "2d", "generated",
                  "Four quadrants, opposite ones alike: the class is whether x₁ and x₂ differ "
                  "in sign.", _GENERATED, 2, 2),
    DatasetRecord("gauss", "Gaussian blobs", "classification", "2d", "generated",
                  "One round cloud of points per class, centres evenly spaced on a circle.",
                  _GENERATED, 2, 6),
    DatasetRecord("spiral", "Spiral", "classification", "2d", "generated",
                  "One spiral arm per class, wound 1.75 turns: the classic hard case, it needs "
                  "hidden layers.", _GENERATED, 2, 6),
    DatasetRecord("moons", "Two moons", "classification", "2d", "generated",
                  "Two interleaving half circles: curved, but nearly separable.", _GENERATED,
                  2, 2),
    DatasetRecord("sine", "Sine (1D regression)", "regression", "1d", "generated",
                  "y = sin(t) plus noise, for t from -π to π: fit a curve.", _GENERATED,
                  features=1),
    DatasetRecord("plane", "Plane (2D regression)", "regression", "2d", "generated",
                  "y = 0.6 x₁ - 0.4 x₂ plus noise: a linear model fits it exactly.", _GENERATED),
    DatasetRecord("digits", "Digits 8x8 (scikit-learn)", "classification", "image", "bundled",
                  "1,797 handwritten digits of 8x8 pixels, bundled with scikit-learn (offline).",
                  ("train_fraction", "subset"), 10, 10, features=64, samples=1797),
    DatasetRecord("mnist", "MNIST (torchvision)", "classification", "image", "torchvision",
                  "70,000 handwritten digits of 28x28 pixels, with their own test set of "
                  "10,000.", ("subset",), 10, 10, features=784, samples=60000,
                  test_samples=10000, torchvision="MNIST"),
    DatasetRecord("fashion-mnist", "FashionMNIST (torchvision)", "classification", "image",
                  "torchvision", "70,000 pictures of clothes (shirts, shoes, bags) of 28x28 "
                  "pixels, with their own test set of 10,000.", ("subset",), 10, 10,
                  features=784, samples=60000, test_samples=10000, torchvision="FashionMNIST"),
    DatasetRecord("sine-forecast", "Sine forecast (sequence)", "regression", "sequence",
                  "sequence", "Sums of two sines with random frequencies and phases; noise is "
                  "added to the inputs, the targets are the clean values.",
                  (*_SEQUENCE, "horizon", "per_step"), features=1, seq_len=30, min_seq_len=4),
    DatasetRecord("sentiment", "Sentiment (short sentences)", "classification", "tokens",
                  "sequence", "Sentences from a built-in vocabulary with negation ('not good'), "
                  "intensifiers and 'but'; noise adds filler words. The test set's "
                  "**negation** subset holds the sentences with 'not' or 'never'.", _SEQUENCE,
                  2, 2, features=56, seq_len=12, min_seq_len=10),  # 56: vocabulary size
    DatasetRecord("parity", "Parity of bits (memory)", "classification", "sequence", "sequence",
                  "Is the number of ones odd? Training strings have random lengths (short "
                  "ones teach the rule); test strings have the full length.", _SEQUENCE, 2, 2,
                  features=1, seq_len=10, min_seq_len=2, memory=True),
    DatasetRecord("adding", "Adding problem (memory)", "regression", "sequence", "sequence",
                  "Pairs (value, marker): predict the sum of the two marked values, one in "
                  "each half of the sequence.", _SEQUENCE, features=2, seq_len=20,
                  min_seq_len=2, memory=True),
    DatasetRecord("csv", "Your CSV (upload)", "classification", "table", "upload",
                  "Your own table: a header row, one row per example; choose the column to "
                  "predict.", ("train_fraction", "file", "target"), 2, 10, features=0),
    DatasetRecord("draw", "Draw your own", "classification", "2d", "drawn",
                  "Your own points: click the chart to add a point of the chosen class, or "
                  "start from another set's points and edit them.", ("points", "train_fraction"),
                  2, 6),
)  # fmt: skip
