"""Links that carry a drawing: one that cannot be used (no points, unreadable, too few of a
class, too many) falls back to the link's base data with one sentence, a huge one is refused by
its length before any of it is read, and a good one round-trips with its split and classes."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay import drawn, urls
from nnplay.spec import ExperimentSpec, SpecError, parse

GOOD = drawn.encode([[(5, 5), (6, 5), (5, 6), (7, 7)], [(58, 58), (57, 58), (58, 57)],
                     [(30, 2), (31, 2), (32, 2)]])


@pytest.mark.parametrize(("params", "words"), [
    ({"data.name": "draw"}, "has no points (data.points is empty)"),
    ({"data.name": "draw", "data.points": ""}, "has no points"),
    ({"data.name": "Draw", "data.points": "A"}, "is not readable (two letters or digits a point)"),
    ({"data.name": "draw", "data.points": "AB!!"}, "is not readable"),
    ({"data.name": "draw", "data.points": "ABAC.zzzy"},
     "cannot train: draw at least 3 points of each class (class 0 has 2)"),
    ({"data.name": "draw", "data.points": GOOD}, "there are points of class 2 but only 2 classes"),
    ({"data.name": "draw", "data.points": "AB" * 501}, "cannot train: at most 500 drawn points"),
    ({"data.name": "draw", "data.points": "AB" * 520}, "too large: a drawing holds at most 500 "
                                                       "points, not about 520"),
])  # fmt: skip
def test_a_drawing_that_cannot_be_used_falls_back_to_the_spiral_in_one_sentence(params, words):
    spec, warnings, _ = urls.parse(params)
    assert spec == ExperimentSpec()  # the spiral, and no stray points
    assert len(warnings) == 1 and words in warnings[0], warnings
    assert warnings[0].startswith("Link: the drawing in this link")
    assert warnings[0].endswith("the page shows Spiral instead.") and "\n" not in warnings[0]


def test_a_preset_s_link_falls_back_to_the_preset_s_data():
    spec, warnings, extras = urls.parse({"preset": "xor", "data.name": "draw"})
    assert spec.data.name == "xor" and extras["preset"] == "xor"
    assert warnings == ["Link: the drawing in this link has no points (data.points is empty); "
                        "the page shows XOR instead."]


def test_unreadable_points_beside_another_dataset_are_left_out():
    spec, warnings, _ = urls.parse({"data.name": "circle", "data.points": "A.B"})
    assert spec.data.name == "circle" and spec.data.points == ""
    assert warnings == ["Link: the drawing in this link is not readable (two letters or digits "
                        "a point); it is left out."]


def test_a_huge_drawing_is_refused_by_its_length_before_it_is_read(monkeypatch):
    def unread(*_: object) -> None:
        raise AssertionError("a drawing past the limit was read")

    for name in ("decode", "problem", "arrays", "counts"):
        monkeypatch.setattr(drawn, name, unread)
    huge = "AB" * 2_000_000 + "." + "CD" * 2_000_000  # 8 MB: four million points
    spec, warnings, _ = urls.parse({"data.name": "draw", "data.points": huge})
    assert spec == ExperimentSpec()
    assert warnings == ["Link: the drawing in this link is too large: a drawing holds at most "
                        "500 points, not about 4,000,000; the page shows Spiral instead."]
    with pytest.raises(SpecError) as err:  # a stored spec, --set, a JSON file: the same limit
        parse({"data": {"name": "draw", "points": huge}})
    assert str(err.value) == "data.points: a drawing holds at most 500 points, not about 4,000,000"


def test_a_drawing_round_trips_through_a_link_with_its_classes_split_and_inputs():
    spec = ExperimentSpec().with_changes({
        "data.name": "draw", "data.points": GOOD, "data.classes": 3,
        "data.train_fraction": 0.7, "data.inputs": "x1,x2,x1*x2", "seed": 4})  # fmt: skip
    query = urls.query(spec)
    assert f"data.points={GOOD}" in query  # URL-safe: no escaping
    back, warnings, _ = urls.parse(dict(parse_qsl(query)))
    assert back == spec and warnings == []


@given(st.text(max_size=60), st.sampled_from(["draw", "spiral", ""]))
@settings(max_examples=200, deadline=None)
def test_any_points_text_gives_a_valid_spec_and_at_most_one_sentence_about_it(text, name):
    params = {"data.points": text} | ({"data.name": name} if name else {})
    spec, warnings, _ = urls.parse(params)
    assert ExperimentSpec.model_validate(spec.model_dump()) == spec
    assert sum("drawing" in w or "data.points" in w for w in warnings) <= 1
    assert all("\n" not in w for w in warnings)
