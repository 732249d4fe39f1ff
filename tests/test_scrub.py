"""Tests for nnplay.scrub: a run's views redrawn from a keyframe's weights, in the scrub thread,
and a snapshot shown at that step (views replaced, data points kept, a cursor on the loss)."""

from __future__ import annotations

import threading

import numpy as np
import torch

from nnplay import charts, data, keyframes, recurrent, scrub
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from tests.test_page_thread import Calls

torch.set_num_threads(1)

SPEC = ExperimentSpec().with_changes({"data.n_samples": 200, "train.batch_size": 16,
                                      "train.max_steps": 300})


def finished(manager: RunManager, spec: ExperimentSpec, last: int):
    """spec trained to its end through manager, with every keyframe stored, step 0 to last."""
    run = manager.start(spec, owner="a")
    assert run.wait(120) and run.status == "finished", run.message
    keyframes.WRITER.drain()
    steps = run.frames()
    assert steps[0] == 0 and steps[-1] == last
    return run


def views_at(run, step: int) -> dict:
    """The run's views at its keyframe at step, computed in the scrub thread."""
    return scrub.submit(run.id, step, run.spec, lambda: run.frame(step)).result(60)


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
        run = finished(manager, spec, 120)
        last, first = views_at(run, 120), views_at(run, 0)
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


SENTIMENT = ExperimentSpec.model_validate({
    "data": {"name": "sentiment", "n_samples": 240, "train_fraction": 0.5, "seq_len": 10},
    "model": {"layers": [], "recurrent": {"cell": "LSTM", "hidden_size": 6,
                                          "bidirectional": True, "embedding_dim": 5}},
    "loss": {"name": "CrossEntropyLoss"}, "optimizer": {"name": "Adam", "lr": 0.02},
    "train": {"batch_size": 24, "max_steps": 60, "device": "cpu"}})


def test_a_sequence_runs_hidden_states_and_gates_at_a_keyframe():
    manager = RunManager(max_runs=1, threads=1, store=None, limits=Limits())
    try:
        run = finished(manager, SENTIMENT, 60)
        steps = run.frames()
        last = views_at(run, 60)
        middle = steps[len(steps) // 2]
        mid = views_at(run, middle)
        snap = run.snapshot()
        # at the last keyframe: the hidden states, gates and predictions the run showed last
        shown, found = snap["view"], last["view"]
        assert found["kind"] == shown["kind"] == "sequence"
        assert found["inputs"] == shown["inputs"] and found["lengths"] == shown["lengths"]
        for key in ("hidden", "saliency"):
            for ours, theirs in zip(found[key], shown[key], strict=True):
                assert np.allclose(ours, theirs, atol=1e-5), key
        for ours, theirs in zip(found["gates"], shown["gates"], strict=True):
            assert ours and ours.keys() == theirs.keys()
            assert all(np.allclose(ours[g], theirs[g], atol=1e-5) for g in ours)
        assert np.allclose(found["pred"], shown["pred"], atol=1e-5)
        # at an earlier one: nn.LSTM itself, rebuilt from that keyframe's weights, gives the
        # hidden states shown (the view steps the cells by hand)
        model = recurrent.restore(run.spec, run.frame(middle)["model"])
        ds = data.build(run.spec.data, run.spec.seed, torch.device("cpu"))
        for i, n in enumerate(mid["view"]["lengths"]):
            with torch.no_grad():
                out, _ = model.rnn(model.embed(ds.x_test[i:i + 1, :n]))  # (1, n, 2 * hidden)
            assert np.allclose(mid["view"]["hidden"][i], out[0].T.numpy(), atol=1e-5)
        assert not np.allclose(mid["view"]["hidden"][0], found["hidden"][0], atol=1e-3)
        at_mid = scrub.at(snap, mid)
        assert at_mid["cursor"] == middle and at_mid["view"] is not snap["view"]
        assert charts.hidden_state_chart(at_mid).to_json() != \
            charts.hidden_state_chart(snap).to_json()
        assert charts.gate_chart(at_mid).to_json() != charts.gate_chart(snap).to_json()
        for chart in (charts.loss_chart, charts.accuracy_chart):  # a cursor at that step
            assert any(f"showing step {middle:,}" in a.text
                       for a in chart(at_mid).layout.annotations), chart
        assert f"at step {middle:,}" in charts.hidden_state_chart(at_mid).layout.title.text
        with Calls() as calls:  # what the page's thread does with it: plain numpy
            for chart in (charts.hidden_state_chart, charts.gate_chart, charts.saliency_chart,
                          charts.prediction_chart, charts.loss_chart, charts.accuracy_chart):
                chart(at_mid)
        assert calls.names == []
    finally:
        manager.close()
