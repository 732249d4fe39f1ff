"""Exported code: a spec as a standalone PyTorch script that reproduces nnplay's run.

The script is written the way the reference teaches (an nn.Module subclass, the loss and the
optimiser, the zero_grad/backward/step loop, evaluation under model.eval() and no_grad). Its
parts are read off the same registries the app trains with: the layers come from models.build,
the loss and optimiser arguments from the modules train.py builds, the data from the generator's
own source. Run on CPU, it prints one `step=... test_loss=...` line per evaluation with the
values the app records for the same spec.
"""

from __future__ import annotations

import functools
import inspect
import pprint
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nnplay import data as datasets
from nnplay import drawn, features, models, network, recurrent, sequences, tabular, train
from nnplay.spec import DATASETS, ExperimentSpec, SettingChange, SpecError, loss_info


class CodegenError(SpecError):
    """A spec that cannot be exported; the message is one sentence for the page."""


# --- module constructors as code ---------------------------------------------------------------

_MODULE_STATE = ("training", "inplace")  # attributes that are not settings worth writing


def _args(values: dict[str, object], defaults: dict[str, object]) -> str:
    """keyword=value for each value that differs from its default, in order."""
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if defaults.get(k, object()) != v)


def module_code(module: nn.Module) -> str:
    """The constructor call that builds `module`, e.g. nn.Linear(2, 16) or nn.LogSoftmax(dim=-1).

    Settings equal to the class's defaults are left out.
    """
    if isinstance(module, nn.Linear):
        return f"nn.Linear({module.in_features}, {module.out_features})"
    if isinstance(module, nn.Dropout):  # models.Dropout too: in the script, plain nn.Dropout
        return f"nn.Dropout(p={module.p!r})"
    if isinstance(module, features.Features):  # defined in the script, from its own source
        return f"Features({module.names!r})"
    cls = type(module)
    public = {k: v for k, v in vars(module).items()
              if not k.startswith("_") and k not in _MODULE_STATE}  # fmt: skip
    defaults = {k: v for k, v in vars(cls()).items() if k in public}
    return f"nn.{cls.__name__}({_args(public, defaults)})"


def optimizer_code(spec: ExperimentSpec) -> str:
    """The torch.optim call train.OPTIMIZER_BUILDERS makes for spec, e.g. Adam(..., lr=0.03)."""
    probe = [torch.zeros(1, requires_grad=True)]
    built = train.OPTIMIZER_BUILDERS[spec.optimizer.name](probe, spec.optimizer)
    cls = type(built)
    accepted = inspect.signature(cls).parameters
    values = {k: v for k, v in built.defaults.items() if k in accepted}
    defaults = {k: v for k, v in cls(probe).defaults.items() if k != "lr"}
    return f"torch.optim.{cls.__name__}(model.parameters(), {_args(values, defaults)})"


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataCode:
    """What the script needs for one dataset: imports, helper definitions and load_data()."""

    imports: tuple[str, ...]
    body: str  # defines load_data() -> (x_train, y_train, x_test, y_test) as numpy arrays
    needs: str = ""  # packages beyond torch and numpy, for the header


def _generated(name: str, spec: ExperimentSpec) -> DataCode:
    """The generator's own source, then the seeded split datasets._generated makes."""
    d = spec.data
    gen = datasets.GENERATORS[name]
    split = f"{d.n_samples} points, {d.train_fraction:.0%} of them for training"
    body = inspect.getsource(gen) + "\n\n" + _dedent(f'''
        def load_data():
            """{split}: one seeded rng makes the points, then the split."""
            rng = np.random.default_rng(SEED)
            x, y = {gen.__name__}({d.n_samples}, {d.noise!r}, {d.n_classes}, rng)
            perm = rng.permutation(len(x))
            k = round(len(x) * {d.train_fraction!r})
            return x[perm[:k]], y[perm[:k]], x[perm[k:]], y[perm[k:]]
    ''')
    return DataCode((), body)


def _image_select(spec: ExperimentSpec, scale: float, n_test: int, source: str) -> str:
    """load_data() for an image set: `source` gives the raw splits; then classes, subset, scale."""
    d = spec.data
    if d.subset == 0 and n_test == 0 and d.n_classes == d.info.classes:
        return (
            "def load_data():\n"
            f'    """{d.info.label}: images flattened to rows of pixels in [0, 1]."""\n'
            + _indent(source, 1)
            + "\n"
            "    def flat(x):\n"
            f"        return x.reshape(len(x), -1).astype(np.float32) / {scale!r}\n\n"
            "    return flat(x_train), y_train.astype(np.int64), flat(x_test), "
            "y_test.astype(np.int64)\n"
        )
    return (
        inspect.getsource(datasets._take)
        + "\n\n"
        "def keep(x, y, k, rng):\n"
        f'    """Classes below {d.n_classes}, then k samples (0: all) balanced across classes; '
        'pixels in [0, 1]."""\n'
        f"    idx = np.flatnonzero(y < {d.n_classes})\n"
        "    idx = idx[_take(y[idx], k, rng)]\n"
        f"    return x[idx].reshape(len(idx), -1).astype(np.float32) / {scale!r}, "
        "y[idx].astype(np.int64)\n"
        "\n\n"
        "def load_data():\n"
        f'    """{d.info.label}: a class-balanced subset, images flattened to rows."""\n'
        + _indent(source, 1)
        + "    rng = np.random.default_rng(SEED)\n"
        f"    return (*keep(x_train, y_train, {d.subset}, rng), "
        f"*keep(x_test, y_test, {n_test}, rng))\n"
    )


