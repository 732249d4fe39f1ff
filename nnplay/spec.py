"""The experiment as one validated, frozen spec: data, model, loss, optimiser, training.

This module imports only nnplay.concepts (the records) and no torch, so pages, the URL parser
and the CLI can validate an experiment before anything heavy is loaded. The name tables below
are the names the registries in `data`, `models` and `train` implement; tests check they agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nnplay import concepts, drawn
from nnplay.concepts import LossInfo, Task

# Datasets, by name, from their records (nnplay.concepts): task, kind, label, classes, settings.
DatasetInfo = concepts.DatasetRecord
DATASETS: dict[str, DatasetInfo] = concepts.DATASETS

# Input features of uploaded CSVs by (file id, target column); nnplay.tabular fills it in when
# it reads a file, so an upload's DataSpec.info can say how wide its rows are. Until then (a
# link or a stored run on a fresh server) engineered inputs are left to tabular.arrays to check.
UPLOAD_FEATURES: dict[tuple[str, str], int] = {}

# Names, in order, from the one record per activation, loss and optimiser (nnplay.concepts).
ACTIVATIONS = tuple(concepts.ACTIVATIONS)
LOSSES: dict[str, LossInfo] = {  # the classification losses, and how each scores classes
    n: r.classification for n, r in concepts.LOSSES.items() if r.classification is not None
}
REGRESSION_LOSSES = tuple(n for n, r in concepts.LOSSES.items() if r.regression)
OPTIMIZERS = tuple(concepts.OPTIMIZERS)

# Engineered inputs of a 2D dataset, as TensorFlow Playground offers them: name -> label shown.
# nnplay.features computes them; data.inputs names the ones a model reads, in this order.
INPUTS: dict[str, str] = {
    "x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂",
    "sin(x1)": "sin x₁", "sin(x2)": "sin x₂",
}  # fmt: skip
DEFAULT_INPUTS = ("x1", "x2")


def parse_inputs(value: object) -> object:
    """'x1,x2,x1^2' (or a list) as names in INPUTS' order; ValueError with a sentence for an
    unknown or repeated name. Other types are left for the field's own check."""
    if isinstance(value, str):
        value = [] if not value.strip() else value.split(",")
    if not isinstance(value, (list, tuple)):
        return value
    names = [str(v).strip() for v in value][: len(INPUTS) + 1]
    if not names:
        raise ValueError("choose at least one input")
    for name in names:
        if name not in INPUTS:
            shown = name if len(name) <= 20 else name[:19] + "…"  # as a literal: one line
            raise ValueError(f"{shown!r} is not an input; choose from {', '.join(INPUTS)}")
    if len(set(names)) < len(names):
        raise ValueError("each input can be chosen once")
    return tuple(n for n in INPUTS if n in names)


def two_d_inputs(info: DatasetInfo) -> bool:
    """True when a dataset has two numeric inputs, so engineered inputs can be made from them."""
    return info.kind == "2d" or (info.kind == "table" and info.features == 2)


DEVICES = ("auto", "cpu", "cuda", "mps")


def losses_for(task: Task, classes: int) -> list[str]:
    """The loss names that fit a task (and, for classification, its number of classes)."""
    if task == "regression":
        return list(REGRESSION_LOSSES)
    return [n for n, info in LOSSES.items() if classes == 2 or not info.binary_only]


def loss_info(name: str, task: Task) -> LossInfo:
    """How a loss treats outputs and targets for this task."""
    if task == "regression":
        return concepts.REGRESSION
    return LOSSES[name]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _data_field(key: str, description: str) -> Any:
    """A DataSpec field whose default and bounds are its concepts.DATA_SETTINGS entry's."""
    s = concepts.DATA_SETTINGS[key]
    return Field(s.default, ge=s.low, le=s.high, description=description)


