"""Points drawn by hand ("Draw your own"): cells of a LEVELS x LEVELS grid over the plane, with a
class each, kept in the spec as one short URL-safe text (two characters a point, classes
separated by '.'). No torch, nothing of ours, and numpy only where arrays are made: the spec
validates drawings with it, and the spec imports nothing heavy.

'AbCd.Ef' is class 0 at cells (0, 27) and (2, 29), class 1 at (4, 31): each character is a
column or row index in ALPHABET, columns (x) first, rows (y) counted upwards.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # URL-safe
LEVELS = len(ALPHABET)  # cells per axis
LIMIT = 1.2  # the grid spans [-LIMIT, LIMIT] on both axes
MAX_POINTS = 500
MIN_PER_CLASS = 3
MIN_SPLIT = 10  # fewer points than this all train: a test share of a handful would say nothing
MAX_TEXT = 2 * MAX_POINTS + 16  # the longest text a spec holds: MAX_POINTS and the separators
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def axis() -> np.ndarray:
    """The coordinate of each cell index, float32 (the exported script computes the same)."""
    import numpy as np

    return np.linspace(-LIMIT, LIMIT, LEVELS).astype(np.float32)


def oversize(text: str) -> str | None:
    """Why a drawing's text is too long to read (a sentence), or None; counted without reading
    it (two characters a point), so a huge one costs nothing more."""
    if len(text) <= MAX_TEXT:
        return None
    points = (len(text) - text.count(".")) // 2
    return f"a drawing holds at most {MAX_POINTS} points, not about {points:,}"


def decode(text: str) -> list[list[tuple[int, int]]]:
    """Per class, its points' (column, row) cells; ValueError with a sentence on bad text."""
    groups = []
    for group in text.split(".") if text else []:
        if len(group) % 2 or any(c not in _INDEX for c in group):
            raise ValueError("the drawn points are not readable (two letters or digits a point)")
        groups.append([(_INDEX[group[i]], _INDEX[group[i + 1]]) for i in range(0, len(group), 2)])
    return groups


def encode(groups: list[list[tuple[int, int]]]) -> str:
    """The text of per-class cells; trailing empty classes are left out."""
    text = ".".join("".join(ALPHABET[i] + ALPHABET[j] for i, j in cells) for cells in groups)
    return text.rstrip(".")


def problem(text: str, classes: int) -> str | None:
    """Why a drawing cannot train with this many classes (a sentence), or None."""
    groups = decode(text)
    total = sum(len(g) for g in groups)
    if total > MAX_POINTS:
        return f"at most {MAX_POINTS} drawn points, not {total}"
    if len(groups) > classes:
        return f"there are points of class {len(groups) - 1} but only {classes} classes"
    counts = [len(g) for g in groups] + [0] * (classes - len(groups))
    short = [c for c, n in enumerate(counts) if n < MIN_PER_CLASS]
    if short:
        c = short[0]
        return (f"draw at least {MIN_PER_CLASS} points of each class (class {c} has "
                f"{counts[c]})")
    return None


def arrays(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The drawing as (x (N, 2) float32, y (N,) int64), class by class in drawing order."""
    import numpy as np

    groups = decode(text)
    grid = axis()
    cells = np.array([cell for g in groups for cell in g], dtype=np.int64).reshape(-1, 2)
    x = np.stack([grid[cells[:, 0]], grid[cells[:, 1]]], axis=1).astype(np.float32)
    y = np.array([c for c, g in enumerate(groups) for _ in g], dtype=np.int64)
    return x, y


def split(y: np.ndarray, train_fraction: float, rng: np.random.Generator,
          least: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices: each class's points shuffled by rng and split by
    train_fraction, at least one a side; fewer than `least` points all train and all test."""
    import numpy as np

    if len(y) < least:
        every = np.arange(len(y))
        return every, every
    train, test = [], []
    for c in np.unique(y):
        mine = rng.permutation(np.flatnonzero(y == c))
        k = max(min(round(len(mine) * train_fraction), len(mine) - 1), 1)
        train.append(mine[:k])
        test.append(mine[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def shares(text: str, train_fraction: float) -> tuple[int, int]:
    """How many of a drawing's points train and how many test (the same points when too few)."""
    import numpy as np

    _, y = arrays(text)
    train, test = split(y, train_fraction, np.random.default_rng(0), MIN_SPLIT)
    return len(train), len(test)


def cell(value: float) -> int:
    """The index of the cell nearest a coordinate, clipped to the grid."""
    return min(max(round((float(value) + LIMIT) / (2 * LIMIT) * (LEVELS - 1)), 0), LEVELS - 1)


def from_points(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> str:
    """Points (a generator's) as a drawing: each moved to its nearest cell, the first `limit`."""
    classes = int(y.max()) + 1 if len(y) else 0
    groups: list[list[tuple[int, int]]] = [[] for _ in range(classes)]
    for (a, b), c in list(zip(x, y))[:limit]:
        groups[int(c)].append((cell(float(a)), cell(float(b))))
    return encode(groups)


def add(text: str, cls: int, at: tuple[int, int]) -> str:
    """The drawing with one more point of class cls at cell `at`."""
    groups = decode(text)
    groups += [[] for _ in range(cls + 1 - len(groups))]
    groups[cls].append(at)
    return encode(groups)


def erase(text: str, near: tuple[int, int]) -> str:
    """The drawing without the point nearest cell `near` (unchanged when it has none)."""
    groups = decode(text)
    found = [(math.hypot(i - near[0], j - near[1]), c, k)
             for c, g in enumerate(groups) for k, (i, j) in enumerate(g)]  # fmt: skip
    if not found:
        return text
    _, c, k = min(found)
    del groups[c][k]
    return encode(groups)


def counts(text: str, classes: int) -> list[int]:
    """Points per class, for classes classes."""
    groups = decode(text)
    return [len(groups[c]) if c < len(groups) else 0 for c in range(classes)]
