"""Tests for nnplay.spec: defaults, JSON round-trip, dotted changes, readable errors, and
the name tables agreeing with the registries that implement them."""

from __future__ import annotations

import json

import pydantic
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnplay import data, models, presets, spec, train
from nnplay.spec import ExperimentSpec, SpecError, parse

torch.set_num_threads(1)


def error_of(changes: dict[str, object], base: ExperimentSpec | None = None) -> str:
    """The SpecError sentence that applying changes to base (default spec) raises."""
    with pytest.raises(SpecError) as info:
        (base or ExperimentSpec()).with_changes(changes)
    return str(info.value)


# --- defaults and round-trips ------------------------------------------------------------------


def test_defaults_validate() -> None:
    s = ExperimentSpec()
    assert parse(s.model_dump()) == s
    assert s.task == "classification"
    assert s.loss.name in spec.losses_for(s.task, s.data.n_classes)


@pytest.mark.parametrize(
    "name", ["default", *presets.names()], ids=lambda n: n
)
def test_json_round_trip(name: str) -> None:
    s = ExperimentSpec() if name == "default" else presets.load(name).spec
    text = s.to_json()
    assert ExperimentSpec.from_json(text) == s
    assert ExperimentSpec.from_json(text.encode()) == s
    assert parse(text) == s and parse(json.loads(text)) == s
    assert ExperimentSpec.from_json(text).to_json() == text


def test_every_preset_loads() -> None:
    found = presets.all_presets()
    assert [p.name for p in found] == list(presets.names())
    assert {"spiral", "xor", "digits-mlp", "sine-regression"} <= set(presets.names())
    for p in found:
        assert p.title and p.goal and isinstance(p.spec, ExperimentSpec)


def test_unknown_preset_is_a_sentence() -> None:
    with pytest.raises(SpecError, match="There is no preset called 'nope'"):
        presets.load("nope")


# --- with_changes -------------------------------------------------------------------------------


def test_with_changes_on_dotted_paths() -> None:
    base = ExperimentSpec()
    s = base.with_changes({"optimizer.lr": 0.1, "train.batch_size": 64, "seed": 7,
                           "data.name": "gauss", "data.classes": 4})  # fmt: skip
    assert (s.optimizer.lr, s.train.batch_size, s.seed) == (0.1, 64, 7)
    assert (s.data.name, s.data.n_classes) == ("gauss", 4)
    assert s.optimizer.name == base.optimizer.name  # untouched settings stay
    assert base.optimizer.lr == 0.01  # the original is not changed


def test_with_changes_replaces_the_layer_stack() -> None:
    layers = [{"type": "linear", "units": 5}, {"type": "dropout", "p": 0.5},
              {"type": "activation", "name": "GELU"}]  # fmt: skip
    s = ExperimentSpec().with_changes({"model.layers": layers})
    assert [layer.type for layer in s.model.layers] == ["linear", "dropout", "activation"]
    assert s.model.layers[0].units == 5 and s.model.layers[2].name == "GELU"


def test_with_changes_switches_task_with_its_loss() -> None:
    s = ExperimentSpec().with_changes({"data.name": "sine", "loss.name": "HuberLoss"})
    assert s.task == "regression" and s.data.n_classes == 0


# --- readable errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "where", "words"),
    [
        ({"optimizer.lr": 100}, "optimizer.lr", "at most 10"),
        ({"optimizer.lr": 0}, "optimizer.lr", "at least 0.00001"),
        ({"train.batch_size": 0}, "train.batch_size", "at least 1"),
        ({"data.noise": 0.9}, "data.noise", "at most 0.5"),
        ({"seed": -1}, "seed", "at least 0"),
        ({"model.layers": [{"type": "linear", "units": 0}]}, "model.layers.0.units", "at least 1"),
        ({"model.layers": [{"type": "dropout", "p": 1.0}]}, "model.layers.0.p", "less than 1"),
        ({"data.noise": "lots"}, "data.noise", "number"),
    ],
)
def test_out_of_range_values_are_sentences(changes: dict, where: str, words: str) -> None:
    message = error_of(changes)
    assert message.startswith(f"{where}: must be ")
    # pydantic's "greater than or equal to" reads fine too; accept either wording of a bound
    normal = message.replace("greater than or equal to", "at least").replace(
        "less than or equal to", "at most"
    )
    assert words in normal, message
    assert "Input should" not in message and "Value error" not in message


def test_unknown_settings_are_named() -> None:
    assert error_of({"optimizer.momentun": 0.9}) == "unknown setting 'optimizer.momentun'"
    assert error_of({"nope.lr": 1}) == "unknown setting 'nope.lr'"
    assert error_of({"seed.deeper": 1}) == "unknown setting 'seed.deeper'"
    with pytest.raises(SpecError, match=r"optimizer\.momentun: Extra inputs are not permitted"):
        parse({"optimizer": {"momentun": 0.9}})


