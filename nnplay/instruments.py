"""Sampled instrumentation, computed on the device: activation statistics, gradient norms, and
the model's view of its data (decision boundary, fitted curve or surface, confusion matrix)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnplay import concepts, models, recurrent

HIST_VALUES = 4096  # activation outputs sent to the host per layer for the histogram
SATURATION_MARGIN = 0.03  # an output this close to a bound (as a share of the range) is saturated
SATURATED_SHARE = 0.9  # a unit is saturated when this share of its outputs are
# Output range of each saturating activation, from its record.
BOUNDS = {n: r.bounds for n, r in concepts.ACTIVATIONS.items() if r.bounds}


class Probe:
    """Samples one model's activation statistics on a fixed batch, and its gradient norms."""

    def __init__(self, model: nn.Module, sample_x: torch.Tensor):
        self.model = model
        self.sample_x = sample_x
        self.layers = models.activation_layers(model)
        self.weights = models.weight_groups(model)
        self.names = [f"{name} ({type(m).__name__})" for name, m, _ in self.layers]
        self.kinds = [kind for _, _, kind in self.layers]
        self.grad_names = [name for name, _ in self.weights]

    @torch.no_grad()
    def activations(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(stats (L, 4): mean, std, dead, saturated; values (L, k)) on the device, or None."""
        if not self.layers:
            return None
        outputs: list[torch.Tensor] = []
        hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out))
                 for _, m, _ in self.layers]  # fmt: skip
        was_training = self.model.training
        self.model.eval()
        try:
            self.model(self.sample_x)
        finally:
            self.model.train(was_training)
            for h in hooks:
                h.remove()
        stats = torch.stack([_stats(out, m) for out, (_, m, _) in zip(outputs, self.layers)])
        k = min(HIST_VALUES, outputs[0].numel())
        values = torch.stack([out.flatten()[:k] if out.numel() >= k else
                              out.flatten().repeat(k // out.numel() + 1)[:k] for out in outputs])
        return stats, values

    def grad_norms(self) -> torch.Tensor:
        """The L2 norm of each weight layer's gradient (weights and bias together), (L,)."""
        norms = []
        for _, params in self.weights:
            grads = [p.grad for p in params if p.grad is not None]
            norms.append(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
                         if grads else torch.zeros(()))
        return torch.stack([n.to(self.sample_x.device) for n in norms])


def _stats(out: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """Mean, std, dead share (ReLU family) and saturated share (Tanh/Sigmoid) of outputs."""
    out = out.flatten(1).float()  # (B, units)
    nan = torch.full((), float("nan"), device=out.device)
    name = type(module).__name__
    kind = models.ACTIVATION_KINDS[name]
    dead = (~(out > 0).any(0)).float().mean() if kind == "relu" else nan
    if name in BOUNDS:
        lo, hi = BOUNDS[name]
        margin = SATURATION_MARGIN * (hi - lo)
        near = (out < lo + margin) | (out > hi - margin)
        saturated = (near.float().mean(0) >= SATURATED_SHARE).float().mean()
    else:
        saturated = nan
    return torch.stack([out.mean(), out.std() if out.numel() > 1 else nan * 0, dead, saturated])


def histograms(values: np.ndarray, bins: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """(counts, edges) for each layer's sampled outputs."""
    result = []
    for row in values:
        row = row[np.isfinite(row)]
        if row.size == 0:
            row = np.zeros(1)
        lo, hi = float(row.min()), float(row.max())
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        result.append(np.histogram(row, bins=bins, range=(lo, hi)))
    return result


# --- the model's view of its data ------------------------------------------------------------


def _grid_axes(x: torch.Tensor, n: int) -> list[np.ndarray]:
    """Per feature, n points spanning the data with a 10% margin."""
    lo = x.min(0).values.cpu().numpy()
    hi = x.max(0).values.cpu().numpy()
    pad = 0.1 * (hi - lo) + 1e-6
    return [np.linspace(a - p, b + p, n, dtype=np.float32) for a, b, p in zip(lo, hi, pad)]


@torch.no_grad()
def _predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        return model(x)
    finally:
        model.train(was_training)


@dataclass(frozen=True)
class ViewContext:
    """What a view function needs besides the model."""

    x_all: torch.Tensor  # every input, to span the grid
    output: str  # the model's output transform: logits, log_softmax, sigmoid, linear
    n_classes: int
    dataset: object = None  # the data.Dataset, for views that need more than the inputs


def boundary(model: nn.Module, ctx: ViewContext, n: int = 100) -> dict:
    """The model's class probabilities over an n x n grid of the 2D input space."""
    xs, ys = _grid_axes(ctx.x_all, n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n): rows follow y
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), device=ctx.x_all.device)
    probs = models.probabilities(_predict(model, pts), ctx.output)
    conf, cls = probs.max(1)
    two = probs.shape[1] == 2
    result = torch.stack([probs[:, 1] if two else conf, cls.float(), conf]).cpu().numpy()
    return {
        "kind": "boundary", "x": xs, "y": ys,
        "prob": result[0].reshape(n, n) if two else None,
        "cls": result[1].reshape(n, n).astype(np.int64), "conf": result[2].reshape(n, n),
    }  # fmt: skip


def curve(model: nn.Module, ctx: ViewContext, n: int = 200) -> dict:
    """The fitted function over the 1D input range."""
    (xs,) = _grid_axes(ctx.x_all, n)
    pred = _predict(model, torch.as_tensor(xs[:, None], device=ctx.x_all.device))
    return {"kind": "curve", "x": xs, "pred": pred[:, 0].cpu().numpy()}


def surface(model: nn.Module, ctx: ViewContext, n: int = 50) -> dict:
    """The fitted surface over the 2D input range."""
    xs, ys = _grid_axes(ctx.x_all, n)
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), device=ctx.x_all.device)
    z = _predict(model, pts)[:, 0].cpu().numpy().reshape(n, n)
    return {"kind": "surface", "x": xs, "y": ys, "z": z}


