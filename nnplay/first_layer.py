"""What the first layer of an image model learned: its Linear weights, one image per unit (the
pixels each unit weighs), copied to the host in the training thread at the view's refresh."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

MAX_TILES = 64  # units drawn; a wider first layer shows its first MAX_TILES


def first_linear(model: nn.Module) -> tuple[str, nn.Linear] | None:
    """The first Linear layer of a stack and its name, or None."""
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            return name, module
    return None


def applies(model: nn.Module, kind: str, image_shape: tuple[int, int] | None) -> bool:
    """True when the model's first layer reads whole images: a Linear over their pixels."""
    if kind != "image" or not image_shape or not isinstance(model, nn.Sequential):
        return False
    found = first_linear(model)
    return found is not None and found[1].in_features == int(np.prod(image_shape))


@torch.no_grad()
def weight_tiles(model: nn.Module, image_shape: tuple[int, int]) -> dict:
    """The first Linear layer's weights of its first MAX_TILES units, each row reshaped to the
    image (k, H, W), with the layer's name and width; one copy to the host."""
    name, linear = first_linear(model)  # type: ignore[misc]
    k = min(MAX_TILES, linear.out_features)
    h, w = image_shape
    tiles = linear.weight[:k].detach().float().reshape(k, h, w).cpu().numpy()  # (k, H, W)
    return {"kind": "weights", "layer": name, "units": int(linear.out_features),
            "tiles": tiles.astype(np.float32, copy=False)}  # fmt: skip
