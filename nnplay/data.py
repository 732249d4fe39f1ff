"""Dataset builders: a DataSpec and a seed become train/test tensors on a device.

What each dataset is (task, kind, the settings it reads, its size) is its record in
nnplay.concepts; here each record's source has a builder (SOURCES), and BUILDERS has one per name.

The 2D/1D generators are self-contained numpy functions (codegen inlines their source into
exported scripts). Image sets come from scikit-learn (digits) or torchvision (MNIST,
FashionMNIST); torchvision's own files are read as whole tensors, never sample by sample.
"""

from __future__ import annotations

import functools
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from nnplay import drawn, sequences, settings, tabular
from nnplay.arrays import Arrays, DataUnavailable  # callers may import both from here
from nnplay.concepts import DATASET_SETTINGS
from nnplay.spec import DATASETS, DataSpec


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/test tensors on one device, plus what pages and charts need to draw them."""

    x_train: torch.Tensor  # (N, F) float32; images flattened to (N, H*W) in [0, 1]
    y_train: torch.Tensor  # (N,) int64 class index, or (N, 1) float32 for regression
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: str  # "classification" | "regression"
    n_classes: int  # 0 for regression
    kind: str  # "2d" | "1d" | "image"
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None
    feature_names: tuple[str, ...] = ()  # an upload's input columns, for the axes of its view
    # Sequence tasks (nnplay.sequences): x is (N, T, F), or (N, T) token ids for "tokens".
    vocab: tuple[str, ...] = ()  # the word of each token id (0 is padding)
    lengths_train: torch.Tensor | None = None  # (N,) int64 on the CPU: unpadded lengths
    lengths_test: torch.Tensor | None = None
    subsets: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> test indices
    baseline: tuple[str, torch.Tensor] | None = None  # a naive forecast's test-set outputs
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # task-specific test data

    @property
    def in_features(self) -> int:
        """Features per sample (per time step for sequences; the vocabulary size for tokens)."""
        return len(self.vocab) if self.vocab else self.x_train.shape[-1]

    @property
    def out_features(self) -> int:
        """Outputs the model needs: one per class, or 1 for regression."""
        return self.n_classes or 1


# --- generators: self-contained (numpy only), features on a unit-ish scale ---------------------


def gen_circle(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 in a disc of radius 0.5, class 1 in a ring from 0.7 to 1."""
    k = n // 2
    r = np.concatenate([rng.uniform(0.0, 0.5, k), rng.uniform(0.7, 1.0, n - k)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    x = x + rng.normal(0.0, 0.3 * noise, (n, 2))
    y = (np.arange(n) >= k).astype(np.int64)
    return x.astype(np.float32), y


def gen_xor(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]^2 kept off the axes; class 1 where the two coordinates differ in sign."""
    x = rng.uniform(0.05, 1.0, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    x = x + rng.normal(0.0, 0.3 * noise, (n, 2))
    return x.astype(np.float32), y


def gen_gauss(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One Gaussian blob per class, centres evenly spaced on a circle of radius 0.6."""
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes + np.pi / 4
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centres + rng.normal(0.0, 0.1 + 0.5 * noise, (n, 2))
    return x.astype(np.float32), y.astype(np.int64)


def gen_spiral(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One spiral arm per class, 1.75 turns from the centre out to radius 1."""
    y = np.arange(n) % classes
    r = np.arange(n) / n
    t = 1.75 * 2 * np.pi * r + 2 * np.pi * y / classes
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    x = x + rng.uniform(-1.0, 1.0, (n, 2)) * 0.25 * noise
    return x.astype(np.float32), y.astype(np.int64)


def gen_moons(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, scaled to x in [-1, 1] and y in [-0.5, 0.5]."""
    k = n // 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.arange(n) < k
    x0 = np.where(upper, np.cos(t), 1.0 - np.cos(t))
    x1 = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    x = (np.stack([x0, x1], axis=1) - [0.5, 0.25]) / 1.5
    x = x + rng.normal(0.0, 0.4 * noise, (n, 2))
    return x.astype(np.float32), (~upper).astype(np.int64)


def gen_sine(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(t) + noise for t in [-pi, pi]; the feature is t / pi, in [-1, 1]."""
    t = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(t) + rng.normal(0.0, noise, (n, 1))
    return (t / np.pi).astype(np.float32), y.astype(np.float32)


def gen_plane(
    n: int, noise: float, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """y = 0.6 x0 - 0.4 x1 + noise for x in [-1, 1]^2."""
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = 0.6 * x[:, :1] - 0.4 * x[:, 1:] + rng.normal(0.0, 0.5 * noise, (n, 1))
    return x.astype(np.float32), y.astype(np.float32)


GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "circle": gen_circle,
    "xor": gen_xor,
    "gauss": gen_gauss,
    "spiral": gen_spiral,
    "moons": gen_moons,
    "sine": gen_sine,
    "plane": gen_plane,
}


# --- builders: (spec, seed, root) -> Arrays, one per source of a dataset record -------------


def _generated(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """Generate with one seeded rng, then split off train_fraction by a permutation of it."""
    rng = np.random.default_rng(seed)
    x, y = GENERATORS[name](spec.n_samples, spec.noise, spec.n_classes, rng)
    perm = rng.permutation(len(x))
    k = round(len(x) * spec.train_fraction)
    tr, te = perm[:k], perm[k:]
    names = tuple(str(c) for c in range(spec.n_classes))
    return Arrays(x[tr], y[tr], x[te], y[te], names)


def _take(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of k samples, drawn so classes stay as balanced as they can."""
    if k <= 0 or k >= len(y):
        return np.arange(len(y))
    order = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)  # position of each shuffled sample within its class
    for c in np.unique(y):
        mine = y[order] == c
        rank[mine] = np.arange(mine.sum())
    return np.sort(order[np.argsort(rank, kind="stable")[:k]])


def _images(
    xs: tuple[np.ndarray, np.ndarray],
    ys: tuple[np.ndarray, np.ndarray],
    scale: float,
    spec: DataSpec,
    seed: int,
    n_test: int,
    names: tuple[str, ...],
) -> Arrays:
    """Keep the first n_classes classes and a balanced subset, then flatten and scale to [0, 1]."""
    rng = np.random.default_rng(seed)
    out = []
    for x, y, k in zip(xs, ys, (spec.subset, n_test)):
        keep = np.flatnonzero(y < spec.n_classes)
        keep = keep[_take(y[keep], k, rng)]
        pixels = x[keep].reshape(len(keep), -1).astype(np.float32)
        pixels /= scale  # in place: a full MNIST train set is 188 MB as float32
        out += [pixels, y[keep].astype(np.int64)]
    return Arrays(*out, class_names=names[: spec.n_classes], image_shape=xs[0].shape[1:3])


def _digits(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """scikit-learn's 8x8 digits (bundled, offline), split stratified by train_fraction."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        d.images, d.target, test_size=1 - spec.train_fraction, stratify=d.target, random_state=seed
    )
    names = tuple(str(c) for c in range(10))
    return _images((x_tr, x_te), (y_tr, y_te), 16.0, spec, seed, 0, names)


# The torchvision.datasets class of each torchvision set, from its record.
_TORCHVISION = {name: r.torchvision for name, r in DATASETS.items() if r.torchvision}


def _raw_files(cls: type) -> list[str]:
    """The uncompressed file names torchvision's MNIST-style class reads from its raw folder."""
    return [os.path.splitext(name)[0] for name, _md5 in cls.resources]


def _torchvision(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """MNIST or FashionMNIST via torchvision, with its own train/test split.

    train_fraction is ignored. subset > 0 keeps that many training images and caps the test
    set at max(1000, subset // 4) images, both class-balanced; subset 0 keeps everything.
    """
    import torchvision.datasets

    cls = getattr(torchvision.datasets, _TORCHVISION[name])
    root = Path(root) if root is not None else data_dir()
    raw, files = root / cls.__name__ / "raw", _raw_files(cls)
    present = all((raw / f).is_file() for f in files)
    try:
        sets = [cls(root=str(root), train=t, download=not present) for t in (True, False)]
    except Exception as e:
        label = DATASETS[name].label.split(" (")[0]
        if present:
            raise DataUnavailable(
                f"{label} files in {raw} could not be read; replace them, or delete them to "
                "download a fresh copy."
            ) from e
        raise DataUnavailable(
            f"{label} is not in {raw} and could not be downloaded; put {', '.join(files)} "
            f"there, or set NNPLAY_DATA_DIR to a folder whose {cls.__name__}/raw has them."
        ) from e
    xs = tuple(s.data.numpy() for s in sets)
    ys = tuple(s.targets.numpy() for s in sets)
    n_test = max(1000, spec.subset // 4) if spec.subset else 0
    names = tuple(c.split(" - ")[0] for c in cls.classes)  # MNIST's "0 - zero" -> "0"
    return _images(xs, ys, 255.0, spec, seed, n_test, names)


def _drawn(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """The drawn points, each class split by train_fraction with a seeded rng (drawn.split);
    fewer than drawn.MIN_SPLIT of them all train and all test."""
    x, y = drawn.arrays(spec.points)
    tr, te = drawn.split(y, spec.train_fraction, np.random.default_rng(seed), drawn.MIN_SPLIT)
    names = tuple(str(c) for c in range(spec.n_classes))
    return Arrays(x[tr], y[tr], x[te], y[te], names)


def _uploaded(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    return tabular.arrays(spec, seed)


def _sequences(name: str, spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    return sequences.BUILDERS[name](spec, seed, root)


# How each source of a record builds a dataset, given the dataset's name.
SOURCES: dict[str, Callable[[str, DataSpec, int, Path | None], Arrays]] = {
    "generated": _generated,
    "bundled": _digits,
    "torchvision": _torchvision,
    "upload": _uploaded,
    "sequence": _sequences,
    "drawn": _drawn,
}

Builder = Callable[[DataSpec, int, Path | None], Arrays]

BUILDERS: dict[str, Builder] = {
    name: functools.partial(SOURCES[r.source], name) for name, r in DATASETS.items()
}


# --- public entry points -----------------------------------------------------------------------


def data_dir() -> Path:
    """Where downloaded datasets live: $NNPLAY_DATA_DIR, else ~/.cache/nnplay."""
    return settings.data_dir()


def build(
    spec: DataSpec, seed: int, device: torch.device | str = "cpu", root: Path | None = None
) -> Dataset:
    """The dataset a spec asks for, on `device` (downloaded sets read from `root`, else from
    data_dir()); equal arguments share one cached Dataset."""
    folder = None
    if spec.info.downloads:
        folder = Path(root) if root is not None else data_dir()
    return _build(used(spec), seed, torch.device(device), folder)


def used(spec: DataSpec) -> DataSpec:
    """spec with the fields its dataset does not read (its record's settings) set to their
    defaults: the cache's key, so a link cannot fill the cache with copies of FashionMNIST that
    differ in noise."""
    fields, reads = type(spec).model_fields, spec.info.settings
    return spec.model_copy(update={k: fields[k].default for k in DATASET_SETTINGS
                                   if k not in reads})


class _MemoryCache:
    """A least-recently-used cache of built Datasets bounded by their tensors' bytes (and by
    count), so a few large image sets cannot pile up in memory."""

    def __init__(self, build: Callable[..., Dataset], max_items: int = 8):
        self.build, self.max_items = build, max_items
        self._items: OrderedDict[tuple, tuple[Dataset, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, *key) -> Dataset:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        ds = self.build(*key)
        size = nbytes(ds)
        with self._lock:
            self._items[key] = (ds, size)
            self._items.move_to_end(key)
            limit = max_cache_bytes()
            while len(self._items) > 1 and (len(self._items) > self.max_items or
                                            sum(s for _, s in self._items.values()) > limit):
                self._items.popitem(last=False)
        return ds

    def cache_clear(self) -> None:
        with self._lock:
            self._items.clear()

    def sizes(self) -> list[int]:
        """The bytes of each cached Dataset, oldest first."""
        with self._lock:
            return [s for _, s in self._items.values()]


def nbytes(ds: Dataset) -> int:
    """The bytes of a Dataset's tensors."""
    tensors = [v for v in vars(ds).values() if isinstance(v, torch.Tensor)]
    tensors += [v for part in (ds.subsets, ds.extra) for v in part.values()]
    return sum(t.numel() * t.element_size() for t in tensors)


def max_cache_bytes() -> int:
    """What the cache of built datasets may hold: 4 x NNPLAY_MAX_DATA_MB."""
    return int(4 * float(settings.value("NNPLAY_MAX_DATA_MB")) * 2**20)


# A table of one or two feature columns gets the generated sets' views: its points under the
# model's fitted curve, decision boundary or surface.
TABLE_KINDS = {1: "1d", 2: "2d"}


def _built(spec: DataSpec, seed: int, device: torch.device, root: Path | None) -> Dataset:
    """Build the arrays once and move each to the device as one tensor."""
    a = BUILDERS[spec.name](spec, seed, root)
    info = spec.info

    def put(arr: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(arr).to(device)

    kind = info.kind
    if kind == "table":  # an upload with one or two features is drawn as the generated sets are
        kind = TABLE_KINDS.get(a.x_train.shape[1], kind)
    return Dataset(
        put(a.x_train), put(a.y_train), put(a.x_test), put(a.y_test),
        task=info.task, n_classes=spec.n_classes, kind=kind,
        class_names=a.class_names, image_shape=a.image_shape, feature_names=a.feature_names,
        **_sequence_parts(a, put),
    )  # fmt: skip


_build = _MemoryCache(_built)


def _sequence_parts(a: Arrays, put: Callable[[np.ndarray], torch.Tensor]) -> dict:
    """A sequence task's extras as Dataset fields: lengths stay on the CPU (pack_padded_sequence
    reads them there), the rest goes to the device."""
    def cpu(v: np.ndarray | None) -> torch.Tensor | None:
        return None if v is None else torch.as_tensor(v)

    return {
        "vocab": a.vocab, "lengths_train": cpu(a.lengths_train),
        "lengths_test": cpu(a.lengths_test),
        "subsets": {k: put(v) for k, v in a.subsets.items()},
        "baseline": None if a.baseline is None else (a.baseline[0], put(a.baseline[1])),
        "extra": {k: put(v) for k, v in a.extra.items()},
    }  # fmt: skip


def bounds(x: np.ndarray, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (low, high) of x, widened on each side by `margin` of the range."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.where(hi > lo, (hi - lo) * margin, margin)
    return lo - pad, hi + pad


def grid(ds: Dataset, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Axis vectors (n points each) spanning the data with a 10% margin.

    2d: the two feature axes, for decision boundaries. 1d: the feature axis and the target
    range, for fitted curves.
    """
    if ds.kind not in ("2d", "1d"):
        raise ValueError(f"a {ds.kind} dataset has no 2D grid")
    x = torch.cat([ds.x_train, ds.x_test]).cpu().numpy()
    if ds.kind == "1d":
        x = np.concatenate([x, torch.cat([ds.y_train, ds.y_test]).float().cpu().numpy()], axis=1)
    lo, hi = bounds(x)
    return (
        np.linspace(lo[0], hi[0], n, dtype=np.float32),
        np.linspace(lo[1], hi[1], n, dtype=np.float32),
    )


def write_idx_files(root: Path, name: str, n_train: int, n_test: int, seed: int = 0) -> None:
    """Write random idx files (28x28 uint8 images, labels 0-9) where torchvision reads `name`.

    `name` is "mnist" or "fashion-mnist" (files go to root/MNIST/raw or root/FashionMNIST/raw).
    """
    raw = Path(root) / _TORCHVISION.get(name, name) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        # idx header: magic 0x08 (uint8) << 8 | ndim, then each dimension, big-endian
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x0803, n, 28, 28) + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, n) + labels.tobytes()
        )
