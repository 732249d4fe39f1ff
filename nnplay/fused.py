"""A hand-fused training step for small MLPs: forward, loss, backward and the optimiser update
written out as the aten ops autograd and torch.optim would run, on flat buffers.

A spiral-sized network spends most of an eager step in autograd's bookkeeping and in the
optimiser's per-parameter Python loop, not in arithmetic. This step runs the same kernels with
the same arguments in the same order (so, on the CPU, the same losses bit for bit), but without
the graph, and updates every parameter with one op per optimiser line over one flat buffer.
It is used only for what it covers exactly (see `fused_step`); everything else trains eagerly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nnplay import features

aten = torch.ops.aten
MAX_PARAMETERS = 200_000  # beyond this matrix products dominate and the eager step is as fast
MEAN = 1  # at::Reduction::Mean
IGNORE_INDEX = -100  # nn.CrossEntropyLoss's default

# activation -> (forward, backward(grad, output)), the derivative autograd uses for each
ACTIVATIONS: dict[type, tuple[Callable, Callable]] = {
    nn.ReLU: (torch.relu, lambda g, out: aten.threshold_backward(g, out, 0)),
    nn.Tanh: (torch.tanh, aten.tanh_backward),
    nn.Sigmoid: (torch.sigmoid, aten.sigmoid_backward),
}


class FusedStep:
    """One model's parameters, gradients and optimiser moments as flat buffers, and the step."""

    def __init__(self, model: nn.Sequential, optimizer: torch.optim.Optimizer,
                 layers: list[tuple[nn.Linear, type | None]],
                 pre: features.Features | None = None):
        self.model, self.optimizer = model, optimizer
        self.pre = pre  # engineered inputs, computed per batch exactly as the eager step does
        self.modules = tuple(model._modules.values())
        self.layers = [(lin.weight, lin.bias, act) for lin, act in layers]
        self.params = [p for w, b, _ in self.layers for p in (w, b)]
        self.kind = type(optimizer).__name__
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        self.grad = torch.zeros_like(self.flat)
        self.moment1 = torch.zeros_like(self.flat)  # Adam's exp_avg, SGD's momentum buffer
        self.moment2 = torch.zeros_like(self.flat)  # Adam's exp_avg_sq
        self.steps = 0
        start = 0
        for p in self.params:  # each parameter and its gradient become a view of the buffers
            n = p.numel()
            p.data = self.flat[start:start + n].view_as(p)
            p.grad = self.grad[start:start + n].view_as(p)
            start += n
        # the step computes on aliases that do not require grad: no graph, no grad-mode switch
        self.weights = [(w.detach(), w.detach().t(), b.detach(), act) for w, b, act in self.layers]
        self.grads = [(w.grad, b.grad) for w, b, _ in self.layers]
        self.one = torch.ones((), device=self.flat.device)
        self.order: torch.Tensor | None = None  # the epoch order self.x and self.target are in
        self.x = self.target = self.one

    def current(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> bool:
        """Still the model and optimiser it was built for (a setting changed mid-run may have
        replaced either); cheap enough to ask every step."""
        return optimizer is self.optimizer and tuple(model._modules.values()) == self.modules

    def __call__(self, x: torch.Tensor, target: torch.Tensor, perm: torch.Tensor | None = None,
                 i: int = 0, bs: int = 0) -> torch.Tensor:
        """One training step on the batch (x, target), or with perm on samples perm[i:i + bs]
        of them (gathered once per epoch order); returns the batch's data loss."""
        if perm is not None:
            if perm is not self.order:
                self.order, self.x, self.target = perm, x[perm], target[perm]
            x, target = self.x[i:i + bs], self.target[i:i + bs]
        if self.pre is not None:
            x = self.pre(x)  # (batch, 2) -> (batch, inputs)
        inputs, outputs = [], []
        a = x
        for _, wt, b, act in self.weights:  # forward, keeping what the backward pass needs
            inputs.append(a)
            a = torch.addmm(b, a, wt)  # what F.linear runs for a 2-D input
            if act is not None:
                a = ACTIVATIONS[act][0](a)
            outputs.append(a)
        logp = torch.log_softmax(a, 1)
        loss, total = aten.nll_loss_forward(logp, target, None, MEAN, IGNORE_INDEX)
        g = aten.nll_loss_backward(self.one, logp, target, None, MEAN, IGNORE_INDEX, total)
        g = aten._log_softmax_backward_data(g, logp, 1, logp.dtype)
        for i in range(len(self.weights) - 1, -1, -1):  # backward, as autograd's formulas
            w, _, _, act = self.weights[i]
            if act is not None:
                g = ACTIVATIONS[act][1](g, outputs[i])
            gw, gb = self.grads[i]
            torch.mm(g.t(), inputs[i], out=gw)
            torch.sum(g, 0, out=gb)
            if i:
                g = g.mm(w)
        UPDATES[self.kind](self, self.optimizer.param_groups[0])
        return loss

    def release(self) -> None:
        """Hand the moments to the optimiser's state so an eager step carries on from here."""
        state = self.optimizer.state
        start = 0
        for p in self.params:
            n = p.numel()
            view = slice(start, start + n)
            if self.kind == "Adam":
                state[p] = {"step": torch.tensor(float(self.steps)),
                            "exp_avg": self.moment1[view].view_as(p).clone(),
                            "exp_avg_sq": self.moment2[view].view_as(p).clone()}
            elif self.steps and self.optimizer.param_groups[0]["momentum"]:
                state[p] = {"momentum_buffer": self.moment1[view].view_as(p).clone()}
            start += n


def _adam(s: FusedStep, group: dict) -> None:
    """torch.optim.Adam's single-tensor update (the CPU default) over the flat buffers."""
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
        group["weight_decay"]  # fmt: skip
    s.steps += 1
    step = float(s.steps)  # Adam keeps the count as a float tensor and reads it back
    grad = s.grad if wd == 0 else s.grad.add(s.flat, alpha=wd)
    s.moment1.lerp_(grad, 1 - beta1)
    s.moment2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1**step)
    denom = (s.moment2.sqrt() / (1 - beta2**step) ** 0.5).add_(eps)
    s.flat.addcdiv_(s.moment1, denom, value=-step_size)