def confusion(pred: torch.Tensor, y: torch.Tensor, n_classes: int, k: int = 16) -> dict:
    """Confusion matrix [true, pred] and the first k misclassified test indices."""
    counts = torch.bincount(y * n_classes + pred, minlength=n_classes * n_classes)
    wrong = torch.nonzero(pred != y).flatten()[:k]
    return {
        "kind": "images",
        "confusion": counts.view(n_classes, n_classes).cpu().numpy(),
        "wrong": wrong.cpu().numpy(),
        "pred": pred[wrong].cpu().tolist(),
    }


# Views drawn from the model over a grid, keyed by (data kind, task); refreshed at most once per
# chart refresh. Image sets get a confusion matrix from each evaluation instead (see train.py).
GRID_VIEWS: dict[tuple[str, str], Callable[[nn.Module, ViewContext], dict]] = {
    ("2d", "classification"): boundary,
    ("1d", "regression"): curve,
    ("2d", "regression"): surface,
}
# The kind of view each grid view returns; these draw the data points, so a page can show the
# data alone (this kind, no grid) before a run starts.
DATA_VIEW_KINDS: dict[tuple[str, str], str] = {
    ("2d", "classification"): "boundary", ("1d", "regression"): "curve",
    ("2d", "regression"): "surface",
}


# --- sequences: the model on a few test sequences, step by step --------------------------------

VIEW_EXAMPLES = 8  # test sequences whose insides the page can show, one at a time
VIEW_SAMPLE = 64  # test sequences whose predictions are drawn against the truth
ROLLOUT_STEPS = 40  # values a forecaster predicts from its own predictions


def _saliency(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """How strongly each step's input moves the prediction: the norm of d(top output)/d(input
    at step t), (k, T). Early steps fade when gradients vanish through time."""
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):  # cuDNN: no eval backward
        emb = model.embed(x).detach().requires_grad_()
        out = model.readout(*model.encode(emb, lengths, steps=model.per_step))
        if out.dim() == 3:  # a prediction at every step: explain the last one
            out = out[:, -1]
        (grad,) = torch.autograd.grad(out.max(dim=-1).values.sum(), emb)
    return torch.linalg.vector_norm(grad, dim=-1)


@torch.no_grad()
def _rollout(model: nn.Module, x: torch.Tensor, steps: int) -> torch.Tensor:
    """Forecast `steps` values by feeding each forecast back in as the newest input, (k, steps)."""
    window, preds = x, []
    while sum(p.shape[1] for p in preds) < steps:
        out = model(window)
        nxt = out[:, -1] if out.dim() == 3 else out  # (k, horizon)
        preds.append(nxt)
        window = torch.cat([window[:, nxt.shape[1]:], nxt[:, :, None]], dim=1)
    return torch.cat(preds, dim=1)[:, :steps]


def sequence_view(model: nn.Module, ctx: ViewContext) -> dict:
    """Predictions against the truth; for each of a few test sequences its inputs, hidden state
    (units x steps), gate values (LSTM, GRU) and per-step saliency; a rollout for forecasts."""
    ds = ctx.dataset
    k = min(VIEW_EXAMPLES, len(ds.x_test))
    x = ds.x_test[:k]
    lengths = None if ds.lengths_test is None else ds.lengths_test[:k]
    steps = lengths.tolist() if lengths is not None else [x.shape[1]] * k
    m = min(VIEW_SAMPLE, len(ds.x_test))
    sample_lengths = None if ds.lengths_test is None else ds.lengths_test[:m]
    was_training = model.training
    model.eval()
    try:
        saliency = _saliency(model, x, lengths)
        with torch.no_grad():
            emb = model.embed(x)
            layers = [recurrent.replay(model, emb[i, :n]) for i, n in enumerate(steps)]
            out = model(ds.x_test[:m], sample_lengths)
        rollout = future = None
        if "future_test" in ds.extra:
            rollout = _rollout(model, x, ROLLOUT_STEPS).cpu().numpy()
            future = ds.extra["future_test"][:k, :ROLLOUT_STEPS].cpu().numpy()
    finally:
        model.train(was_training)
    pred = out if ctx.output == "linear" else models.probabilities(out, ctx.output)
    x_host = x.cpu().numpy()
    return {
        "kind": "sequence", "cell": model.cell, "lengths": steps,
        "inputs": [[ds.vocab[t] for t in row[:n]] for row, n in zip(x_host, steps)]
        if ds.vocab else [row[:n] for row, n in zip(x_host, steps)],
        "truth": ds.y_test[:m].cpu().numpy(), "pred": pred.cpu().numpy(),
        "hidden": [ls[-1]["hidden"].T.cpu().numpy() if ls else None for ls in layers],
        "gates": [{g: v.T.cpu().numpy() for g, v in ls[-1]["gates"].items()} if ls else {}
                  for ls in layers],
        "saliency": [row[:n] for row, n in zip(saliency.cpu().numpy(), steps)],
        "rollout": rollout, "future": future, "class_names": list(ds.class_names),
    }  # fmt: skip


GRID_VIEWS.update({
    ("sequence", "regression"): sequence_view,
    ("sequence", "classification"): sequence_view,
    ("tokens", "classification"): sequence_view,
})
