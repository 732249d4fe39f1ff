"""Tests for nnplay.scrub: a run's views redrawn from a keyframe's weights, in the scrub thread,
and a snapshot shown at that step (views replaced, data points kept, a cursor on the loss)."""

from __future__ import annotations

import threading

import numpy as np
import torch

from nnplay import charts, keyframes, scrub
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec

torch.set_num_threads(1)

SPEC = ExperimentSpec().with_changes({"data.n_samples": 200, "train.batch_size": 16,
                                      "train.max_steps": 300})


def test_views_at_a_keyframe_come_from_its_weights_in_the_scrub_thread():
    manager = RunManager(max_runs=1, threads=1, store=None, limits=Limits())
    try:
        run = manager.start(SPEC, owner="a")
        assert run.wait(120) and run.status == "finished"
        keyframes.WRITER.drain()
        steps = run.frames()
        threads = []

        def frame(step):
            threads.append(threading.current_thread().name)
            return run.frame(step)

        last = scrub.submit(run.id, steps[-1], run.spec, lambda: frame(steps[-1])).result(60)
        first = scrub.submit(run.id, 0, run.spec, lambda: frame(0)).result(60)
        assert all(name.startswith("scrub") for name in threads)
        assert scrub.submit(run.id, 0, run.spec, lambda: frame(0)).result(1) is first  # kept
        snap = run.snapshot()
        # the final keyframe's boundary is the one the run drew last
        assert np.allclose(last["view"]["conf"], snap["view"]["conf"], atol=1e-6)
        assert not np.allclose(first["view"]["conf"], last["view"]["conf"], atol=1e-3)
        assert first["network"] is not None and len(first["hist"]) == len(snap["activations"]
                                                                          ["hist"])
        shown = scrub.at(snap, first)
        assert shown["cursor"] == 0 and shown["view"]["conf"] is first["view"]["conf"]
        assert shown["view"]["train"] is snap["view"]["train"]  # the data points stay
        assert scrub.at(snap, None) is snap
        fig = charts.loss_chart({**snap, "cursor": 120})
        assert any("showing step 120" in a.text for a in fig.layout.annotations)
        assert scrub.submit(run.id, 7777, run.spec, lambda: run.frame(7777)).result(10) is None
    finally:
        manager.close()


def test_an_image_runs_confusion_and_misclassified_images_at_a_keyframe():
    spec = ExperimentSpec.model_validate({
        "data": {"name": "digits", "train_fraction": 0.75},
        "model": {"layers": [{"type": "linear", "units": 32},
                             {"type": "activation", "name": "ReLU"}]},
        "optimizer": {"name": "Adam", "lr": 0.003},
        "train": {"batch_size": 32, "max_steps": 120, "eval_every": 40}})
    manager = RunManager(max_runs=1, threads=1, store=None, limits=Limits())
    try:
        run = manager.start(spec, owner="a")
        assert run.wait(120) and run.status == "finished", run.message
        keyframes.WRITER.drain()
        steps = run.frames()
        assert steps[0] == 0 and steps[-1] == 120
        last = scrub.submit(run.id, 120, run.spec, lambda: run.frame(120)).result(60)
        first = scrub.submit(run.id, 0, run.spec, lambda: run.frame(0)).result(60)
        snap = run.snapshot()
        # the final keyframe's model is the one the run's last evaluation measured
        assert last["view"]["kind"] == "images"
        assert np.array_equal(last["view"]["confusion"], snap["view"]["confusion"])
        assert last["view"]["true"] == snap["view"]["true"]
        assert last["view"]["pred"] == snap["view"]["pred"]
        assert np.array_equal(last["view"]["images"], snap["view"]["images"])
        # at step 0 (the initial weights) it is another, worse matrix, and other mistakes
        before, after = first["view"]["confusion"], last["view"]["confusion"]
        assert before.sum() == after.sum() == snap["view"]["confusion"].sum() > 400
        assert np.trace(before) < np.trace(after)
        assert all(t != p for t, p in zip(first["view"]["true"], first["view"]["pred"]))
        assert first["view"]["true"] != last["view"]["true"]
        assert first["view"]["images"].shape[1:] == (8, 8)
        shown = scrub.at(snap, first)
        assert shown["view"]["confusion"] is before and shown["cursor"] == 0
        figs = charts.live_panel(shown)  # the confusion matrix is the view's chart
        assert figs["view"] is not None and figs["misclassified"] is not None
    finally:
        manager.close()