def _sgd(s: FusedStep, group: dict) -> None:
    """torch.optim.SGD's single-tensor update (no dampening) over the flat buffers."""
    lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
    grad = s.grad if wd == 0 else s.grad.add(s.flat, alpha=wd)
    if momentum:
        if s.steps == 0:
            s.moment1.copy_(grad)
        else:
            s.moment1.mul_(momentum).add_(grad)
        grad = grad.add(s.moment1, alpha=momentum) if group["nesterov"] else s.moment1
    s.steps += 1
    s.flat.add_(grad, alpha=-lr)


UPDATES: dict[str, Callable[[FusedStep, dict], None]] = {"Adam": _adam, "SGD": _sgd}


def fused_step(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer,
               x: torch.Tensor, target: torch.Tensor) -> FusedStep | None:
    """A FusedStep when it covers this training exactly, else None (train eagerly).

    Covered: on the CPU, an nn.Sequential of Linear layers each followed by at most one ReLU,
    Tanh or Sigmoid, ending in a Linear (engineered inputs first, if any), trained with
    CrossEntropyLoss on class indices by Adam (no amsgrad) or SGD (no dampening), one parameter
    group, at most MAX_PARAMETERS weights.
    """
    if x.device.type != "cpu" or x.dim() != 2 or x.dtype != torch.float32:
        return None
    if type(loss_fn) is not nn.CrossEntropyLoss or target.dtype != torch.long:
        return None
    if loss_fn.weight is not None or loss_fn.label_smoothing or loss_fn.reduction != "mean" \
            or loss_fn.ignore_index != IGNORE_INDEX:  # fmt: skip
        return None
    if not _optimizer_covered(optimizer):
        return None
    layers = _layers(model)
    if layers is None or not layers or layers[-1][1] is not None:
        return None
    params = list(model.parameters())
    if len(params) != 2 * len(layers) or sum(p.numel() for p in params) > MAX_PARAMETERS:
        return None
    if any(p.dtype != torch.float32 or not p.requires_grad for p in params):
        return None
    first = next(model.children())
    return FusedStep(model, optimizer, layers,
                     first if isinstance(first, features.Features) else None)


def _optimizer_covered(optimizer: torch.optim.Optimizer) -> bool:
    if len(optimizer.param_groups) != 1 or optimizer.state:
        return False
    g = optimizer.param_groups[0]
    if type(optimizer) is torch.optim.Adam:
        return not (g["amsgrad"] or g["maximize"] or g.get("decoupled_weight_decay") or
                    g["foreach"] or g["fused"] or g["capturable"] or g["differentiable"] or
                    isinstance(g["lr"], torch.Tensor))  # fmt: skip
    if type(optimizer) is torch.optim.SGD:
        return not (g["dampening"] or g["maximize"] or g["foreach"] or g.get("fused") or
                    g["differentiable"] or isinstance(g["lr"], torch.Tensor))  # fmt: skip
    return False


def _layers(model: nn.Module) -> list[tuple[nn.Linear, type | None]] | None:
    """[(linear, activation type or None)] for a plain MLP stack; None for anything else."""
    if type(model) is not nn.Sequential or model._forward_hooks or model._forward_pre_hooks:
        return None
    layers: list[tuple[nn.Linear, type | None]] = []
    for i, module in enumerate(model.children()):
        if module._forward_hooks or module._forward_pre_hooks:
            return None
        if i == 0 and type(module) is features.Features:
            continue
        if type(module) is nn.Linear and module.bias is not None:
            layers.append((module, None))
        elif type(module) in ACTIVATIONS and layers and layers[-1][1] is None \
                and not getattr(module, "inplace", False):  # fmt: skip
            layers[-1] = (layers[-1][0], type(module))
        else:
            return None
    return layers