class DataSpec(_Frozen):
    """Which dataset, and how it is generated and split."""

    name: Literal[tuple(DATASETS)] = "spiral"  # type: ignore[valid-type]
    noise: float = _data_field("noise", "noise, as a fraction")
    n_samples: int = _data_field("n_samples", "samples (generated sets)")
    train_fraction: float = _data_field("train_fraction", "share used for training")
    classes: int = Field(0, ge=0, le=10, description="classes (0: the dataset's default)")
    subset: int = _data_field("subset", "training subset for image sets (0: all)")
    # An uploaded CSV (name "csv") is its content hash, a target column and a task; other
    # datasets ignore these three.
    file: str = Field("", max_length=64, pattern=r"^[0-9a-f]*$", description="uploaded CSV id")
    target: str = Field("", max_length=200, description="target column of the uploaded CSV")
    task: Literal["auto", "classification", "regression"] = "auto"
    # Sequence tasks only: their length, how far sine-forecast looks ahead, and whether targets
    # come at every step (sequence-to-sequence) or after the last one.
    seq_len: int = _data_field("seq_len", "sequence length (0: the task's default)")
    horizon: int = _data_field("horizon", "values to forecast ahead")
    per_step: bool = False
    # 2D data only: the engineered inputs the model reads (see INPUTS).
    inputs: tuple[Literal[tuple(INPUTS)], ...] = Field(  # type: ignore[valid-type]
        DEFAULT_INPUTS, min_length=1, max_length=len(INPUTS), description="inputs")

    # "Draw your own" only: the drawn points, as nnplay.drawn writes them (two characters a point).
    points: str = Field("", max_length=drawn.MAX_TEXT, pattern=r"^[A-Za-z0-9_.-]*$",
                        description="drawn points")

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: object) -> object:
        return parse_inputs(value)

    @field_validator("points", mode="before")
    @classmethod
    def _points(cls, value: object) -> object:
        too_long = drawn.oversize(value) if isinstance(value, str) else None
        if too_long:  # before the pattern is matched or any of it is read
            raise ValueError(too_long)
        return value

    @property
    def info(self) -> DatasetInfo:
        info = DATASETS[self.name]
        if not info.upload:
            return info
        features = UPLOAD_FEATURES.get((self.file, self.target), 0)
        task = info.task if self.task == "auto" else self.task
        label = f"'{self.target}' from your CSV" if self.target else info.label
        return replace(info, task=task, label=label, features=features,
                       classes=info.classes if task == "classification" else 0)

    @property
    def length(self) -> int:
        """Sequence length this spec asks for: the task's default unless set (0: no sequences)."""
        return self.seq_len or self.info.seq_len

    @property
    def outputs(self) -> int:
        """Values a regression target holds: `horizon` for a forecast, else 1."""
        return self.horizon if self.info.per_step else 1

    @property
    def n_classes(self) -> int:
        """Classes this spec asks for: the dataset's default unless set (0 for regression)."""
        return (self.classes or self.info.classes) if self.info.task == "classification" else 0

    @model_validator(mode="after")
    def _classes_fit(self) -> DataSpec:
        info = self.info
        if info.upload:
            if not self.file:
                raise ValueError("upload a CSV file first")
            if not self.target:
                raise ValueError("choose the target column of your CSV")
            if self.task == "auto":
                raise ValueError("choose classification or regression for your CSV")
            if info.task == "classification" and not self.classes:
                raise ValueError("give the number of classes in your CSV's target column")
        unread = info.upload and (self.file, self.target) not in UPLOAD_FEATURES
        if self.inputs != DEFAULT_INPUTS and not two_d_inputs(info) and not unread:
            raise ValueError(f"engineered inputs (other than x1,x2) need a dataset with two "
                             f"numeric inputs, and {info.label} has {info.features or 'more'}")
        if info.seq_len and self.seq_len and self.seq_len < info.min_seq_len:
            raise ValueError(f"{info.label} needs sequences of at least {info.min_seq_len} steps")
        if self.horizon > 1 and not info.per_step:
            raise ValueError(f"{info.label} is not a forecast: it has no horizon to set")
        if self.per_step and not info.per_step:
            raise ValueError(f"{info.label} has one target per sequence, not one per step")
        if self.name == "draw":
            drawing = drawn.problem(self.points, self.n_classes)
            if drawing is not None:
                raise ValueError(drawing)
        if info.task == "classification" and self.classes:
            if self.classes < 2 or self.classes > info.max_classes:
                raise ValueError(
                    f"{info.label} can have 2 to {info.max_classes} classes, not {self.classes}"
                    if info.max_classes > 2
                    else f"{info.label} has exactly 2 classes, not {self.classes}"
                )
        return self


class Linear(_Frozen):
    """A fully connected layer; its input size follows from the layer before."""

    type: Literal["linear"] = "linear"
    units: int = Field(8, ge=1, le=4096, description="output features")


class Activation(_Frozen):
    """A non-linearity applied element-wise."""

    type: Literal["activation"] = "activation"
    name: Literal[ACTIVATIONS] = "ReLU"  # type: ignore[valid-type]


