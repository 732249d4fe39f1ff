"""Several small MLPs of one shape stepped together: stacked weights, batched matrix products and
each run's own Adam moments, in one step of a handful of ops for the whole group.

The measured design for a class training at once, not yet wired into the run manager. Each run's
weights are views of the stacked buffers, so its module, probes and views read them as before.
It is exact per run only to float rounding: a batched product sums in another order than a single
one (the spiral network's output-layer gradient differs in the last bit from the first step), and
Adam on a small network amplifies that: within 1e-5 of the run alone over the first hundred steps
(2e-5 after 640), a different trajectory (losses apart by whole units) by the end of 6,400. So it
cannot keep the rule that a run trained with others equals the run alone; see the README.
Not done: runs joining or leaving a group mid-way, per-run settings, Pause/Step/Stop, an executor.
"""

from __future__ import annotations

import torch
from torch import nn

from nnplay import fused


class BatchedStep:
    """R models of one MLP shape, trained by Adam with the same settings, stepped together."""

    def __init__(self, models: list[nn.Sequential], lr: float, betas=(0.9, 0.999),
                 eps: float = 1e-8):
        stacks = [fused._layers(m) for m in models]
        if any(s is None or not s or s[-1][1] is not None for s in stacks):
            raise ValueError("every model must be a plain MLP stack ending in a Linear layer")
        shapes = {tuple((lin.weight.shape, act) for lin, act in s) for s in stacks}
        if len(shapes) != 1:
            raise ValueError("the models must share one shape")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.runs = len(models)
        params = [[p for lin, _ in s for p in (lin.weight, lin.bias)] for s in stacks]
        with torch.no_grad():
            self.flat = torch.stack([torch.cat([p.detach().reshape(-1) for p in ps])
                                     for ps in params])  # (R, P)
        self.grad = torch.zeros_like(self.flat)
        self.moment1 = torch.zeros_like(self.flat)
        self.moment2 = torch.zeros_like(self.flat)
        self.steps = 0
        self.layers = []  # per layer: weights (R, out, in), their transposes, biases (R, 1, out)
        start = 0
        for lin, act in stacks[0]:
            (out, inp), r = lin.weight.shape, self.runs
            w = self.flat[:, start:start + out * inp].view(r, out, inp)
            gw = self.grad[:, start:start + out * inp].view(r, out, inp)
            start += out * inp
            b = self.flat[:, start:start + out].view(r, 1, out)
            gb = self.grad[:, start:start + out].view(r, out)
            start += out
            self.layers.append((w, w.transpose(1, 2), b, act, gw, gb))
        for r, ps in enumerate(params):  # each run's parameters become views of its row
            start = 0
            for p in ps:
                n = p.numel()
                p.data = self.flat[r, start:start + n].view_as(p)
                p.grad = self.grad[r, start:start + n].view_as(p)
                start += n

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """One step of every run on its own batch: x (R, B, in), target (R, B); returns the
        runs' data losses (R,)."""
        r, bs = target.shape
        inputs, outputs = [], []
        a = x
        for _, wt, b, act, _, _ in self.layers:
            inputs.append(a)
            a = torch.baddbmm(b, a, wt)  # (R, B, out)
            if act is not None:
                a = fused.ACTIVATIONS[act][0](a)
            outputs.append(a)
        logp = torch.log_softmax(a, 2).view(r * bs, -1)
        index = target.reshape(-1, 1)
        picked = logp.gather(1, index).view(r, bs)
        loss = -picked.sum(1) / bs  # (R,): each run's mean, as nll_loss takes it
        g = torch.zeros_like(logp).scatter_(1, index, -1.0 / bs)
        g = torch.ops.aten._log_softmax_backward_data(g, logp, 1, logp.dtype).view(r, bs, -1)
        for i in range(len(self.layers) - 1, -1, -1):
            w, _, _, act, gw, gb = self.layers[i]
            if act is not None:
                g = fused.ACTIVATIONS[act][1](g, outputs[i])
            torch.bmm(g.transpose(1, 2), inputs[i], out=gw)
            torch.sum(g, 1, out=gb)
            if i:
                g = g.bmm(w)
        self._adam()
        return loss

    def _adam(self) -> None:
        """torch.optim.Adam's update for every run at once (all runs share the step count)."""
        beta1, beta2 = self.betas
        self.steps += 1
        step = float(self.steps)
        self.moment1.lerp_(self.grad, 1 - beta1)
        self.moment2.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        step_size = self.lr / (1 - beta1**step)
        denom = (self.moment2.sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
        self.flat.addcdiv_(self.moment1, denom, value=-step_size)
