"""Loss surfaces: known minima, autograd against hand-written derivatives, the contour grid,
links that round-trip and never raise, and the surface presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnplay import surfaces
from nnplay.spec import OptimizerSpec, SpecError
from nnplay.surfaces import SURFACES, SurfaceSpec


def _bowl_grad(x, y, condition=10.0, angle=0.0):
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    along, across = c * x + s * y, c * y - s * x
    return along * c / condition - across * s, along * s / condition + across * c


def _beale_grad(x, y):
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return (2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
            2 * a * x + 4 * b * x * y + 6 * c * x * y**2)  # fmt: skip


HAND = {  # each surface's gradient, worked out by hand
    "bowl": _bowl_grad,
    "rosenbrock": lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
    "beale": _beale_grad,
    "saddle": lambda x, y: (2 * x, -2 * y),
    "himmelblau": lambda x, y: (4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
                                2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)),
}  # fmt: skip


def test_every_surface_has_a_hand_gradient() -> None:
    assert set(HAND) == set(SURFACES)


@pytest.mark.parametrize("name", list(SURFACES))
@pytest.mark.parametrize("point", [(-1.3, 0.7), (0.4, -2.2), (2.5, 1.1)])
def test_autograd_matches_the_hand_derivative(name: str, point: tuple[float, float]) -> None:
    spec = SurfaceSpec(surface=name, condition=7.0, angle=30.0, start=SURFACES[name].start)
    p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    spec.value(p[0], p[1]).backward()
    want = HAND[name](*point, **spec.settings())
    assert p.grad.tolist() == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", list(SURFACES))
def test_marked_minima_are_minima(name: str) -> None:
    spec = SurfaceSpec(surface=name, condition=20.0, angle=45.0, start=SURFACES[name].start)
    for mark in SURFACES[name].marks:
        p = torch.tensor([mark.x, mark.y], dtype=torch.float64, requires_grad=True)
        value = spec.value(p[0], p[1])
        value.backward()
        assert p.grad.abs().max().item() < 1e-4, (name, mark)  # a stationary point
        if mark.kind == "minimum":
            assert value.item() == pytest.approx(SURFACES[name].floor, abs=1e-9)
            for dx, dy in ((1e-2, 0), (-1e-2, 0), (0, 1e-2), (0, -1e-2)):
                assert spec.value(mark.x + dx, mark.y + dy) > value.item()
    if name == "saddle":  # down one way, up the other
        assert spec.value(0.1, 0.0) > 0 > spec.value(0.0, 0.1)


def test_the_grid_is_the_same_function_as_torch() -> None:
    spec = SurfaceSpec(surface="bowl", condition=50.0, angle=20.0, start=(1.0, 1.0))
    xs, ys, z = surfaces.grid(spec, 21)
    assert z.shape == (21, 21) and not z.flags.writeable
    i, j = 7, 13
    p = torch.tensor([xs[j], ys[i]], dtype=torch.float64)
    assert z[i, j] == spec.value(p[0], p[1]).item()
    levels = surfaces.log_levels(z, 0.0)
    assert np.isfinite(levels).all() and levels.argmin() == z.argmin()


def test_a_start_outside_the_plot_is_a_sentence() -> None:
    with pytest.raises(SpecError, match=r"outside the plot of Rosenbrock's valley: x from -2 to 2"):
        surfaces.parse({"surface": "rosenbrock", "start": (5, 0)})
    with pytest.raises(SpecError, match="contenders"):
        surfaces.parse({"contenders": [{"name": "SGD", "lr": 0.1}] * 7})


def test_titles_are_unique() -> None:
    spec = SurfaceSpec(contenders=(OptimizerSpec(name="SGD", lr=0.1),) * 2)
    assert spec.titles() == ["SGD lr=0.1", "SGD lr=0.1 #2"]


def test_link_round_trip() -> None:
    spec = SurfaceSpec(surface="bowl", condition=200.0, angle=45.0, start=(-3.5, 2.25), steps=120,
                       contenders=(OptimizerSpec(name="SGD", lr=0.3, momentum=0.9, nesterov=True),
                                   OptimizerSpec(name="AdamW", lr=0.03, beta1=0.8,
                                                 weight_decay=0.01)))  # fmt: skip
    params = surfaces.to_params(spec)
    assert params["c1"] == "SGD,lr=0.3,momentum=0.9,nesterov=true"
    assert surfaces.from_params(params) == (spec, [])


def test_bad_link_values_are_warnings_and_defaults() -> None:
    spec, warnings = surfaces.from_params({
        "surface": "beale", "start": "9,9", "steps": "lots", "c1": "Adam,lr=99",
        "c2": "Sgd,lr=0.01", "c3": "Nadam", "condition": "5"})  # fmt: skip
    assert spec.surface == "beale" and spec.start == SURFACES["beale"].start
    assert spec.steps == 300 and spec.contenders == (OptimizerSpec(name="SGD", lr=0.01),)
    assert len(warnings) == 4
    assert any("start=9,9" in w and "outside the plot" in w for w in warnings)
    assert any("c3=Nadam" in w and "not an optimiser" in w for w in warnings)


@given(st.dictionaries(st.sampled_from(surfaces.PARAM_KEYS + ("preset", "x")),
                       st.text(max_size=60), max_size=8))
def test_any_link_gives_a_valid_setup(params: dict) -> None:
    spec, warnings = surfaces.from_params(params)
    assert isinstance(spec, SurfaceSpec) and isinstance(warnings, list)


def test_surface_presets_load_and_say_what_to_look_for() -> None:
    names = surfaces.preset_names()
    assert {"momentum-valley", "adam-bowl", "saddle-escape", "himmelblau-minima"} <= set(names)
    for preset in surfaces.all_presets():
        assert preset.page == "Compare" and len(preset.goal) > 60
        assert surfaces.from_params(surfaces.to_params(preset.spec)) == (preset.spec, [])
    with pytest.raises(SpecError, match="no surface preset called 'nope'"):
        surfaces.load_preset("nope")
