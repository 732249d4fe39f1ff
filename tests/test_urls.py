"""Shareable links: spec -> URL -> spec round trips, and hostile URLs never crash."""

from __future__ import annotations

import typing
from urllib.parse import parse_qs, urlencode

import pytest
from annotated_types import Ge, Le, Lt
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nnplay import presets, urls
from nnplay.spec import ACTIVATIONS, ExperimentSpec, OptimizerSpec, TrainSpec

PRESETS = presets.names()


def through_url(params: dict[str, str]) -> dict[str, list[str]]:
    """What a browser hands back after the params went through a real query string."""
    return parse_qs(urlencode(params, safe=":,"), keep_blank_values=True)


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_round_trips(name) -> None:
    spec = presets.load(name).spec
    for preset in (None, name):
        params = urls.to_params(spec, preset)
        back, warnings, extras = urls.parse(through_url(params))
        assert back == spec and warnings == [], params
        assert extras.get("preset") == preset


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_link_is_short(name) -> None:
    assert urls.to_params(presets.load(name).spec, name) == {"preset": name}
    spec, warnings, extras = urls.parse({"preset": name})
    assert spec == presets.load(name).spec and not warnings and extras == {"preset": name}


def test_a_change_on_top_of_a_preset() -> None:
    spec = presets.load("xor").spec.with_changes({"optimizer.lr": 0.1, "train.l2": 0.001})
    params = urls.to_params(spec, "xor")
    assert params == {"preset": "xor", "optimizer.lr": "0.1", "train.l2": "0.001"}
    assert urls.parse(params)[0] == spec


def test_layers_are_one_compact_value() -> None:
    spec = ExperimentSpec().with_changes({"model.layers": [
        {"type": "linear", "units": 16}, {"type": "activation", "name": "LeakyReLU"},
        {"type": "dropout", "p": 0.2}, {"type": "linear", "units": 8},
    ]})  # fmt: skip
    params = urls.to_params(spec)
    assert params["layers"] == "linear:16,leakyrelu,dropout:0.2,linear:8"
    assert "layers=linear:16,leakyrelu,dropout:0.2,linear:8" in urls.query(spec)
    assert urls.parse(params)[0] == spec
    empty = spec.with_changes({"model.layers": []})
    assert urls.to_params(empty)["layers"] == "none" and urls.parse({"layers": "none"})[0] == empty


def test_the_default_spec_is_the_empty_link() -> None:
    assert urls.to_params(ExperimentSpec()) == {}
    assert urls.parse({}) == (ExperimentSpec(), [], {})


def test_recurrent_model_round_trips_and_can_be_removed() -> None:
    tree = ExperimentSpec().model_dump()
    tree["data"]["name"] = "parity"
    tree["model"]["recurrent"] = {"cell": "GRU", "hidden_size": 8}
    spec = ExperimentSpec.model_validate(tree)
    params = urls.to_params(spec)
    assert params["recurrent.cell"] == "GRU" and "recurrent" not in params
    assert urls.parse(through_url(params)) == (spec, [], {})
    # a link whose base has a recurrent model, to a spec without one, says recurrent=none
    assert urls._flat(ExperimentSpec())["recurrent"] == "none"


# --- bad values ---------------------------------------------------------------------------------


def test_bad_values_are_reported_and_replaced() -> None:
    spec, warnings, _ = urls.parse({"optimizer.lr": "fast", "train.batch_size": "0",
                                    "data.noise": "nan", "optimizer.name": "adam"})  # fmt: skip
    assert spec == ExperimentSpec()  # "adam" is Adam, the default, in any case
    assert len(warnings) == 3
    assert any("optimizer.lr=fast" in w and "using 0.01" in w for w in warnings)
    assert any("train.batch_size=0" in w and "greater than or equal to 1" in w for w in warnings)
    assert all("\n" not in w for w in warnings)


def test_unknown_names_are_one_line() -> None:
    params = {f"x{i}": "1" for i in range(50)}
    spec, warnings, _ = urls.parse(params)
    assert spec == ExperimentSpec()
    assert warnings == ["Link: ignored unknown settings x0, x1, x2, x3, x4 and 45 more."]


def test_unknown_preset_falls_back_to_defaults() -> None:
    spec, warnings, extras = urls.parse({"preset": "no-such", "optimizer.lr": "0.1"})
    assert spec == ExperimentSpec().with_changes({"optimizer.lr": 0.1})
    assert len(warnings) == 1 and "no preset called 'no-such'" in warnings[0]
    assert "preset" not in extras


def test_bad_layer_item_keeps_the_base_stack() -> None:
    for text in ("linear:0", "linear:16,frobnicate", "dropout:1.5", "linear:abc", "relu:3",
                 ",".join(["relu"] * 65), "linear:16," * 2000):
        spec, warnings, _ = urls.parse({"preset": "xor", "layers": text})
        assert spec == presets.load("xor").spec
        assert len(warnings) == 1 and warnings[0].startswith("Link: layers=")
        assert len(warnings[0]) < 300


