"""Tests for nnplay.drawn and the "Draw your own" dataset: the compact text of drawn points, the
spec's bounds and sentences, links carrying the points, the data built from them, and the
exported script reproducing a run on them."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay import codegen, data, drawn, sizes, train, urls
from nnplay.charts.drawing import GRID_TRACE, drawing_chart
from nnplay.spec import ExperimentSpec, SpecError
from tests.test_codegen_changes import assert_reproduces

CELLS = st.tuples(st.integers(0, drawn.LEVELS - 1), st.integers(0, drawn.LEVELS - 1))


def two_blobs(n: int = 12) -> str:
    """n points of class 0 bottom left, n of class 1 top right."""
    rng = np.random.default_rng(0)
    groups = [[(int(i), int(j)) for i, j in rng.integers(lo, lo + 12, (n, 2))] for lo in (8, 40)]
    return drawn.encode(groups)


def draw_spec(points: str, **changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({"data.name": "draw", "data.points": points, **changes})


@given(st.lists(st.lists(CELLS, min_size=1, max_size=30), min_size=1, max_size=6))
@settings(max_examples=50, deadline=None)
def test_text_round_trips_and_takes_two_characters_a_point(groups):
    text = drawn.encode(groups)
    assert drawn.decode(text) == groups
    assert len(text) == 2 * sum(map(len, groups)) + len(groups) - 1
    assert set(text) <= set(drawn.ALPHABET + ".")


def test_arrays_put_each_cell_on_the_grid_class_by_class():
    text = drawn.encode([[(0, 63), (32, 1)], [(63, 0)]])
    x, y = drawn.arrays(text)
    grid = drawn.axis()
    assert x.dtype == np.float32 and y.dtype == np.int64
    expected = [[grid[0], grid[63]], [grid[32], grid[1]], [grid[63], grid[0]]]
    np.testing.assert_array_equal(x, expected)
    assert y.tolist() == [0, 0, 1]
    assert grid[0] == np.float32(-drawn.LIMIT) and grid[-1] == np.float32(drawn.LIMIT)


def test_add_and_erase_the_nearest_point():
    text = drawn.add("", 1, (5, 5))  # class 0 empty so far
    assert drawn.decode(text) == [[], [(5, 5)]]
    text = drawn.add(text, 0, (40, 40))
    text = drawn.add(text, 0, (40, 40))  # the same place twice: two points
    assert drawn.counts(text, 2) == [2, 1]
    text = drawn.erase(text, (6, 7))
    assert drawn.decode(text) == [[(40, 40), (40, 40)]]
    assert drawn.erase("", (1, 1)) == ""
    assert drawn.cell(-5.0) == 0 and drawn.cell(5.0) == 63 and drawn.cell(0.0) in (31, 32)


def test_a_generator_s_points_become_a_drawing():
    x, y = data.gen_moons(100, 0.1, 2, np.random.default_rng(0))
    text = drawn.from_points(x, y)
    assert sum(drawn.counts(text, 2)) == 100
    back, labels = drawn.arrays(text)
    assert np.abs(back - np.clip(x, -1.2, 1.2)).max() <= 2.4 / 63 / 2 + 1e-6  # half a cell
    assert sorted(labels.tolist()) == sorted(y.tolist())


@pytest.mark.parametrize("points,classes,sentence", [
    ("", 0, "at least 3 points of each class (class 0 has 0)"),
    ("AAAA.BBBBBB", 0, "class 0 has 2"),
    ("AAAAAA.BBBBBB.CCCCCC", 0, "points of class 2 but only 2 classes"),
    ("AAAAAA.BBBBBB", 3, "class 2 has 0"),
    ("AAA.BBBBBB", 0, "not readable"),
])  # fmt: skip
def test_a_drawing_that_cannot_train_is_one_sentence(points, classes, sentence):
    with pytest.raises(SpecError, match=re.escape(sentence)):
        draw_spec(points, **{"data.classes": classes})


def test_more_than_500_points_is_refused_with_a_sentence():
    with pytest.raises(SpecError, match="at most 500 drawn points, not 501"):
        draw_spec("AB" * 250 + "." + "CD" * 251)
    assert sum(drawn.counts(draw_spec("AB" * 250 + "." + "CD" * 250).data.points, 2)) == 500


def test_other_datasets_ignore_points():
    spec = ExperimentSpec().with_changes({"data.points": "AAAA"})  # spiral: not checked
    assert data.used(spec.data).points == ""


def test_a_link_carries_the_points_compactly():
    spec = draw_spec(two_blobs(250))  # 500 points
    params = urls.to_params(spec)
    assert params["data.points"] == spec.data.points
    assert len(spec.data.points) == 1001
    back, warnings, _ = urls.parse(params)
    assert back == spec and not warnings


def _rows(x: np.ndarray, y: np.ndarray) -> list[tuple]:
    return sorted(zip(map(tuple, x.tolist()), y.tolist()))


def test_the_dataset_is_the_drawing_split_by_the_training_share():
    spec = draw_spec(two_blobs(), **{"data.train_fraction": 0.75})
    ds = data.build(spec.data, spec.seed)
    x, y = drawn.arrays(spec.data.points)
    parts = [t.numpy() for t in (ds.x_train, ds.y_train, ds.x_test, ds.y_test)]
    assert _rows(np.concatenate(parts[::2]), np.concatenate(parts[1::2])) == _rows(x, y)
    assert np.bincount(parts[1]).tolist() == [9, 9] and np.bincount(parts[3]).tolist() == [3, 3]
    assert ds.kind == "2d" and ds.n_classes == 2
    assert sizes.estimated_train_size(spec) == 18 == drawn.shares(spec.data.points, 0.75)[0]


def test_the_split_is_the_seed_s_and_keeps_each_class_on_both_sides():
    y = np.repeat(np.arange(3), [3, 10, 25])
    first = drawn.split(y, 0.5, np.random.default_rng(7), drawn.MIN_SPLIT)
    again = drawn.split(y, 0.5, np.random.default_rng(7), drawn.MIN_SPLIT)
    other = drawn.split(y, 0.5, np.random.default_rng(8), drawn.MIN_SPLIT)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])
    train, test = first
    assert not set(train) & set(test) and len(train) + len(test) == len(y)
    assert np.bincount(y[train]).tolist() == [2, 5, 12]  # round(n/2), at least one a side
    assert np.bincount(y[test]).tolist() == [1, 5, 13]
    for share in (0.1, 0.9):  # the extremes still leave each class a point on either side
        train, test = drawn.split(y, share, np.random.default_rng(0), drawn.MIN_SPLIT)
        assert set(y[train]) == set(y[test]) == {0, 1, 2}


def test_too_few_points_all_train_and_the_script_says_so():
    y = np.repeat(np.arange(3), 3)  # 9 points: under MIN_SPLIT
    train, test = drawn.split(y, 0.5, np.random.default_rng(0), drawn.MIN_SPLIT)
    assert train.tolist() == test.tolist() == list(range(9))
    spec = draw_spec(drawn.encode([[(1, 1)] * 3, [(9, 9)] * 3, [(30, 3)] * 3]),
                     **{"data.classes": 3})
    ds = data.build(spec.data, spec.seed)
    assert len(ds.x_train) == len(ds.x_test) == 9
    assert "too few to split" in codegen.script(spec)


def test_a_run_on_a_drawing_stores_and_trains():
    spec = draw_spec(two_blobs(), **{"train.epochs": 40, "train.batch_size": 8})
    result = train.run_spec(spec)
    assert result.status == "finished"
    assert result.history[-1]["train_acc"] == 1.0  # two blobs far apart


def test_the_exported_script_reproduces_a_run_on_a_drawing(tmp_path):
    three = drawn.encode([[(8 + k, 10 + k % 5) for k in range(9)],
                          [(40 - k, 50) for k in range(9)], [(30, 20 + k) for k in range(9)]])
    spec = draw_spec(three, **{"data.classes": 3, "train.epochs": 30, "train.batch_size": 4,
                               "train.eval_every": 10, "data.inputs": "x1,x2,x1*x2"})
    path = tmp_path / "drawn.py"
    path.write_text(codegen.script(spec))
    result = train.run_spec(spec)
    assert_reproduces(path, result.history)


def test_the_canvas_has_a_grid_of_every_cell_under_the_points():
    text = drawn.encode([[(0, 0), (63, 63)], [(10, 20)], [(5, 5)]])
    x, y = drawn.arrays(text)
    fig = drawing_chart(x, y, 3, drawn.axis())
    go.Figure(fig.to_dict())  # valid for plotly
    grid = fig.data[GRID_TRACE]
    assert grid.name == "grid" and len(grid.x) == drawn.LEVELS ** 2
    cells = {(drawn.cell(a), drawn.cell(b)) for a, b in zip(grid.x, grid.y)}
    assert len(cells) == drawn.LEVELS ** 2  # each cell once: a click lands on its nearest
    classes = [t for t in fig.data if (t.name or "").startswith("class")]
    assert [len(t.x) for t in classes] == [2, 1, 1]
    assert all(t.hoverinfo == "skip" for t in classes)  # clicks go to the grid, not a point
    assert (classes[1].x[0], classes[1].y[0]) == (drawn.axis()[10], drawn.axis()[20])