class Dropout(_Frozen):
    """Zeroes each unit with probability p while training."""

    type: Literal["dropout"] = "dropout"
    p: float = Field(0.2, ge=0.0, lt=1.0, description="dropout probability")


Layer = Annotated[Linear | Activation | Dropout, Field(discriminator="type")]


CELL_LABELS = {
    "RNN": "RNN (nn.RNN)", "LSTM": "LSTM (nn.LSTM)", "GRU": "GRU (nn.GRU)",
    "LSTMCell": "LSTMCell, stepped by hand", "BagOfWords": "Bag of words (no recurrence)",
}  # fmt: skip
CELLS = tuple(CELL_LABELS)


class RecurrentSpec(_Frozen):
    """Recurrent layers read the sequence; the head sees their output at the last step (or at
    every step). LSTMCell is an LSTM stepped by hand over time; BagOfWords is the baseline with
    no recurrence: it averages the inputs over time."""

    cell: Literal[CELLS] = "LSTM"  # type: ignore[valid-type]
    hidden_size: int = Field(32, ge=1, le=512, description="hidden_size")
    num_layers: int = Field(1, ge=1, le=4, description="num_layers")
    bidirectional: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout between recurrent layers")
    batch_first: bool = True
    embedding_dim: int = Field(16, ge=1, le=256, description="embedding size (token inputs)")

    @model_validator(mode="after")
    def _dropout_between_layers(self) -> RecurrentSpec:
        if self.dropout and self.num_layers == 1:
            raise ValueError("dropout between recurrent layers needs num_layers of 2 or more")
        return self


class ModelSpec(_Frozen):
    """The hidden stack; the output layer is added to fit the dataset and loss. With a recurrent
    model the stack is its head."""

    layers: tuple[Layer, ...] = Field(
        (Linear(units=16), Activation(name="ReLU"), Linear(units=16), Activation(name="ReLU")),
        max_length=64,
    )
    recurrent: RecurrentSpec | None = None


def feed_forward(num_hidden: int, hidden_dim: int, dropout: float) -> ModelSpec:
    """The reference's FeedForwardNN: num_hidden x (Linear -> Dropout -> ReLU)."""
    block = (Linear(units=hidden_dim), Dropout(p=dropout), Activation(name="ReLU"))
    return ModelSpec(layers=block * num_hidden)


class LossSpec(_Frozen):
    """The training criterion, named as in torch.nn."""

    name: Literal[tuple(concepts.LOSSES)] = "CrossEntropyLoss"  # type: ignore[valid-type]


_OWN = concepts.OPTIMIZER_SETTINGS  # the defaults of the settings only some optimisers take


def _own(key: str) -> str:
    """A setting's description: 'momentum (SGD, RMSprop)'."""
    return f"{key} ({', '.join(concepts.takes(key))})"


class OptimizerSpec(_Frozen):
    """A torch.optim optimiser and its settings."""

    name: Literal[OPTIMIZERS] = "Adam"  # type: ignore[valid-type]
    lr: float = Field(0.01, ge=1e-5, le=10.0, description="learning rate")
    momentum: float = Field(_OWN["momentum"].default, ge=0.0, lt=1.0, description=_own("momentum"))
    nesterov: bool = _OWN["nesterov"].default
    beta1: float = Field(_OWN["beta1"].default, ge=0.0, lt=1.0, description=_own("beta1"))
    beta2: float = Field(_OWN["beta2"].default, ge=0.0, lt=1.0, description=_own("beta2"))
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="weight decay")

    @model_validator(mode="after")
    def _nesterov(self) -> OptimizerSpec:
        if self.nesterov and (self.name not in concepts.takes("nesterov") or self.momentum == 0):
            raise ValueError("Nesterov momentum needs SGD with momentum above 0")
        return self


def model_words(spec: ExperimentSpec) -> str:
    """The model in a few words: 'bidirectional LSTM(32) × 1 → Linear(16) → Tanh'."""
    words = {"linear": lambda x: f"Linear({x.units})", "activation": lambda x: x.name,
             "dropout": lambda x: f"Dropout({x.p:g})"}  # fmt: skip
    stack = [words[x.type](x) for x in spec.model.layers]
    rec = spec.model.recurrent
    if rec is not None:
        bi = "bidirectional " if rec.bidirectional else ""
        stack.insert(0, f"{bi}{rec.cell}({rec.hidden_size}) × {rec.num_layers}")
    return " → ".join(stack) or "no hidden layers"