def test_layer_names_in_any_case() -> None:
    spec, warnings, _ = urls.parse({"layers": "Linear:4, TANH ,activation:gelu,linear"})
    assert not warnings
    assert [layer.model_dump() for layer in spec.model.layers] == [
        {"type": "linear", "units": 4}, {"type": "activation", "name": "Tanh"},
        {"type": "activation", "name": "GELU"}, {"type": "linear", "units": 8},
    ]  # fmt: skip


def test_a_setting_that_does_not_fit_the_others_is_dropped_alone() -> None:
    spec, warnings, _ = urls.parse({"optimizer.name": "Adam", "optimizer.nesterov": "true",
                                    "optimizer.lr": "0.2"})  # fmt: skip
    assert spec.optimizer.lr == 0.2 and not spec.optimizer.nesterov
    assert len(warnings) == 1 and "optimizer.nesterov=true does not fit" in warnings[0]
    # two settings that only fit together are both kept
    spec, warnings, _ = urls.parse({"data.name": "sine", "loss.name": "MSELoss"})
    assert (spec.data.name, spec.loss.name, warnings) == ("sine", "MSELoss", [])
    # a loss that does not fit the dataset: one of the two goes, with one line
    spec, warnings, _ = urls.parse({"data.name": "sine", "loss.name": "BCELoss"})
    assert len(warnings) == 1 and (spec.data.name == "sine") != (spec.loss.name == "BCELoss")


def test_extras_pass_through() -> None:
    spec, warnings, extras = urls.parse({"run": "abc123", "hide": "optimizer.lr, layers,,",
                                         "seed": ["1", "7"]})  # fmt: skip
    assert extras == {"run": "abc123", "hide": ("optimizer.lr", "layers")}
    assert spec.seed == 7 and not warnings  # a repeated name: the last value wins
    assert "run=abc123" in urls.query(spec, extras={"run": "abc123"})


# --- properties ---------------------------------------------------------------------------------


def _values(field) -> st.SearchStrategy:
    """Valid values for one spec field, read off its annotation and bounds."""
    kind = field.annotation
    if typing.get_origin(kind) is typing.Literal:
        return st.sampled_from(typing.get_args(kind))
    if kind is bool:
        return st.booleans()
    bounds = {type(m): m for m in field.metadata}
    low = bounds[Ge].ge if Ge in bounds else 0
    high = bounds[Le].le if Le in bounds else bounds[Lt].lt if Lt in bounds else 10**6
    if kind is int:
        return st.integers(int(low), int(high))
    return st.floats(low, high, exclude_max=Lt in bounds, allow_nan=False)


layer = st.one_of(
    st.builds(lambda u: {"type": "linear", "units": u}, st.integers(1, 4096)),
    st.builds(lambda n: {"type": "activation", "name": n}, st.sampled_from(ACTIVATIONS)),
    st.builds(lambda p: {"type": "dropout", "p": p},
              st.floats(0, 1, exclude_max=True, allow_nan=False)),
)
TUNABLE = {f"optimizer.{n}": f for n, f in OptimizerSpec.model_fields.items()} | \
    {f"train.{n}": f for n, f in TrainSpec.model_fields.items()}  # fmt: skip


@st.composite
def specs(draw) -> tuple[ExperimentSpec, str | None]:
    """A valid spec: a preset with random optimiser/training settings and a random stack."""
    name = draw(st.sampled_from(PRESETS))
    tree = presets.load(name).spec.model_dump()
    for key in draw(st.lists(st.sampled_from(sorted(TUNABLE)), max_size=6, unique=True)):
        section, leaf = key.split(".")
        tree[section][leaf] = draw(_values(TUNABLE[key]))
    if draw(st.booleans()):
        tree["model"]["layers"] = draw(st.lists(layer, max_size=6))
    tree["seed"] = draw(st.integers(0, 2**31 - 1))
    try:
        spec = ExperimentSpec.model_validate(tree)
    except ValidationError:
        assume(False)
    return spec, draw(st.sampled_from([None, name]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(specs())
def test_random_specs_round_trip(case) -> None:
    spec, preset = case
    params = urls.to_params(spec, preset)
    assert urls.parse(through_url(params)) == (spec, [], {"preset": preset} if preset else {})


hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e309", "-1", "0", "", " ", "none", "true",
                     "9" * 5000, "linear:", ":", ",,,", "linear:1e9", "dropout:-0",
                     "\n\r\t", "\x00", "%00", "'; DROP TABLE runs; --", "<script>"]),
)
hostile_key = st.one_of(st.sampled_from([*urls.SETTINGS, *urls.EXTRAS]), st.text(max_size=20))
hostile_value = st.one_of(hostile_text, st.lists(hostile_text, max_size=3))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(hostile_key, hostile_value, max_size=12))
def test_hostile_params_never_raise(params) -> None:
    spec, warnings, extras = urls.parse(params)
    assert isinstance(spec, ExperimentSpec)
    assert ExperimentSpec.model_validate(spec.model_dump()) == spec
    for w in warnings:
        assert isinstance(w, str) and "\n" not in w and len(w) < 600
    assert set(extras) <= set(urls.EXTRAS)
    # what comes back makes a link that reads back as the same spec
    assert urls.parse(urls.to_params(spec))[0] == spec
