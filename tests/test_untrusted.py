"""Hostile input never escapes as an unhandled exception: random spec JSON and CSV bytes get
SpecError / LimitExceeded / CsvError sentences or parse cleanly."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnplay import tabular
from nnplay.limits import LimitExceeded, Limits
from nnplay.presets import all_presets
from nnplay.sizes import estimated_train_size
from nnplay.spec import ExperimentSpec, SpecError, parse

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=5),
    max_leaves=20,
)


def leaves(tree: object, path: tuple = ()) -> list[tuple]:
    """Every path into a nested dict/list."""
    out = [path]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += leaves(v, path + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += leaves(v, path + (i,))
    return out


def accept(spec: ExperimentSpec) -> None:
    """What the app does with a spec that parsed: check limits and round-trip it."""
    try:
        Limits().check(spec, estimated_train_size(spec))
    except LimitExceeded as e:
        assert str(e).endswith(".")
    assert parse(spec.to_json()) == spec


@SETTINGS
@given(json_values)
def test_random_json_is_a_spec_or_a_sentence(value):
    try:
        text = json.dumps(value)
    except ValueError:
        return
    for candidate in (text, value):
        try:
            spec = parse(candidate)
        except SpecError as e:
            assert str(e)
        else:
            accept(spec)


@SETTINGS
@given(st.sampled_from([p.spec for p in all_presets()]), st.data())
def test_mutated_specs_are_specs_or_sentences(spec, draw):
    tree = json.loads(spec.to_json())
    for _ in range(draw.draw(st.integers(1, 3))):
        path = draw.draw(st.sampled_from(leaves(tree)[1:]))
        node = tree
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = draw.draw(json_values | st.sampled_from(
            [-1, 0, 1e308, -1e-9, "csv", "NaN", "../../x", 2**63, "linear", True]))
    try:
        parsed = parse(json.dumps(tree))
    except SpecError as e:
        assert str(e) and "Traceback" not in str(e)
    else:
        accept(parsed)


@SETTINGS
@given(st.text(max_size=200))
def test_random_spec_text_is_a_spec_or_a_sentence(text):
    try:
        accept(parse(text))
    except SpecError:
        pass


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_are_a_table_or_a_sentence(raw):
    try:
        frame = tabular.read_csv(raw)
    except tabular.CsvError as e:
        assert str(e).endswith(".")
    else:
        assert frame.shape[1] >= 2 and len(frame) >= tabular.MIN_ROWS


numbers = st.integers(-1000, 1000).map(str) | st.floats(allow_nan=True).map(str)
cells = st.one_of(
    numbers, numbers, numbers, st.integers(0, 2).map(str),
    st.sampled_from(["", "NA", "red", "blue", "\"quoted, comma\"", "true", "1e999", " "]),
    st.text(alphabet="ab,;\"\n\t\r 0123456789.-", max_size=6),
)


@SETTINGS
@given(st.integers(2, 5), st.lists(st.lists(cells, min_size=5, max_size=5), min_size=8,
                                   max_size=40), st.sampled_from([",", ";", "\t"]))
def test_random_tables_train_or_give_sentences(n_cols, rows, sep):
    header = sep.join(f"c{i}" for i in range(n_cols))
    raw = "\n".join([header] + [sep.join(r[:n_cols]) for r in rows]).encode()
    try:
        frame = tabular.read_csv(raw)
    except tabular.CsvError:
        return
    for target in frame.columns:
        for task in ("classification", "regression"):
            try:
                x_tr, y_tr, x_te, y_te, *_ = tabular.prepare_table(frame, target, task, 0.5, 0)
            except ValueError as e:
                assert str(e).endswith(".")
                continue
            assert len(x_tr) and len(x_te) and x_tr.shape[1] == x_te.shape[1]
            assert np.isfinite(x_tr).all() and np.isfinite(x_te).all()
            assert np.isfinite(y_tr).all() and np.isfinite(y_te).all()
        tabular.infer_task(frame[target])