def test_bad_layer_type_is_named() -> None:
    message = error_of({"model.layers": [{"type": "conv2d", "units": 3}]})
    assert message.startswith("model.layers.0: layer type 'conv2d'")
    assert "'linear', 'activation', 'dropout'" in message
    message = error_of({"model.layers": [{"type": "activation", "name": "Swish"}]})
    assert message.startswith("model.layers.0.name: must be 'ReLU'")
    assert "'Tanh'" in message


def test_nesterov_needs_sgd_with_momentum() -> None:
    sgd = ExperimentSpec().with_changes({"optimizer.name": "SGD"})
    message = error_of({"optimizer.nesterov": True}, sgd)
    assert message == "optimizer: Nesterov momentum needs SGD with momentum above 0"
    assert "Nesterov" in error_of({"optimizer.nesterov": True, "optimizer.momentum": 0.9})
    ok = sgd.with_changes({"optimizer.nesterov": True, "optimizer.momentum": 0.9})
    assert ok.optimizer.nesterov


def test_binary_loss_with_three_classes() -> None:
    message = error_of({"loss.name": "BCELoss", "data.classes": 3})
    assert message.startswith("BCELoss cannot be used here: it needs exactly 2 classes")
    assert "Spiral has 3" in message
    assert "Choose one of CrossEntropyLoss" in message and "BCEWithLogitsLoss" not in message
    ok = ExperimentSpec().with_changes({"loss.name": "BCELoss", "data.classes": 2})
    assert ok.loss.name == "BCELoss"


def test_classification_loss_on_regression() -> None:
    message = error_of({"data.name": "sine"})
    assert message.startswith("CrossEntropyLoss cannot be used here: it does not fit regression")
    assert "MSELoss, L1Loss, SmoothL1Loss, HuberLoss" in message
    message = error_of({"data.name": "plane", "loss.name": "NLLLoss"})
    assert "NLLLoss cannot be used here" in message and "regression" in message


def test_regression_only_loss_on_classification() -> None:
    message = error_of({"loss.name": "HuberLoss"})
    assert message.startswith("HuberLoss cannot be used here: it does not fit classification")


def test_classes_out_of_range_for_dataset() -> None:
    assert error_of({"data.name": "circle", "data.classes": 3}) == (
        "data: Circle has exactly 2 classes, not 3"
    )
    assert "2 to 6 classes, not 8" in error_of({"data.classes": 8})


def test_parse_rejects_junk_with_sentences() -> None:
    for junk in ["not json", b"\xff\xfe", "[1, 2]", 3, None]:
        with pytest.raises(SpecError) as info:
            parse(junk)
        assert str(info.value)


# --- helpers ------------------------------------------------------------------------------------


def test_feed_forward_is_the_reference_block() -> None:
    m = spec.feed_forward(num_hidden=2, hidden_dim=512, dropout=0.2)
    assert [layer.type for layer in m.layers] == ["linear", "dropout", "activation"] * 2
    assert all(layer.units == 512 for layer in m.layers if layer.type == "linear")
    assert all(layer.p == 0.2 for layer in m.layers if layer.type == "dropout")
    assert all(layer.name == "ReLU" for layer in m.layers if layer.type == "activation")
    fashion = presets.load("fashion-mnist-ffnn").spec
    assert fashion.model == m


def test_losses_for() -> None:
    assert spec.losses_for("regression", 0) == list(spec.REGRESSION_LOSSES)
    binary = spec.losses_for("classification", 2)
    assert binary == list(spec.LOSSES)
    multi = spec.losses_for("classification", 3)
    assert "BCELoss" not in multi and "BCEWithLogitsLoss" not in multi
    assert set(binary) - set(multi) == {"BCELoss", "BCEWithLogitsLoss"}
    assert spec.loss_info("MSELoss", "regression").target == "value"
    assert spec.loss_info("MSELoss", "classification").target == "onehot"


def test_specs_are_frozen() -> None:
    s = ExperimentSpec()
    with pytest.raises(pydantic.ValidationError):
        s.seed = 3
    with pytest.raises(pydantic.ValidationError):
        s.optimizer.lr = 1.0
    with pytest.raises(pydantic.ValidationError):
        s.model.layers[0].units = 3
    assert hash(s) == hash(ExperimentSpec())


def test_coerce() -> None:
    assert spec.coerce("0.1") == 0.1 and spec.coerce("true") is True
    assert spec.coerce("SGD") == "SGD" and spec.coerce("[1]") == [1]


