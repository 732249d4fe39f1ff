"""The network view's numbers: every unit's output over a coarse grid of the 2D input plane, the
weights between the units drawn, and which units are drawn; computed on the device, in the
training thread, with one forward pass hooked per layer."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nnplay import features, instruments, models

GRID = 24  # grid points per axis of a unit's picture
MAX_UNITS = 16  # units drawn per layer; the rest are counted as "+N more"


def applies(model: nn.Module, in_features: int, kind: str) -> bool:
    """True when the network view can draw this model: a layer stack over a 2D input plane
    (the generated 2D sets, a CSV with two numeric features)."""
    return kind == "2d" and in_features == 2 and isinstance(model, nn.Sequential)


def groups(model: nn.Sequential) -> list[dict]:
    """The stack as layers of units: each Linear with the modules after it up to the next Linear
    (its activation, dropout); the dropout p acting on each Linear's inputs."""
    found: list[dict] = []
    dropout_in = 0.0
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            found.append({"name": name, "linear": module, "last": module, "act": "",
                          "dropout_in": dropout_in})  # fmt: skip
            dropout_in = 0.0
        elif isinstance(module, nn.Dropout):
            dropout_in = max(dropout_in, float(module.p))
        elif found:
            found[-1]["last"] = module
            if type(module).__name__ in models.ACTIVATION_KINDS:
                found[-1]["act"] = type(module).__name__
    return found


def _top_units(weight_out: torch.Tensor | None, units: int) -> torch.Tensor:
    """The indices (ascending) of the MAX_UNITS units with the largest summed |outgoing weight|."""
    if units <= MAX_UNITS or weight_out is None:
        return torch.arange(min(units, MAX_UNITS), device=None if weight_out is None
                            else weight_out.device)  # fmt: skip
    score = weight_out.abs().sum(0)  # (units,)
    return score.topk(MAX_UNITS).indices.sort().values


@torch.no_grad()
def network_view(model: nn.Sequential, ctx: instruments.ViewContext, n: int = GRID) -> dict:
    """Each drawn unit's output over an n x n grid (after its activation; the output as class
    probabilities for classification), its bias and range, and the weights between drawn units;
    the inputs (x₁, x₂, or the engineered ones) over the same grid, named.

    One forward pass in eval mode over the grid, with a hook on each layer's last module."""
    xs, ys = instruments._grid_axes(ctx.x_all, n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n): rows follow y
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), device=ctx.x_all.device)
    layers = groups(model)
    first = next(iter(model.children()), None)
    engineered = first if isinstance(first, features.Features) else None
    inputs = pts if engineered is None else engineered(pts)  # (n*n, inputs)
    outputs: dict[int, torch.Tensor] = {}
    hooks = [g["last"].register_forward_hook(
        lambda _m, _i, out, i=i: outputs.__setitem__(i, out)) for i, g in enumerate(layers)]
    was_training = model.training
    model.eval()
    try:
        final = model(pts)  # (n*n, out)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    if ctx.n_classes:
        probs = models.probabilities(final, ctx.output)  # (n*n, C)
        outputs[len(layers) - 1] = probs[:, 1:] if final.shape[1] == 1 else probs
    else:
        outputs[len(layers) - 1] = final
    # which units each layer draws: the hidden layers' strongest by outgoing weight, all outputs
    chosen = []
    for i, g in enumerate(layers):
        units = g["linear"].out_features
        nxt = layers[i + 1]["linear"].weight if i + 1 < len(layers) else None
        chosen.append(_top_units(nxt, units) if nxt is not None else
                      torch.arange(outputs[i].shape[1], device=pts.device))
    previous = torch.arange(inputs.shape[1], device=pts.device)
    device_parts = []
    for i, g in enumerate(layers):
        idx = chosen[i]
        lin = g["linear"]
        out = outputs[i].index_select(1, idx)  # (n*n, k)
        device_parts.append({
            "pictures": out.T.reshape(-1, n, n),  # (k, n, n)
            "bias": lin.bias[idx] if lin.bias is not None else torch.zeros(len(idx)),
            "weights": lin.weight[idx][:, previous],  # (k, k_prev)
        })
        previous = idx
    host = [{k: v.float().cpu().numpy() for k, v in part.items()} for part in device_parts]
    result_layers = []
    for i, (g, part) in enumerate(zip(layers, host)):
        pics = part["pictures"]
        last = i == len(layers) - 1
        result_layers.append({
            "name": g["name"], "act": g["act"], "units": int(g["linear"].out_features),
            "index": chosen[i].cpu().numpy().astype(np.int64), "output": last,
            "pictures": pics.astype(np.float32), "bias": part["bias"],
            "lo": pics.reshape(len(pics), -1).min(1), "hi": pics.reshape(len(pics), -1).max(1),
            "weights": part["weights"].astype(np.float32), "dropout_in": g["dropout_in"],
        })  # fmt: skip
    plane = _input_names(ctx)
    pictures = inputs.T.reshape(-1, n, n).float().cpu().numpy().astype(np.float32)
    return {
        "kind": "network", "x": xs, "y": ys, "inputs": pictures,
        "input_names": plane if engineered is None else features.labels(engineered.names),
        "plane_names": plane, "layers": result_layers,
        "task": "classification" if ctx.n_classes else "regression",
        "binary": bool(ctx.n_classes and final.shape[1] == 1),
    }  # fmt: skip


def _input_names(ctx: instruments.ViewContext) -> list[str]:
    """The inputs' names: an upload's two columns, else x₁ and x₂."""
    names = list(getattr(ctx.dataset, "feature_names", ()) or ())
    return [str(n) for n in names] if len(names) == 2 else ["x₁", "x₂"]