def _digits(name: str, spec: ExperimentSpec) -> DataCode:
    """scikit-learn's bundled digits with datasets._digits's stratified split."""
    source = _dedent(f"""
        digits = load_digits()
        x_train, x_test, y_train, y_test = train_test_split(
            digits.images, digits.target, test_size=1 - {spec.data.train_fraction!r},
            stratify=digits.target, random_state=SEED,
        )
    """)
    imports = ("from sklearn.datasets import load_digits",
               "from sklearn.model_selection import train_test_split")  # fmt: skip
    return DataCode(imports, _image_select(spec, 16.0, 0, source), "scikit-learn")


def _torchvision(name: str, spec: ExperimentSpec) -> DataCode:
    """MNIST or FashionMNIST from torchvision, with datasets._torchvision's subset rule."""
    cls = spec.data.info.torchvision
    source = _dedent(f"""
        train = datasets.{cls}(root="data", train=True, download=True)
        test = datasets.{cls}(root="data", train=False, download=True)
        x_train, y_train = train.data.numpy(), train.targets.numpy()
        x_test, y_test = test.data.numpy(), test.targets.numpy()
    """)
    n_test = max(1000, spec.data.subset // 4) if spec.data.subset else 0
    return DataCode(("from torchvision import datasets",),
                    _image_select(spec, 255.0, n_test, source), "torchvision")  # fmt: skip


def _csv(name: str, spec: ExperimentSpec) -> DataCode:
    """An uploaded CSV read from where this server keeps it, encoded by tabular's own code."""
    d = spec.data
    try:
        options = tabular.pandas_options(d.file)
        tabular.choose_target(d.file, d.target, d.task)  # also tells the spec its input width
    except (OSError, tabular.CsvError):
        raise CodegenError("The uploaded CSV of this run is not on this server any more, "
                           "so its code cannot be exported.") from None
    target = doc_text(d.target)
    body = inspect.getsource(tabular.prepare_table) + "\n\n" + _dedent(f'''
        CSV = {str(tabular.csv_path(d.file))!r}  # your upload as this server keeps it


        def load_data():
            """The CSV's rows ({d.train_fraction:.0%} for training), target '{target}'."""
            frame = pd.read_csv(CSV, sep={options["sep"]!r}, encoding={options["encoding"]!r},
                                skipinitialspace=True)
            frame.columns = [str(c).strip() for c in frame.columns]
            x_train, y_train, x_test, y_test, *_ = prepare_table(
                frame, {d.target!r}, {d.info.task!r}, {d.train_fraction!r}, SEED)
            return x_train, y_train, x_test, y_test
    ''')
    return DataCode(("import pandas as pd",), body, "pandas")


def _wrapped(head: str, items: list[str], tail: str, width: int = 96) -> str:
    """head, the items separated by commas, tail: broken between items, not inside one."""
    lines, line = [], head
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(piece.rstrip()) > width and line.strip():
            lines.append(line.rstrip())
            line = " " * 8
        line += piece
    return "\n".join([*lines, line + tail])


def _drawn(spec: ExperimentSpec) -> DataCode:
    """The drawn points as grid cells, class by class, turned into coordinates and split as
    data._drawn does (drawn.arrays, drawn.split)."""
    d = spec.data
    groups = drawn.decode(d.points)
    rows = "\n".join(_wrapped(f"    {c}: [", [repr(cell) for cell in cells], "],")
                     for c, cells in enumerate(groups))
    total = sum(len(g) for g in groups)
    if total < drawn.MIN_SPLIT:
        said = f"Your {total} drawn points, too few to split: every one trains and tests"
    else:
        said = f"Your {total} drawn points, each class split {d.train_fraction:.0%} for training"
    body = inspect.getsource(drawn.split) + "\n\n" + _dedent(f'''
        # Your drawing: for each class, its points as (column, row) cells of a
        # {drawn.LEVELS} x {drawn.LEVELS} grid over [-{drawn.LIMIT}, {drawn.LIMIT}] on both axes
        # (rows counted upwards).
        GRID = np.linspace(-{drawn.LIMIT!r}, {drawn.LIMIT!r}, {drawn.LEVELS}).astype(np.float32)
        CELLS = {{
        ROWS
        }}


        def load_data():
            """{said}."""
            cells = np.array([cell for c in CELLS for cell in CELLS[c]], dtype=np.int64)
            x = np.stack([GRID[cells[:, 0]], GRID[cells[:, 1]]], axis=1).astype(np.float32)
            y = np.array([c for c in CELLS for _ in CELLS[c]], dtype=np.int64)
            tr, te = split(y, {d.train_fraction!r}, np.random.default_rng(SEED), {drawn.MIN_SPLIT})
            return x[tr], y[tr], x[te], y[te]
    ''').replace("ROWS", rows)
    return DataCode((), body)


def _sequence(name: str, spec: ExperimentSpec) -> DataCode:
    """A sequence task's load_data(), the mirror of its builder (as sequences.BUILDERS)."""
    return SEQUENCE_CODE[name](spec)


# load_data() for each source of a dataset record, given the dataset's name (as datasets.SOURCES).
SOURCE_CODE: dict[str, Callable[[str, ExperimentSpec], DataCode]] = {
    "generated": _generated,
    "bundled": _digits,
    "torchvision": _torchvision,
    "upload": _csv,
    "drawn": lambda name, spec: _drawn(spec),
    "sequence": _sequence,
}

DATA_CODE: dict[str, Callable[[ExperimentSpec], DataCode]] = {
    name: functools.partial(SOURCE_CODE[r.source], name)
    for name, r in DATASETS.items() if r.source in SOURCE_CODE
}


# --- sequence tasks -----------------------------------------------------------------------------
# load_data() for a task whose sequences vary in length (sequences.PADDED) also returns the lengths
# of the training and test sequences (numpy arrays); the others return four arrays like every
# dataset above.


def _split_code(n: str, fraction: float, returned: str) -> str:
    """The end of load_data(): the seeded split sequences._split makes, on `rng`."""
    return _indent(f"""
        perm = rng.permutation({n})
        k = round({n} * {fraction!r})
        tr, te = perm[:k], perm[k:]
        return {returned}
    """, 1)


def _sine_forecast_code(spec: ExperimentSpec) -> DataCode:
    d = spec.data
    t, h = d.length, d.horizon
    every = "after every step of the window" if d.per_step else "after the window"
    y = "ahead" if d.per_step else "ahead[:, -1]"
    body = inspect.getsource(sequences.gen_sine_forecast) + "\n\n" + _dedent(f'''
        def load_data():
            """{d.n_samples} noisy windows of {t} steps; targets: the next {h} clean value(s)
            {every}."""
            rng = np.random.default_rng(SEED)
            x, clean = gen_sine_forecast({d.n_samples}, {t}, {h}, {d.noise!r}, rng)
            ahead = np.stack([clean[:, s + 1:s + 1 + {h}] for s in range({t})], axis=1)
            y = {y}
    ''') + _split_code("len(x)", d.train_fraction, "x[tr], y[tr], x[te], y[te]")
    return DataCode((), body)


def _adding_code(spec: ExperimentSpec) -> DataCode:
    d = spec.data
    body = inspect.getsource(sequences.gen_adding) + "\n\n" + _dedent(f'''
        def load_data():
            """{d.n_samples} sequences of {d.length} (value, marker) pairs."""
            rng = np.random.default_rng(SEED)
            x, y = gen_adding({d.n_samples}, {d.length}, {d.noise!r}, rng)
    ''') + _split_code("len(x)", d.train_fraction, "x[tr], y[tr], x[te], y[te]")
    return DataCode((), body)


def _parity_code(spec: ExperimentSpec) -> DataCode:
    d = spec.data
    body = inspect.getsource(sequences.gen_parity) + "\n\n" + _dedent(f'''
        def load_data():
            """Bit strings: training ones of 1 to {d.length} bits (the short ones teach the
            rule), test ones of {d.length}; with each string's length."""
            rng = np.random.default_rng(SEED)
            n_train = round({d.n_samples} * {d.train_fraction!r})
            x_train, y_train, len_train = gen_parity(n_train, {d.length}, {d.noise!r}, rng,
                                                     min_len=1)
            x_test, y_test, len_test = gen_parity({d.n_samples} - n_train, {d.length},
                                                  {d.noise!r}, rng)
            return x_train, y_train, x_test, y_test, len_train, len_test
    ''')
    return DataCode((), body)


def _constant(name: str, value: object) -> str:
    """NAME = value, wrapped to the script's line length."""
    text = pprint.pformat(value, width=99 - len(name) - 3, compact=True)
    return f"{name} = " + text.replace("\n", "\n" + " " * (len(name) + 3))


def _sentiment_code(spec: ExperimentSpec) -> DataCode:
    d = spec.data
    words = "\n".join(_constant(name, getattr(sequences, name)) for name in (
        "SUBJECTS", "VERBS", "POSITIVE", "NEGATIVE", "INTENSIFIERS", "NEGATORS", "FILLERS", "PAD",
        "UNK"))  # fmt: skip
    body = "\n\n\n".join([
        "# the built-in vocabulary\n" + words,
        inspect.getsource(sequences.vocabulary).rstrip("\n"),
        "VOCAB = vocabulary()\nWORD_IDS = {w: i for i, w in enumerate(VOCAB)}",
        inspect.getsource(sequences.gen_sentiment).rstrip("\n"),
        inspect.getsource(sequences.encode).rstrip("\n"),
    ]) + "\n\n\n" + _dedent(f'''
        def load_data():
            """{d.n_samples} sentences of at most {d.length} words as token ids, with lengths."""
            rng = np.random.default_rng(SEED)
            sentences, y, negated = gen_sentiment({d.n_samples}, {d.length}, {d.noise!r}, rng)
            ids, lengths = encode(sentences, {d.length})
    ''') + _split_code("len(ids)", d.train_fraction,
                   "ids[tr], y[tr], ids[te], y[te], lengths[tr], lengths[te]")
    return DataCode((), body)


SEQUENCE_CODE: dict[str, Callable[[ExperimentSpec], DataCode]] = {
    "sine-forecast": _sine_forecast_code,
    "adding": _adding_code,
    "parity": _parity_code,
    "sentiment": _sentiment_code,
}


# --- targets, predictions, penalties -------------------------------------------------------------

# How train.TARGETS turns class indices into what the loss compares against, as code on `y`.
TARGET_CODE: dict[str, str] = {
    "index": "{y}",
    "onehot": "F.one_hot({y}, {classes}).float()",
    "binary": "{y}.float()[:, None]",
    "value": "{y}",
}

# train.predicted_class for each kind of output, as the body of predict(out).
PREDICT_CODE: dict[str, str] = {
    "many": "return out.argmax(1)",
    "logits": "return (out[:, 0] > 0.0).long()",
    "sigmoid": "return (out[:, 0] > 0.5).long()",
}

DEVICE_CODE: dict[str, str] = {
    "auto": 'torch.device("cuda" if torch.cuda.is_available() else "cpu")',
    "cpu": 'torch.device("cpu")',
    "cuda": 'torch.device("cuda")',
    "mps": 'torch.device("mps")',
}


# --- the script ---------------------------------------------------------------------------------


# Characters never written into a script as they are: controls (but newline, where lines are
# allowed), format characters (bidi overrides that make code read other than it runs), line and
# paragraph separators, surrogates and private-use code points.
_UNSAFE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def doc_text(text: str, lines: bool = False) -> str:
    """A user's string made safe inside a triple-quoted docstring: backslashes and quotes
    escaped (the docstring's value is the string itself), unsafe characters made spaces, and
    one line unless `lines`."""
    text = "".join(c if c == "\n" and lines or unicodedata.category(c) not in _UNSAFE else " "
                   for c in str(text))
    if not lines:
        text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dedent(text: str) -> str:
    """A template written indented in this file, flush left, ending in one newline."""
    return textwrap.dedent(text).strip("\n") + "\n"


def _indent(text: str, levels: int) -> str:
    """text (flush left) indented by `levels` four-space levels, blank lines left empty."""
    return textwrap.indent(_dedent(text), "    " * levels)


def _short(module: nn.Module) -> str:
    """A layer in the one-line shape summary: 16, Tanh, Dropout(0.2)."""
    if isinstance(module, nn.Linear):
        return str(module.out_features)
    if isinstance(module, nn.Dropout):
        return f"Dropout({module.p:g})"
    if isinstance(module, features.Features):
        return f"[{', '.join(module.names)}]"
    return type(module).__name__


def _model_code(model: nn.Sequential, in_features: int) -> str:
    """class Net(nn.Module) with one attribute per layer, named as the app names them."""
    children = list(model.named_children())
    shape = " -> ".join([str(in_features)] + [_short(m) for _, m in children])
    init = "".join(f"        self.{n} = {module_code(m)}\n" for n, m in children)
    forward = "".join(f"        x = self.{n}(x)\n" for n, _ in children)
    engineered = any(isinstance(m, features.Features) for _, m in children)
    return (
        (inspect.getsource(features.Features) + "\n\n" if engineered else "") +
        "class Net(nn.Module):\n"
        f'    """{shape}"""\n\n'
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"{init}\n"
        "    def forward(self, x):  # x: (batch, features)\n"
        f"{forward}"
        "        return x\n"
    )


RNN_OUTPUTS = {"LSTM": "out, (h_n, c_n)", "LSTMCell": "out, (h_n, c_n)", "GRU": "out, h_n",
               "RNN": "out, h_n"}  # what each recurrent layer returns, as the script names it


def _stepped_source() -> str:
    """recurrent.SteppedLSTM and its helpers, its Dropout the plain nn.Dropout."""
    parts = [recurrent._on, recurrent._reverse_padded, recurrent.SteppedLSTM]
    text = "\n\n".join(inspect.getsource(o) for o in parts)
    return text.replace("models.Dropout(", "nn.Dropout(")


def _recurrent_model_code(spec: ExperimentSpec, padded: bool) -> tuple[str, tuple[str, ...]]:
    """class Net for a recurrent spec ([Embedding] -> recurrent layers -> head, as
    recurrent.SequenceModel computes it), with the helpers and imports it needs; for padded
    sequences its forward also takes their lengths."""
    rec, d = spec.model.recurrent, spec.data
    n_in = d.info.features
    bf = rec.batch_first or rec.cell == "BagOfWords"
    directions = 2 if rec.bidirectional and rec.cell != "BagOfWords" else 1
    init, forward, helpers = [], [], ""
    imports = ["from collections import OrderedDict"]
    shape = [f"{n_in} feature(s) a step"]
    width = n_in
    tokens = d.info.kind == "tokens"
    if tokens:
        init.append(f"self.embedding = nn.Embedding({n_in}, {rec.embedding_dim}, padding_idx=0)")
        forward.append(f"x = self.embedding(x)  # (batch, steps, {rec.embedding_dim})")
        shape = ["token ids", f"Embedding({n_in}, {rec.embedding_dim})"]
        width = rec.embedding_dim
    options = {"num_layers": rec.num_layers, "bidirectional": rec.bidirectional,
               "dropout": rec.dropout, "batch_first": rec.batch_first}  # fmt: skip
    torch_defaults = {"num_layers": 1, "bidirectional": False, "dropout": 0.0,
                      "batch_first": False}  # fmt: skip
    if rec.cell == "BagOfWords":
        helpers = inspect.getsource(recurrent._on) + "\n\n" + \
            inspect.getsource(recurrent.MeanOverTime)
        init.append("self.rnn = MeanOverTime()")
        shape.append("mean over time")
        forward.append(f"last = self.rnn(x{', lengths' if padded else ''})  # (batch, {width})")
        out_width = width
    else:
        if rec.cell == "LSTMCell":
            helpers = _stepped_source()
            defaults = dict(torch_defaults, batch_first=True)
            layer = f"SteppedLSTM({width}, {rec.hidden_size}"
        else:
            defaults = torch_defaults
            layer = f"nn.{rec.cell}({width}, {rec.hidden_size}"
        args = _args(options, defaults)
        init.append(f"self.rnn = {layer}{', ' + args if args else ''})")
        flags = [f"{rec.num_layers} layers"] if rec.num_layers > 1 else []
        flags += ["bidirectional"] if rec.bidirectional else []
        flags += [f"dropout {rec.dropout:g}"] if rec.dropout else []
        shape.append(f"{rec.cell}({width} -> {rec.hidden_size}{''.join(', ' + f for f in flags)})")
        if not bf:
            forward.append("x = x.transpose(0, 1)  # (steps, batch, features): not batch_first")
        if rec.cell == "LSTMCell":
            forward.append(f"{RNN_OUTPUTS[rec.cell]} = self.rnn(x{', lengths' if padded else ''})")
        elif padded:
            imports.append("from torch.nn.utils.rnn import pack_padded_sequence"
                           + (", pad_packed_sequence" if d.per_step else ""))
            forward += [
                f"packed = pack_padded_sequence(x, lengths, batch_first={bf}, "
                "enforce_sorted=False)",
                f"{RNN_OUTPUTS[rec.cell]} = self.rnn(packed)",
            ]
            if d.per_step:
                forward.append(f"out = pad_packed_sequence(out, batch_first={bf}, "
                               f"total_length=x.shape[{0 if bf else 1}])[0]")
        else:
            forward.append(f"{RNN_OUTPUTS[rec.cell]} = self.rnn(x)")
        out_width = rec.hidden_size * directions
        if d.per_step:
            if not bf:
                forward.append("out = out.transpose(0, 1)  # (batch, steps, features)")
            shape.append("every step")
        else:
            both = " (both directions)" if directions == 2 else ""
            forward.append(f"last = torch.cat(list(h_n[-{directions}:]), dim=1)  # top layer's "
                           f"final state{both}")
            shape.append("last step")
    stack = spec.model_copy(update={"model": spec.model.model_copy(update={"recurrent": None})})
    with torch.device("meta"):
        head = models.build(stack, out_width, spec.data.n_classes)
    layers = "".join(f"            ({n!r}, {module_code(m)}),\n" for n, m in head.named_children())
    shape += [_short(m) for _, m in head.named_children()]
    init.append("self.head = nn.Sequential(OrderedDict([\n" + layers + "        ]))")
    forward.append(f"return self.head({'out' if d.per_step else 'last'})")
    signature = "x, lengths" if padded else "x"
    about = "(batch, steps) token ids" if tokens else "(batch, steps, features)"
    summary = textwrap.fill(" -> ".join(shape), 91, subsequent_indent="    ")
    code = (
        "class Net(nn.Module):\n"
        f'    """{summary}"""\n\n'
        "    def __init__(self):\n"
        "        super().__init__()\n"
        + "".join(f"        {line}\n" for line in init) + "\n"
        f"    def forward(self, {signature}):  # x: {about}"
        f"{'; lengths on the CPU' if padded else ''}\n"
        + "".join(f"        {line}\n" for line in forward)
    )
    if helpers:
        code = helpers.rstrip("\n") + "\n\n\n" + code
    return code, tuple(imports)


def _evaluation(spec: ExperimentSpec, padded: bool = False) -> tuple[str, str]:
    """evaluate() (and predict()) definitions, and the block that reports one evaluation. With
    padded sequences the model also takes their lengths."""
    lengths = ", lengths" if padded else ""
    train_set, test_set = (", len_eval", ", len_test") if padded else ("", "")
    if spec.task == "regression":
        define = _dedent(f'''
            def evaluate(model, loss_fn, x, t{lengths}):
                """Mean loss over a set, in eval mode and without gradients."""
                model.eval()
                with torch.no_grad():
                    loss = loss_fn(model(x{lengths}), t).item()
                model.train()
                return loss
        ''')
        report = _dedent(f"""
            train_loss = evaluate(model, loss_fn, x_eval, t_eval{train_set})
            test_loss = evaluate(model, loss_fn, x_test, t_test{test_set})
            print(f"step={{step}} epoch={{math.ceil(step / steps_per_epoch)}} "
                  f"train_loss={{train_loss:.6f}} test_loss={{test_loss:.6f}}")
        """)
        return define, report
    info = loss_info(spec.loss.name, spec.task)
    single = models.output_size(spec, spec.data.n_classes) == 1
    kind = ("sigmoid" if info.output == "sigmoid" else "logits") if single else "many"
    define = _dedent(f'''
        def predict(out):
            """Class indices from the model's output."""
            {PREDICT_CODE[kind]}


        def evaluate(model, loss_fn, x, t, y{lengths}):
            """Mean loss and accuracy over a set, in eval mode and without gradients."""
            model.eval()
            with torch.no_grad():
                out = model(x{lengths})
                loss = loss_fn(out, t).item()
                accuracy = (predict(out) == y).float().mean().item()
            model.train()
            return loss, accuracy
    ''')
    report = _dedent(f"""
        train_loss, train_acc = evaluate(model, loss_fn, x_eval, t_eval, y_eval{train_set})
        test_loss, test_acc = evaluate(model, loss_fn, x_test, t_test, y_test{test_set})
        print(f"step={{step}} epoch={{math.ceil(step / steps_per_epoch)}} "
              f"train_loss={{train_loss:.6f}} test_loss={{test_loss:.6f}} "
              f"train_acc={{train_acc:.6f}} test_acc={{test_acc:.6f}}")
    """)
    return define, report


# The script's names for the settings a run can change while it trains: an optimiser's
# param_groups key, or the key of the LAMBDA dict that holds the L1 and L2 strengths.
CHANGE_NAMES: dict[str, str | int] = {
    "optimizer.lr": "lr", "optimizer.momentum": "momentum",
    "optimizer.weight_decay": "weight_decay", "train.l1": 1, "train.l2": 2,
}


Switch = tuple[int, ExperimentSpec]  # a branch's step and the spec it goes on with (branch.py)


def _penalised(spec: ExperimentSpec, changes: Sequence[SettingChange],
               switches: Sequence[Switch] = ()) -> bool:
    """Whether an L1/L2 strength changes during the run (the script then keeps both in LAMBDA)."""
    return any(c.setting in ("train.l1", "train.l2") for c in changes) or any(
        (s.train.l1, s.train.l2) != (spec.train.l1, spec.train.l2) for _, s in switches)


def _patience(spec: ExperimentSpec, switches: Sequence[Switch]) -> bool:
    """Whether the run stops early at some point (the script then counts evaluations)."""
    return bool(spec.train.patience) or any(s.train.patience for _, s in switches)


def _steps_code(spec: ExperimentSpec, batch: str, epochs: str, max_steps: str) -> str:
    """total_steps and eval_every as train.Plan.of derives them (batch, epochs and max_steps
    are the code for those values)."""
    t = spec.train
    total = f"min(steps_per_epoch * {epochs}, {max_steps})" if t.max_steps else \
        f"steps_per_epoch * {epochs}"
    if t.eval_every:
        return f"total_steps = {total}\neval_every = {t.eval_every}\n"
    return _dedent(f"""
        total_steps = {total}
        # about 200 evaluations per run, but never more evaluation work than half the training
        eval_every = max(math.ceil(total_steps / 200),
                         math.ceil((n + len(x_test)) / (2 * {batch})), 1)
    """)


def _switch_code(step: int, before: ExperimentSpec, after: ExperimentSpec,
                 penalised: bool) -> str:
    """The block that, after the given step, goes on with after's settings where they differ
    from before's (the settings the run had then): a branch made at that step."""
    body = []
    if after.optimizer != before.optimizer:
        if after.optimizer.name == before.optimizer.name:  # its state goes on, as the app's
            body += ["# the same optimiser with other settings: its moments go on",
                     'kept = optimizer.state_dict()["state"]',
                     f"optimizer = {optimizer_code(after)}",
                     'optimizer.load_state_dict({"state": kept, '
                     '"param_groups": optimizer.state_dict()["param_groups"]})']
        else:
            body += ["# another optimiser: its state starts empty",
                     f"optimizer = {optimizer_code(after)}"]
    if penalised and (after.train.l1, after.train.l2) != (before.train.l1, before.train.l2):
        body.append(f"LAMBDA[1], LAMBDA[2] = {after.train.l1!r}, {after.train.l2!r}")
    p = next((x.p for x in after.model.layers if x.type == "dropout"), None)
    if p != next((x.p for x in before.model.layers if x.type == "dropout"), None):
        body += ["for module in model.modules():", "    if isinstance(module, nn.Dropout):",
                 f"        module.p = {p!r}"]
    if after.train.patience != before.train.patience:
        body.append(f"patience = {after.train.patience}")
    t, b = after.train, before.train
    if (t.batch_size, t.epochs, t.max_steps, t.eval_every) != \
            (b.batch_size, b.epochs, b.max_steps, b.eval_every):
        body += [f"batch_size = {t.batch_size}",
                 "steps_per_epoch = math.ceil(len(x_train) / batch_size)"]
        body += _steps_code(after, "batch_size", str(t.epochs), str(t.max_steps)).splitlines()
    if not body:
        return ""
    return f"if step == {step}:  # a branch went on from here with other settings\n" + \
        _indent("\n".join(body) + "\n", 1)


def _main(spec: ExperimentSpec, report: str, padded: bool = False,
          changes: Sequence[SettingChange] = (), switches: Sequence[Switch] = ()) -> str:
    """main(): tensors, targets, model, loss, optimiser and the training loop. With padded
    sequences their lengths stay on the CPU, where pack_padded_sequence reads them. switches:
    a branch's settings from its step on (the batch size then is a variable, batch_size)."""
    t = spec.train
    info = loss_info(spec.loss.name, spec.task)
    classes = spec.data.n_classes
    target = TARGET_CODE[info.target]
    bs = "batch_size" if switches else "BATCH_SIZE"
    total = "min(steps_per_epoch * EPOCHS, MAX_STEPS)" if t.max_steps else \
        "steps_per_epoch * EPOCHS"
    if t.eval_every:
        eval_every = f"eval_every = {t.eval_every}\n"
    else:  # train.Plan.of's automatic rule
        eval_every = _dedent(f"""
            # about 200 evaluations per run, but never more evaluation work than half the training
            eval_every = max(math.ceil(total_steps / 200),
                             math.ceil((n + len(x_test)) / (2 * {bs})), 1)
        """)
    evaluated = "x_eval, t_eval = x_train[:n], t_train[:n]" if spec.task == "regression" else \
        "x_eval, t_eval, y_eval = x_train[:n], t_train[:n], y_train[:n]"
    targets = ", ".join(target.format(y=y, classes=classes) for y in ("y_train", "y_test"))
    if padded:  # the lengths stay on the CPU, and so does the order that indexes them
        evaluated += "\nlen_eval = len_train[:n]"
        load = _dedent("""
            x_train, y_train, x_test, y_test, len_train, len_test = load_data()
            x_train, y_train, x_test, y_test = (torch.as_tensor(a).to(DEVICE)
                                                for a in (x_train, y_train, x_test, y_test))
            len_train, len_test = torch.as_tensor(len_train), torch.as_tensor(len_test)
        """)
        order = "torch.randperm(len(x_train), generator=batches)  # on the CPU"
        rows, inputs = "idx.to(DEVICE)", "x_train[idx.to(DEVICE)], len_train[idx]"
    else:
        load = "x_train, y_train, x_test, y_test = (torch.as_tensor(a).to(DEVICE) for a in " \
            "load_data())\n"
        order = "torch.randperm(len(x_train), generator=batches).to(DEVICE)"
        rows, inputs = "idx", "x_train[idx]"
    out = "def main():\n" + _indent(load, 1) + _indent(f"""
            t_train, t_test = {targets}

            torch.manual_seed(SEED)  # initial weights (and, on CPU, dropout masks) from the seed
            model = Net().to(DEVICE)
            print(model)
            loss_fn = {module_code(train.LOSS_MODULES[spec.loss.name]())}
            optimizer = {optimizer_code(spec)}
            batches = torch.Generator().manual_seed(SEED)  # the order of samples in each epoch
            {"batch_size = BATCH_SIZE" if switches else ""}
            steps_per_epoch = math.ceil(len(x_train) / {bs})
            total_steps = {total}
            n = min(len(x_train), EVAL_TRAIN)  # the training samples each evaluation measures
    """, 1) + _indent(evaluated, 1)
    out += _indent(eval_every, 1)
    if switches and _patience(spec, switches):
        out += "    best, waited, patience = math.inf, 0, PATIENCE\n"
    elif t.patience:
        out += "    best, waited = math.inf, 0\n"
    loop = "i = 0\nwhile i < len(x_train):  # a branch may change the batch size" if switches \
        else "for i in range(0, len(x_train), BATCH_SIZE):"
    out += "\n" + _indent(f"""
        step = 0
        model.train()
        while step < total_steps:
            perm = {order}
    """, 1) + _indent(loop + "\n", 2)
    if changes and _penalised(spec, changes, switches):
        out += _indent("""
            for name, value in CHANGES.get(step + 1, ()):  # changed from this step on
                if name in LAMBDA:
                    LAMBDA[name] = value
                else:
                    for group in optimizer.param_groups:
                        group[name] = value
        """, 3)
    elif changes:
        out += _indent("""
            for name, value in CHANGES.get(step + 1, ()):  # changed from this step on
                for group in optimizer.param_groups:
                    group[name] = value
        """, 3)
    out += _indent(f"""
        idx = perm[i:i + {bs}]
        out = model({inputs})
        loss = loss_fn(out, t_train[{rows}])
    """, 3)
    if _penalised(spec, changes, switches):
        out += _indent("""
            if LAMBDA[1] or LAMBDA[2]:
                weights = torch.cat([p.view(-1) for p in model.parameters()])
                loss = loss + (LAMBDA[1] * torch.norm(weights, 1)
                               + LAMBDA[2] * torch.norm(weights, 2))
        """, 3)
    elif t.l1 or t.l2:
        terms = [f"LAMBDA_{i} * torch.norm(weights, {i})" for i, v in ((1, t.l1), (2, t.l2)) if v]
        out += _indent(f"""
            weights = torch.cat([p.view(-1) for p in model.parameters()])
            loss = loss + ({" + ".join(terms)})
        """, 3)
    out += _indent("""
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
    """, 3)
    if switches:
        out += "            i += batch_size\n"
    out += "            if step % eval_every == 0 or step == total_steps:\n"
    out += _indent(report, 4)
    if switches and _patience(spec, switches):
        out += _indent("""
            if test_loss < best:
                best, waited = test_loss, 0
            else:
                waited += 1
                if 0 < patience <= waited and step < total_steps:
                    print(f"early stop: no better test loss for {patience} evaluations")
                    return
        """, 4)
    elif t.patience:
        out += _indent("""
            if test_loss < best:
                best, waited = test_loss, 0
            else:
                waited += 1
                if waited >= PATIENCE and step < total_steps:
                    print(f"early stop: no better test loss for {PATIENCE} evaluations")
                    return
        """, 4)
    now, done = spec, 0
    for step, after in switches:
        was = now.with_changes({c.setting: c.value for c in changes if done < c.step <= step})
        out += _indent(_switch_code(step, was, after, _penalised(spec, changes, switches)), 3)
        now, done = after, step
    out += _indent("""
        if step == total_steps:
            break
    """, 3)
    return out


def _settings(spec: ExperimentSpec, changes: Sequence[SettingChange] = (),
              switches: Sequence[Switch] = ()) -> str:
    """The constants at the top of the script."""
    t = spec.train
    lines = [
        f"SEED = {spec.seed}",
        f"DEVICE = {DEVICE_CODE[t.device]}",
        f"BATCH_SIZE = {t.batch_size}",
        f"EPOCHS = {t.epochs}",
    ]
    if t.max_steps:
        lines.append(f"MAX_STEPS = {t.max_steps}  # stop after this many steps")
    if _penalised(spec, changes, switches):
        lines.append(f"LAMBDA = {{1: {t.l1!r}, 2: {t.l2!r}}}  # L1 and L2 penalties (they change)")
    elif t.l1 or t.l2:
        lines.append(f"LAMBDA_1, LAMBDA_2 = {t.l1!r}, {t.l2!r}  # L1 and L2 penalties")
    if changes:
        at: dict[int, list] = {}
        for c in changes:
            at.setdefault(c.step, []).append((CHANGE_NAMES[c.setting], c.value))
        lines.append("# settings changed while the run trained: {first step with the new value: "
                     "[(setting, value), ...]}")
        lines.append(f"CHANGES = {at!r}")
    if t.patience or (switches and _patience(spec, switches)):
        lines.append(f"PATIENCE = {t.patience}  # evaluations without a better test loss"
                     + (" (0: none)" if not t.patience else ""))
    lines.append(f"EVAL_TRAIN = {train.EVAL_TRAIN_MAX}  # at most this many training samples "
                 "measured per evaluation")  # fmt: skip
    return "\n".join(lines) + "\n"


def script(spec: ExperimentSpec, title: str = "", changes: Sequence[SettingChange] = (),
           switches: Sequence[Switch] = ()) -> str:
    """A standalone PyTorch script that trains spec as nnplay does and prints each evaluation;
    changes (a run's recorded setting changes) are made at the same steps, and switches (a
    branch's step and spec, branch.exported) go on with other settings after a step."""
    make_data = DATA_CODE.get(spec.data.name)
    if make_data is None:
        raise CodegenError(f"Code export does not support {spec.data.info.label} yet.")
    d = make_data(spec)
    in_features = spec.data.info.features
    padded = spec.model.recurrent is not None and spec.data.name in sequences.PADDED
    if spec.model.recurrent is not None:
        model_code, model_imports = _recurrent_model_code(spec, padded)
    else:
        with torch.device("meta"):  # only the layers' shapes and settings are read
            model = network.build(spec, in_features, spec.data.n_classes)
        model_code, model_imports = _model_code(model, in_features), ()
    define, report = _evaluation(spec, padded)

    needs = "torch and numpy" + (f" (and {d.needs})" if d.needs else "")
    about = textwrap.fill(f"Exported from nnplay; needs {needs}. Run on CPU, it reproduces the "
                          "app's run for the same seed: each evaluation prints the same step, "
                          "losses and accuracies.", 99)
    header = title or f"{spec.data.info.label}: {spec.loss.name}, {spec.optimizer.name}"
    header = doc_text(header, lines=True)
    header = "\n\n".join(textwrap.fill(part, 99) for part in header.split("\n\n"))
    imports = ["import math", *model_imports[:1], "", "import numpy as np", "import torch"]
    if loss_info(spec.loss.name, spec.task).target == "onehot":
        imports.append("import torch.nn.functional as F")
    imports += ["from torch import nn", *model_imports[1:], *d.imports]
    parts = [
        f'"""{header}\n\n{about}\n"""',
        "\n".join(imports),
        _settings(spec, changes, switches),
        "# --- data ".ljust(99, "-") + "\n\n\n" + d.body,
        "# --- model ".ljust(99, "-") + "\n\n\n" + model_code,
        define,
        _main(spec, report, padded, changes, switches),
        'if __name__ == "__main__":\n    main()\n',
    ]
    head = "\n\n".join(p.rstrip("\n") for p in parts[:3])
    return "\n\n\n".join([head] + [p.rstrip("\n") for p in parts[3:]]) + "\n"
