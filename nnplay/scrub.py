"""Scrubbing through a run: its views (decision boundary, fit or surface, the network view, the
activation histograms; for image data the confusion matrix and the misclassified test images)
redrawn from the weights of one of its keyframes. The torch work runs in
one worker thread, never the page's, and the last few results are kept."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from nnplay import instruments, train, unitgrid
from nnplay.spec import ExperimentSpec, loss_info

KEEP = 64  # results kept: a Play through every keyframe of a run comes back from memory
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrub")
_DONE: OrderedDict[tuple[str, int], Future] = OrderedDict()
_LOCK = threading.Lock()


def views(spec: ExperimentSpec, frame: dict) -> dict:
    """The views of spec's model with a keyframe's weights, on the CPU, in the calling thread:
    {"step", "view" (the grid view's arrays or None), "network" (or None), "hist" (or None)}."""
    cpu = torch.device("cpu")
    ds, model, _ = train.prepare(spec, cpu)
    model.load_state_dict(frame["model"])
    model.eval()
    out: dict = {"step": int(frame["step"]), "view": None, "network": None, "hist": None}
    with torch.no_grad():
        view_fn = instruments.GRID_VIEWS.get((ds.kind, ds.task))
        if view_fn is not None:
            ctx = instruments.ViewContext(torch.cat([ds.x_train, ds.x_test]),
                                          loss_info(spec.loss.name, spec.task).output,
                                          ds.n_classes, ds)  # fmt: skip
            out["view"] = view_fn(model, ctx)
            if unitgrid.applies(model, ds.in_features, ds.kind):
                out["network"] = unitgrid.network_view(model, ctx)
        elif ds.kind == "image" and spec.task == "classification":
            out["view"] = image_view(model, ds, spec)
        acts = instruments.Probe(model, ds.x_train[:train.SAMPLE_MAX]).activations()
    if acts is not None:
        out["hist"] = instruments.histograms(acts[1].cpu().numpy())
    return out


def image_view(model: torch.nn.Module, ds, spec: ExperimentSpec) -> dict:
    """The confusion matrix over the test set and the first misclassified test images of model
    (in eval mode), laid out as a run's image view (Run.snapshot()["view"])."""
    info = loss_info(spec.loss.name, spec.task)
    x, y = ds.x_test, ds.y_test
    pred = torch.cat([train.predicted_class(model(x[i:i + train.EVAL_CHUNK]), info)
                      for i in range(0, len(x), train.EVAL_CHUNK)])
    found = instruments.confusion(pred, y, ds.n_classes)
    wrong = torch.as_tensor(found["wrong"], dtype=torch.long, device=x.device)
    h, w = ds.image_shape
    return {"kind": "images", "confusion": found["confusion"],
            "class_names": list(ds.class_names),
            "images": x[wrong].cpu().numpy().reshape(-1, h, w),
            "true": y[wrong].cpu().tolist(), "pred": found["pred"]}  # fmt: skip


def submit(run_id: str, step: int, spec: ExperimentSpec,
           frame: Callable[[], dict | None]) -> Future:
    """views() of the run's keyframe at step, computed in the scrub thread (a future; None as
    its result when the keyframe is not kept); the same future again for a step asked before."""
    key = (run_id, int(step))
    with _LOCK:
        done = _DONE.get(key)
        if done is not None and not (done.done() and done.exception() is not None):
            _DONE.move_to_end(key)
            return done

        def work() -> dict | None:
            got = frame()
            return None if got is None else views(spec, got)

        future = _POOL.submit(work)
        _DONE[key] = future
        while len(_DONE) > KEEP:
            _DONE.popitem(last=False)
    return future


def at(snap: dict, found: dict | None) -> dict:
    """The snapshot as it was at a keyframe: its views replaced by found's (the data points
    kept), the charts' cursor at its step."""
    if found is None:
        return snap
    snap = dict(snap)
    snap["cursor"] = found["step"]
    if found["view"] is not None:
        snap["view"] = {**(snap.get("view") or {}), **found["view"]}
    if found["network"] is not None:
        snap["network"] = found["network"]
    if found["hist"] is not None:
        snap["activations"] = {**snap["activations"], "hist": found["hist"]}
    return snap