# --- the name tables match the registries -------------------------------------------------------


def test_name_tables_match_registries() -> None:
    assert tuple(models.ACTIVATION_MODULES) == spec.ACTIVATIONS
    assert set(models.ACTIVATION_KINDS) == set(spec.ACTIVATIONS)
    assert set(spec.LOSSES) | set(spec.REGRESSION_LOSSES) == set(train.LOSS_MODULES)
    assert tuple(train.OPTIMIZER_BUILDERS) == spec.OPTIMIZERS
    assert set(data.BUILDERS) == set(spec.DATASETS)
    assert set(models.LAYER_BUILDERS) == {"linear", "activation", "dropout"}
    target_kinds = {info.target for info in spec.LOSSES.values()} | {"value"}
    assert target_kinds <= set(train.TARGETS)


def test_every_loss_name_is_accepted_somewhere() -> None:
    for name in spec.LOSSES:
        ExperimentSpec().with_changes({"loss.name": name, "data.classes": 2})
    for name in spec.REGRESSION_LOSSES:
        ExperimentSpec().with_changes({"loss.name": name, "data.name": "sine"})


# --- property: untrusted input only ever raises SpecError ---------------------------------------

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(
    max_size=12
)
names = st.sampled_from(
    ["data", "model", "loss", "optimizer", "train", "seed", "name", "layers", "type", "units",
     "p", "lr", "classes", "noise", "momentum", "nesterov", "batch_size", "linear", "dropout",
     "activation", "spiral", "sine", "csv", "file", "target", "task", "BCELoss", "SGD", "x"]
) | st.text(max_size=8)  # fmt: skip
jsonish = st.recursive(
    scalars | names,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=5),
    max_leaves=20,
)


def _mutate(tree: dict, path: list[str], value: object) -> dict:
    node = tree
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            return tree
        node = node[key]
    node[path[-1]] = value
    return tree


PATHS = [
    ["seed"], ["data", "name"], ["data", "classes"], ["data", "noise"], ["data", "file"],
    ["data", "task"], ["data", "target"], ["model", "layers"], ["loss", "name"],
    ["optimizer", "name"], ["optimizer", "nesterov"], ["optimizer", "momentum"],
    ["train", "batch_size"], ["train", "device"], ["model", "recurrent"], ["data", "seq_len"],
    ["data", "per_step"],
]  # fmt: skip


def _parses_or_spec_error(obj: object) -> None:
    try:
        result = parse(obj)
    except SpecError as e:
        assert str(e)
    else:
        assert isinstance(result, ExperimentSpec)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonish)
def test_parse_random_values_only_raise_spec_error(obj: object) -> None:
    _parses_or_spec_error(obj)
    _parses_or_spec_error(json.dumps(obj, allow_nan=True))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), jsonish), max_size=4))
def test_parse_mutated_specs_only_raise_spec_error(edits: list) -> None:
    tree = ExperimentSpec().model_dump()
    for path, value in edits:
        tree = _mutate(tree, path, value)
    _parses_or_spec_error(tree)
    _parses_or_spec_error(json.dumps(tree))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_parse_random_bytes_only_raise_spec_error(raw: bytes | str) -> None:
    _parses_or_spec_error(raw)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=20), jsonish, max_size=3))
def test_with_changes_only_raises_spec_error(changes: dict) -> None:
    try:
        ExperimentSpec().with_changes(changes)
    except SpecError as e:
        assert str(e)


def test_model_words_name_the_stack_and_the_recurrent_layer() -> None:
    assert spec.model_words(ExperimentSpec().with_changes({"model.layers": []})) == \
        "no hidden layers"
    seq = presets.load("sentiment-bilstm").spec
    words = spec.model_words(seq)
    rec = seq.model.recurrent
    assert words.startswith(f"bidirectional LSTM({rec.hidden_size}) × {rec.num_layers}")
    layers = ExperimentSpec().with_changes({"model.layers": [
        {"type": "linear", "units": 8}, {"type": "activation", "name": "Tanh"},
        {"type": "dropout", "p": 0.25}]})
    assert spec.model_words(layers) == "Linear(8) → Tanh → Dropout(0.25)"
    line = spec.setup_words(layers.with_changes({"seed": 7, "train.max_steps": 3200}))
    assert line.startswith(f"{layers.data.info.label} · Linear(8) → Tanh → Dropout(0.25) · ")
    assert line.endswith(" · 3,200 steps · seed 7") and f"lr {layers.optimizer.lr:g}" in line


def test_every_cell_has_a_label() -> None:
    assert spec.CELLS == tuple(spec.CELL_LABELS) and all(spec.CELL_LABELS.values())
