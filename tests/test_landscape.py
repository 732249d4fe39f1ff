"""The landscape view's core: the plane through the shared start (PCA of the paths), its
explained variance, the replay of a race, and a loss grid that keeps to the server's limits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from nnplay import landscape, landscape_chart, race
from nnplay.limits import LimitExceeded, Limits
from nnplay.spec import ExperimentSpec

torch.set_num_threads(1)


def small_race(**train) -> race.RaceSpec:
    """Two optimisers on the circle with a 2-4-2 network: a few dozen weights, a few steps."""
    base = ExperimentSpec.model_validate({
        "data": {"name": "circle", "n_samples": 200},
        "model": {"layers": [{"type": "linear", "units": 4},
                             {"type": "activation", "name": "Tanh"}]},
        "train": {"epochs": 2, "batch_size": 20, "device": "cpu", **train},
    })  # fmt: skip
    return race.parse_race({"base": base.model_dump(), "contenders": [
        {"name": "SGD", "lr": 0.1}, {"name": "Adam", "lr": 0.05}]})  # fmt: skip


def test_the_start_projects_onto_the_origin_and_the_plane_is_orthonormal() -> None:
    rng = np.random.default_rng(0)
    origin = rng.normal(size=50)
    paths = [origin + np.cumsum(rng.normal(size=(12, 50)), axis=0) for _ in range(3)]
    p = landscape.plane(origin, paths)
    np.testing.assert_array_equal(p.project(origin), [[0.0, 0.0]])
    np.testing.assert_allclose(p.directions @ p.directions.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(p.point(0.0, 0.0), origin)
    a, b = p.project(paths[0][-1])[0]
    # a point of the plane projects back onto its own coordinates
    np.testing.assert_allclose(p.project(p.point(a, b))[0], [a, b], atol=1e-9)


def test_the_explained_variance_is_the_share_of_the_paths_squares_the_plane_keeps() -> None:
    rng = np.random.default_rng(1)
    origin = rng.normal(size=30)
    e1, e2, e3 = np.eye(30)[:3]
    # paths in the plane of e1 and e2, plus a small part along e3
    steps = rng.normal(size=(40, 3)) * [3.0, 1.0, 0.1]
    points = origin + steps[:, :1] * e1 + steps[:, 1:2] * e2 + steps[:, 2:] * e3
    p = landscape.plane(origin, [points[:20], points[20:]])
    deltas = points - origin
    total = (deltas**2).sum()
    kept = (p.project(points) ** 2).sum()  # the squares of the projections: what the plane shows
    assert p.explained_total == pytest.approx(kept / total, rel=1e-9)
    assert p.explained[0] >= p.explained[1] > 0
    assert 0.99 < p.explained_total < 1.0  # the e3 part is off the plane
    on_plane = origin + steps[:, :1] * e1 + steps[:, 1:2] * e2
    assert landscape.plane(origin, [on_plane]).explained_total == pytest.approx(1.0)


def test_paths_along_one_line_still_get_a_plane_and_none_is_an_error() -> None:
    origin = np.zeros(5)
    line = np.outer(np.arange(1, 6), [1.0, 2.0, 0.0, 0.0, 0.0])
    p = landscape.plane(origin, [line])
    np.testing.assert_allclose(p.directions @ p.directions.T, np.eye(2), atol=1e-12)
    assert p.explained == pytest.approx((1.0, 0.0))
    with pytest.raises(ValueError, match="never left the start"):
        landscape.plane(origin, [np.zeros((3, 5))])


def test_the_grid_covers_the_paths_and_keeps_to_its_side() -> None:
    coords = [np.array([[0.0, 0.0], [2.0, 1.0]]), np.array([[0.0, 0.0], [-1.0, 0.5]])]
    a, b = landscape.grid_axes(coords, side=500)
    assert len(a) == len(b) == landscape.MAX_GRID_SIDE
    assert a[0] < -1.0 and a[-1] > 2.0 and b[0] < 0.0 and b[-1] > 1.0
    assert landscape.grid_size(replace(Limits(), max_steps=100)) == 10  # 100 forward passes
    assert landscape.grid_size(Limits(), side=1000) == landscape.MAX_GRID_SIDE


def test_a_race_replays_from_the_shared_start_and_its_path_starts_at_the_origin() -> None:
    spec = small_race()
    start, paths, steps, _ = landscape.replay(spec)
    assert len(paths) == 2 and all(p.shape[1] == start.shape[0] for p in paths)
    last = steps[0][-1]
    assert last >= 10  # the whole run: 2 epochs of at least 5 batches
    for p, at in zip(paths, steps):
        np.testing.assert_array_equal(p[0], start)  # every contender begins at the shared start
        assert at[0] == 0 and at[-1] == last and len(p) == len(at) >= 3
    assert not np.array_equal(paths[0][-1], paths[1][-1])
    again = landscape.replay(spec)[1]
    for a, b in zip(paths, again):
        np.testing.assert_array_equal(a, b)  # the replay is the same run, bit for bit
    short = landscape.replay(spec, steps=[3, last])[2]
    assert short[0][-1] == 3 and short[1][-1] == last  # a stopped one: up to where it was


def test_the_job_evaluates_the_loss_over_the_plane() -> None:
    job = landscape.LandscapeJob(small_race(), side=7)
    assert job.join(300)
    snap = job.snapshot()
    assert snap["error"] == "" and snap["progress"] == 1.0 and snap["note"] == ""
    z = snap["z"]
    assert z.shape == (7, 7) and np.isfinite(z).all() and (z > 0).all()
    np.testing.assert_array_equal(snap["coords"][0][0], [0.0, 0.0])
    # the loss at the grid's points is the loss at those weights: check one against a model
    the_plane, a, b = snap["plane"], snap["a"], snap["b"]
    spec = small_race().base
    shared = race.SharedStart(spec)
    ds, _, device = shared.initial(torch.device("cpu"))
    _, model, _ = shared(spec, device)
    at = landscape.loss_at(model, ds, spec)
    assert at(the_plane.point(a[3], b[5])) == z[5, 3]

    fig = landscape_chart.landscape_figure(snap, ["SGD <b>", "Adam"])
    go.Figure(fig.to_dict())  # plotly's own validation
    kinds = [(t.type, t.name) for t in fig.data]
    assert kinds[0] == ("contour", "log₁₀ training loss")
    assert ("scatter", "SGD &lt;b&gt;") in kinds and ("scatter", "shared start") in kinds
    path = next(t for t in fig.data if t.name == "Adam")
    assert (path.x[0], path.y[0]) == (0.0, 0.0) and len(path.x) == len(snap["steps"][1])
    words = landscape_chart.caption(snap)
    total = f"{the_plane.explained_total:.0%}"
    assert "2D slice" in words and total in words and total in fig.layout.title.text


def test_the_grid_stops_at_the_run_time_limit_and_says_so() -> None:
    job = landscape.LandscapeJob(small_race(), limits=replace(Limits(), max_run_seconds=0.0),
                                 side=5)  # fmt: skip
    assert job.join(300)
    snap = job.snapshot()
    assert snap["error"] == "" and np.isnan(snap["z"]).all() and snap["progress"] == 0.0
    assert "longer than one run may" in snap["note"]


def test_only_small_networks_on_2d_points_have_a_landscape() -> None:
    spec = small_race()
    with pytest.raises(LimitExceeded, match="at most 5,000"):
        landscape.check(spec, parameters=10_000)
    sine = spec.model_copy(update={"base": spec.base.model_copy(update={
        "data": spec.base.data.model_copy(update={"name": "sine"})})})  # fmt: skip
    with pytest.raises(LimitExceeded, match="2D points"):
        landscape.check(sine)
    job = landscape.LandscapeJob(sine)
    assert job.join(60) and "2D points" in job.snapshot()["error"]
