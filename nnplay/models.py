"""Layer and activation registries, and build(): a spec's layer stack as an nn.Sequential."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from nnplay import concepts, features
from nnplay.spec import ACTIVATIONS, ExperimentSpec, Layer, loss_info

ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {
    "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU,
    "ELU": nn.ELU,
    "GELU": nn.GELU,
    "SiLU": nn.SiLU,
    "Tanh": nn.Tanh,
    "Sigmoid": nn.Sigmoid,
    "Softplus": nn.Softplus,
    "Identity": nn.Identity,
}
assert tuple(ACTIVATION_MODULES) == ACTIVATIONS  # one module per record (nnplay.concepts)

# How the instruments read an activation's outputs: dead units (never positive) or saturation.
ACTIVATION_KINDS: dict[str, str] = {name: r.kind for name, r in concepts.ACTIVATIONS.items()}


# Torch's global RNG is shared by every run in the process. This lock is held while a run's
# generator stands in for it (recurrent.RNN/LSTM/GRU) and while a run builds its model, whose
# modules draw their default initialisation from it before nnplay's own replaces it.
GLOBAL_RNG = threading.Lock()


class DrawsFromGenerator:
    """A module whose dropout masks come from a run's own generator (set_dropout_generator)."""

    generator: torch.Generator | None = None


class Dropout(DrawsFromGenerator, nn.Dropout):
    """nn.Dropout that draws its masks from a run's own generator, so concurrent runs stay
    deterministic; on CPU it draws exactly what nn.Dropout draws after torch.manual_seed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or self.generator is None:
            return F.dropout(x, self.p, self.training)
        noise = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * noise.div_(1 - self.p)


def _linear(layer, n_in: int, index: int) -> tuple[str, nn.Module, int]:
    return f"fc{index}", nn.Linear(n_in, layer.units), layer.units


def _activation(layer, n_in: int, index: int) -> tuple[str, nn.Module, int]:
    return f"{layer.name.lower()}{index}", ACTIVATION_MODULES[layer.name](), n_in


def _dropout(layer, n_in: int, index: int) -> tuple[str, nn.Module, int]:
    return f"dropout{index}", Dropout(layer.p), n_in


LAYER_BUILDERS: dict[str, Callable[[Layer, int, int], tuple[str, nn.Module, int]]] = {
    "linear": _linear,
    "activation": _activation,
    "dropout": _dropout,
}

OUTPUT_MODULES: dict[str, Callable[[], nn.Module] | None] = {
    "logits": None,
    "linear": None,
    "log_softmax": lambda: nn.LogSoftmax(dim=-1),
    "sigmoid": nn.Sigmoid,
}


def output_size(spec: ExperimentSpec, n_classes: int) -> int:
    """Units of the output layer: one per class, one for binary losses, and for regression one
    per value forecast (1 unless a forecast's horizon says more)."""
    info = loss_info(spec.loss.name, spec.task)
    if info.target == "value":
        return spec.data.outputs
    return 1 if info.target == "binary" else n_classes


def build(
    spec: ExperimentSpec,
    in_features: int,
    n_classes: int,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """The spec's feed-forward stack between in_features and the output layer, initialised
    from generator (network.build chooses between this and recurrent.build).

    Layers are named as the reference names them (fc1, relu2, dropout3, ..., out); the output
    layer gets log_softmax or a sigmoid when the loss asks for it. Engineered inputs
    (spec.data.inputs) come first, as a parameter-free module named features.
    """
    if spec.model.recurrent is not None:
        raise ValueError("A recurrent spec is built by network.build, not models.build.")
    if generator is None:
        generator = torch.Generator().manual_seed(spec.seed)
    named: list[tuple[str, nn.Module]] = []
    width = in_features
    engineered = features.for_spec(spec)
    if engineered is not None:  # a 2D set's engineered inputs, computed from (x1, x2)
        named.append(("features", engineered))
        width = len(engineered.names)
    for i, layer in enumerate(spec.model.layers, start=1):
        name, module, width = LAYER_BUILDERS[layer.type](layer, width, i)
        named.append((name, module))
    named.append(("out", nn.Linear(width, output_size(spec, n_classes))))
    transform = OUTPUT_MODULES[loss_info(spec.loss.name, spec.task).output]
    if transform is not None:
        module = transform()
        named.append((type(module).__name__.lower(), module))
    model = nn.Sequential(OrderedDict(named))
    init_(model, generator)
    return model


def probabilities(out: torch.Tensor, output: str) -> torch.Tensor:
    """Class probabilities (N, C) from the model's output, whatever its output transform."""
    if out.shape[1] == 1:  # binary: one logit or one probability
        p1 = out if output == "sigmoid" else torch.sigmoid(out)
        return torch.cat([1 - p1, p1], dim=1)
    if output == "log_softmax":
        return out.exp()
    return torch.softmax(out, dim=1)


def init_(model: nn.Module, generator: torch.Generator) -> None:
    """nn.Linear's default initialisation, drawn from generator instead of the global RNG.

    Called in module order, it draws the same numbers as building the same layers after
    torch.manual_seed(seed), so an exported script reproduces the app's weights exactly.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                bound = 1 / math.sqrt(module.in_features) if module.in_features > 0 else 0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def set_dropout_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Point every module that draws dropout masks at a run's generator (None: the global
    RNG)."""
    for module in model.modules():
        if isinstance(module, DrawsFromGenerator):
            module.generator = generator


def dropout_generator(model: nn.Module) -> torch.Generator | None:
    """The run's generator its dropout masks are drawn from (None: it has no dropout)."""
    return next((m.generator for m in model.modules()
                 if isinstance(m, DrawsFromGenerator) and m.generator is not None), None)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def printout(model: nn.Module) -> str:
    """print(model) followed by the parameter count, as the page shows it."""
    return f"{model}\n\nTrainable parameters: {parameter_count(model):,}"


def spec_printout(spec: ExperimentSpec, in_features: int, n_classes: int) -> str:
    """printout() of the spec's model, built on the meta device: shapes only, no memory."""
    with torch.device("meta"):
        return printout(build(spec, in_features, n_classes))


def activation_layers(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """(name, module, kind) for each activation in the stack, in order, output layer excluded."""
    found = []
    for name, module in model.named_children():
        if name == "out":
            break
        kind = ACTIVATION_KINDS.get(type(module).__name__)
        if kind is not None:
            found.append((name, module, kind))
    return found


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) for each layer with parameters, in order."""
    return [(n, m) for n, m in model.named_children() if any(True for _ in m.parameters())]


def weight_groups(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """(name, parameters) for each layer with parameters; a recurrent model names its own."""
    if hasattr(model, "weight_groups"):
        return model.weight_groups()
    return [(n, list(m.parameters())) for n, m in weight_layers(model)]