def setup_words(spec: ExperimentSpec) -> str:
    """The whole setup in one line: 'Spiral · Linear(16) → Tanh · CrossEntropyLoss · Adam lr
    0.01 · batch 16 · 3,200 steps · seed 0' (the model as model_words writes it)."""
    t = spec.train
    length = f"{t.max_steps:,} steps" if t.max_steps else f"{t.epochs} epochs"
    return (f"{spec.data.info.label} · {model_words(spec)} · {spec.loss.name} · "
            f"{spec.optimizer.name} lr {spec.optimizer.lr:g} · batch {t.batch_size} · {length} · "
            f"seed {spec.seed}")


def optimizer_label(opt: OptimizerSpec) -> str:
    """An optimiser as a short label: 'SGD lr=0.1 momentum=0.9', 'Adam lr=0.001 wd=0.01'."""
    parts = [opt.name, f"lr={opt.lr:g}"]
    own = concepts.OPTIMIZERS[opt.name].settings
    if "momentum" in own and opt.momentum:
        parts.append(f"momentum={opt.momentum:g}")
    if opt.nesterov:
        parts.append("nesterov")
    if "beta1" in own and (opt.beta1, opt.beta2) != (_OWN["beta1"].default, _OWN["beta2"].default):
        parts.append(f"betas=({opt.beta1:g}, {opt.beta2:g})")
    if opt.weight_decay:
        parts.append(f"wd={opt.weight_decay:g}")
    return " ".join(parts)


class TrainSpec(_Frozen):
    """How long and how training runs."""

    batch_size: int = Field(16, ge=1, le=4096, description="batch size")
    epochs: int = Field(200, ge=1, le=1000, description="epochs")
    max_steps: int = Field(0, ge=0, le=1_000_000, description="step limit (0: none)")
    l1: float = Field(0.0, ge=0.0, le=1.0, description="L1 penalty (lambda_1)")
    l2: float = Field(0.0, ge=0.0, le=1.0, description="L2 penalty (lambda_2)")
    patience: int = Field(0, ge=0, le=1000, description="early-stop patience (0: off)")
    eval_every: int = Field(0, ge=0, le=100_000, description="steps between evaluations (0: auto)")
    device: Literal[DEVICES] = "auto"  # type: ignore[valid-type]


class ExperimentSpec(_Frozen):
    """One experiment: everything needed to rebuild the run, its URL and its code."""

    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    loss: LossSpec = LossSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    train: TrainSpec = TrainSpec()
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed for data, weights and batches")

    @property
    def task(self) -> Task:
        return self.data.info.task

    @model_validator(mode="after")
    def _loss_fits(self) -> ExperimentSpec:
        allowed = losses_for(self.task, self.data.n_classes)
        if self.loss.name not in allowed:
            why = (
                f"it needs exactly 2 classes and {self.data.info.label} has {self.data.n_classes}"
                if self.task == "classification" and LOSSES.get(self.loss.name, None)
                else f"it does not fit {self.task}"
            )
            raise ValueError(
                f"{self.loss.name} cannot be used here: {why}. Choose one of {', '.join(allowed)}."
            )
        return self

    @model_validator(mode="after")
    def _model_fits_data(self) -> ExperimentSpec:
        info, rec = self.data.info, self.model.recurrent
        if info.seq_len and rec is None:
            raise ValueError(f"{info.label} is made of sequences and needs a recurrent model "
                             "(see the Sequences page)")  # fmt: skip
        if rec is not None and not info.seq_len:
            raise ValueError(f"a recurrent model needs sequences, and {info.label} has none")
        if rec is not None and rec.cell == "BagOfWords" and self.data.per_step:
            raise ValueError("BagOfWords averages over time, so it cannot predict at every step")
        if rec is not None and rec.bidirectional and self.data.per_step:
            raise ValueError("a bidirectional model predicting at every step would read the "
                             "future it is asked to forecast; predict after the last step")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> ExperimentSpec:
        return cls.model_validate_json(text)

    def with_changes(self, changes: dict[str, object]) -> ExperimentSpec:
        """A copy with dotted-path changes applied, e.g. {"optimizer.lr": 0.1}; validated."""
        tree = self.model_dump()
        for path, value in changes.items():
            put(tree, path, value, known=True)
        return parse(tree)


class SpecError(ValueError):
    """A spec that does not validate, with a message a person can read."""


# --- a spec's settings by dotted path ("optimizer.lr"): widgets, links, --set, contenders -------


