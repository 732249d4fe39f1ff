"""A spec's settings by dotted path: spec.flatten, spec.unflatten and spec.put, the one flatten
that with_changes, the live-change follower and the runs' side-by-side table share."""

from __future__ import annotations

import pytest

from nnplay import presets
from nnplay.spec import ExperimentSpec, SpecError, flatten, parse, put, unflatten

SPECS = [presets.load(name).spec for name in presets.names()]


@pytest.mark.parametrize("spec", SPECS, ids=[s.data.name + "-" + str(i) for i, s in
                                             enumerate(SPECS)])
def test_flatten_and_unflatten_round_trip_every_preset(spec: ExperimentSpec) -> None:
    flat = flatten(spec.model_dump())
    assert flat["optimizer.lr"] == spec.optimizer.lr
    assert isinstance(flat["model.layers"], list | tuple)  # the stack is one setting
    assert parse(unflatten(flat)) == spec
    by_item = flatten(spec.model_dump(), items=True)
    assert all(not isinstance(v, list | tuple) or not v for v in by_item.values())
    assert set(flat) - {"model.layers", "data.inputs"} <= set(by_item)


def test_paths_and_their_values() -> None:
    spec = ExperimentSpec().with_changes({"model.layers": [], "data.inputs": "x1,x2,x1^2"})
    flat = flatten(spec.model_dump())
    assert flat["model.recurrent"] is None and flat["data.inputs"] == ("x1", "x2", "x1^2")
    items = flatten(spec.model_dump(), items=True)
    assert items["model.layers"] == () and items["data.inputs.2"] == "x1^2"
    assert unflatten({"a.b.c": 1, "a.d": 2, "e": 3}) == {"a": {"b": {"c": 1}, "d": 2}, "e": 3}


def test_put_a_known_setting_or_a_sentence() -> None:
    tree = ExperimentSpec().model_dump()
    put(tree, "optimizer.lr", 0.5, known=True)
    assert parse(tree).optimizer.lr == 0.5
    for path in ("optimizer.speed", "model.recurrent.cell", "seed.x", "nothing"):
        with pytest.raises(SpecError, match=f"unknown setting '{path}'"):
            put(tree, path, 1, known=True)
    with pytest.raises(SpecError, match="unknown setting 'optimizer.speed'"):
        ExperimentSpec().with_changes({"optimizer.speed": 1})
