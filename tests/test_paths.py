"""Optimisers' paths: the same as stepping torch.optim by hand, delivered in chunks by a worker
thread, reproduced by the exported script, and drawn as a valid figure with animation frames."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from nnplay import paths, surface_charts, surfaces
from nnplay.spec import OptimizerSpec
from nnplay.surfaces import SURFACES, SurfaceSpec

torch.set_num_threads(1)

ALL_SIX = (
    OptimizerSpec(name="SGD", lr=0.001, momentum=0.9, nesterov=True),
    OptimizerSpec(name="Adam", lr=0.05, beta1=0.8),
    OptimizerSpec(name="AdamW", lr=0.05, weight_decay=0.1),
    OptimizerSpec(name="Adagrad", lr=0.3),
    OptimizerSpec(name="Adadelta", lr=5.0),
    OptimizerSpec(name="RMSprop", lr=0.01, momentum=0.5),
)
SPEC = SurfaceSpec(surface="rosenbrock", start=(-1.2, 1.0), steps=60, contenders=ALL_SIX)


def by_hand(spec: SurfaceSpec, opt: torch.optim.Optimizer, p: torch.nn.Parameter) -> np.ndarray:
    """The plain loop: loss, record, zero_grad, backward, step."""
    rows = []
    for _ in range(spec.steps):
        loss = spec.value(p[0], p[1])
        rows.append((*p.tolist(), loss.item()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    rows.append((*p.tolist(), spec.value(p[0], p[1]).item()))
    return np.array(rows)


def test_a_path_is_torch_optim_stepped_by_hand() -> None:
    got, status = paths.paths(SPEC)
    assert status == ["finished"] * 6
    hand = {
        0: lambda q: torch.optim.SGD(q, lr=0.001, momentum=0.9, nesterov=True),
        1: lambda q: torch.optim.Adam(q, lr=0.05, betas=(0.8, 0.999)),
        2: lambda q: torch.optim.AdamW(q, lr=0.05, weight_decay=0.1),
        3: lambda q: torch.optim.Adagrad(q, lr=0.3),
        4: lambda q: torch.optim.Adadelta(q, lr=5.0),
        5: lambda q: torch.optim.RMSprop(q, lr=0.01, momentum=0.5),
    }  # fmt: skip
    for i, make in hand.items():
        p = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=torch.float64))
        want = by_hand(SPEC, make([p]), p)
        assert got[i].shape == (61, 3)
        np.testing.assert_array_equal(got[i], want)  # bit for bit
    assert len({tuple(g[-1]) for g in got}) == 6  # six different optimisers, six endings


def test_a_path_that_runs_off_stops_and_says_so() -> None:
    spec = SurfaceSpec(surface="saddle", start=(-1.8, 0.001), steps=200,
                       contenders=(OptimizerSpec(name="Adam", lr=0.1),
                                   OptimizerSpec(name="SGD", lr=0.1)))  # fmt: skip
    got, status = paths.paths(spec)
    x_lo, x_hi, y_lo, y_hi = surfaces.far_box(SURFACES["saddle"])
    for rows, said in zip(got, status):
        assert said == f"far off the plot at step {len(rows) - 1}"
        assert not y_lo <= rows[-1, 1] <= y_hi and (abs(rows[:-1, 1]) <= y_hi).all()
    blow_up = SurfaceSpec(surface="beale", start=(1.0, 1.5), steps=50,
                          contenders=(OptimizerSpec(name="SGD", lr=1.0),))
    _, status = paths.paths(blow_up)
    assert re.fullmatch(r"(diverged|far off the plot) at step \d+", status[0])


def test_the_job_delivers_the_same_paths_in_chunks() -> None:
    job = paths.PathJob(SPEC)
    job.wait(60)
    first = job.snapshot()
    assert first["paths"][0].shape[0] >= paths.CHUNK or first["done"]
    assert job.join(120)
    snap = job.snapshot()
    assert snap["done"] and snap["error"] == "" and snap["status"] == ["finished"] * 6
    want, _ = paths.paths(SPEC)
    for a, b in zip(snap["paths"], want):
        np.testing.assert_array_equal(a, b)


def test_a_cancelled_job_stops_early() -> None:
    job = paths.PathJob(SPEC.model_copy(update={"steps": 2000}))
    job.cancel()
    assert job.join(120)
    assert len(job.snapshot()["paths"][0]) < 2001


def test_the_script_reproduces_the_paths(tmp_path) -> None:
    spec = SPEC.model_copy(update={"surface": "bowl", "condition": 30.0, "angle": 30.0,
                                   "start": (-4.0, 2.5)})  # fmt: skip
    spec = surfaces.parse(spec.model_dump())
    text = paths.script(spec, "Bowl check")
    assert "torch.optim.SGD([p], lr=0.001, momentum=0.9, nesterov=True)" in text
    assert "nnplay" not in text.split('"""', 2)[2]  # after the docstring: torch only
    file = tmp_path / "paths.py"
    file.write_text(text)
    out = subprocess.run([sys.executable, str(file)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got, _ = paths.paths(spec)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 6
    for line, title, rows in zip(lines, spec.titles(), got):
        m = re.fullmatch(rf"{re.escape(title)}: (\d+) steps, ends at x=(\S+) y=(\S+) loss=(\S+)",
                         line)
        assert m, line
        assert int(m[1]) == len(rows) - 1
        assert [float(v) for v in m.groups()[1:]] == rows[-1].tolist()  # to the last digit


@pytest.mark.parametrize("stacked", [False, True])
def test_the_figure_is_valid_and_animates_once_complete(stacked: bool) -> None:
    spec = SPEC.model_copy(update={"steps": 30})
    got, status = paths.paths(spec)
    half = {"paths": [g[:10] for g in got], "status": ["running"] * 6, "done": False}
    live = surface_charts.path_figure(spec, half, stacked=stacked)
    go.Figure(live.to_dict())  # plotly's own validation
    assert "frames" not in live.to_dict() or not live.frames
    assert [t.type for t in live.data][:2] == ["contour", "scatter"]
    done = surface_charts.path_figure(spec, {"paths": got, "status": status, "done": True},
                                      stacked=stacked)  # fmt: skip
    go.Figure(done.to_dict())
    assert len(done.frames) == 31 and done.layout.sliders and done.layout.updatemenus
    last = done.frames[-1].layout.shapes
    circles = [s for s in last if s.type == "circle"]
    assert len(circles) == 6
    x, y = (circles[0].x0 + circles[0].x1) / 2, (circles[0].y0 + circles[0].y1) / 2
    assert (x, y) == pytest.approx(tuple(got[0][-1, :2]))
    rows = surface_charts.status_rows(spec, {"paths": got, "status": status})
    assert rows[0]["optimiser"] == spec.titles()[0] and rows[0]["steps"] == 30
    assert math.isclose(rows[0]["loss"], got[0][-1, 2])