def flatten(tree: Mapping[str, Any], items: bool = False, prefix: str = "") -> dict[str, Any]:
    """A spec's dump as {dotted path: value}; a list (the layer stack) is one value, or with
    `items` one path per item (model.layers.0.units), an empty one still a value of its own."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if items and isinstance(value, list | tuple) and value:
            value = {str(i): item for i, item in enumerate(value)}
        if isinstance(value, Mapping) and value:
            out |= flatten(value, items, path + ".")
        else:
            out[path] = value
    return out


def put(tree: dict[str, Any], path: str, value: object, known: bool = False) -> None:
    """Set tree's value at a dotted path, making the dicts on the way; with `known`, only a
    setting the tree already has (SpecError for an unknown one)."""
    *parents, leaf = path.split(".")
    node = tree
    for key in parents:
        if not isinstance(node.get(key), dict):
            if known:
                raise SpecError(f"unknown setting '{path}'")
            node[key] = {}
        node = node[key]
    if known and leaf not in node:
        raise SpecError(f"unknown setting '{path}'")
    node[leaf] = value


def unflatten(flat: Mapping[str, object]) -> dict[str, Any]:
    """{dotted path: value} as the nested dict a spec validates from (flatten's inverse)."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        put(tree, path, value)
    return tree


def explain(error: ValidationError) -> str:
    """Pydantic's errors as short sentences: 'optimizer.lr: must be at most 10'."""
    parts = []
    for err in error.errors():
        # drop the union's tag from the location: model.layers.0.linear.units -> ...0.units
        where = ".".join(str(p) for p in err["loc"] if p not in ("linear", "activation", "dropout"))
        msg = err["msg"].removeprefix("Value error, ")
        msg = msg.replace("Input should be", "must be").replace("Input tag", "layer type")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse(obj: object) -> ExperimentSpec:
    """Validate a dict or JSON text into a spec, raising SpecError with readable sentences."""
    try:
        if isinstance(obj, (str, bytes)):
            return ExperimentSpec.model_validate_json(obj)
        return ExperimentSpec.model_validate(obj)
    except ValidationError as e:
        raise SpecError(explain(e)) from None


def coerce(text: str) -> object:
    """A command-line value as JSON when it parses, else the plain string ('0.1' -> 0.1)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- settings changed while a run trains ------------------------------------------------------

# The settings a run takes changes to while it trains, and the optimisers each applies to.
CHANGEABLE: dict[str, tuple[str, ...]] = {
    "optimizer.lr": OPTIMIZERS,
    "optimizer.momentum": concepts.takes("momentum"),
    "optimizer.weight_decay": OPTIMIZERS,
    "train.l1": OPTIMIZERS,
    "train.l2": OPTIMIZERS,
}


class SettingChange(_Frozen):
    """One setting changed during a run: step `step` (counted from 1) is the first step taken
    with `setting` at `value`."""

    step: int = Field(ge=1, le=1_000_000, description="first step with the new value")
    setting: Literal[tuple(CHANGEABLE)]  # type: ignore[valid-type]
    value: float = Field(ge=0.0, le=10.0)


def check_change(spec: ExperimentSpec, setting: str, value: object) -> float:
    """value as the float a run can take for setting, or SpecError with a sentence."""
    if setting not in CHANGEABLE:
        raise SpecError(f"'{setting}' cannot change while a run trains; only "
                        f"{', '.join(CHANGEABLE)} can (the rest apply to the next run)")
    if spec.optimizer.name not in CHANGEABLE[setting]:
        raise SpecError(f"{spec.optimizer.name} has no {setting.split('.')[-1]}")
    checked = spec.with_changes({setting: value})  # the setting's own bounds and messages
    section, leaf = setting.split(".")
    return float(getattr(getattr(checked, section), leaf))


def parse_change(text: str, spec: ExperimentSpec | None = None) -> SettingChange:
    """'1500:optimizer.lr=0.001' as a SettingChange (checked against spec when given)."""
    step, sep, rest = str(text).partition(":")
    setting, eq, value = rest.partition("=")
    if not sep or not eq or not step.strip().isdigit():
        raise SpecError(f"'{text}' is not STEP:setting=value (e.g. 1500:optimizer.lr=0.001)")
    setting = setting.strip()
    number = coerce(value.strip())
    if spec is not None:
        number = check_change(spec, setting, number)
    try:
        return SettingChange(step=int(step), setting=setting, value=number)
    except ValidationError as e:
        raise SpecError(explain(e)) from None
