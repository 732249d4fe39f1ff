"""Tests for nnplay.data: generators, splits, caching, and the torchvision loaders offline."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torchvision

from nnplay import data
from nnplay.data import DataUnavailable, build
from nnplay.spec import DATASETS, DataSpec

GENERATED = [name for name, info in DATASETS.items()
             if info.kind in ("2d", "1d") and name != "draw"]  # drawn points: tests/test_drawn.py
CLASSIFIERS = [name for name in GENERATED if DATASETS[name].task == "classification"]


def arrays(ds: data.Dataset) -> list[np.ndarray]:
    return [t.numpy() for t in (ds.x_train, ds.y_train, ds.x_test, ds.y_test)]


def test_registry_matches_spec() -> None:
    assert set(data.BUILDERS) == set(DATASETS)
    assert set(data.GENERATORS) == set(GENERATED)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_shapes_and_dtypes(name: str) -> None:
    info = DATASETS[name]
    ds = build(DataSpec(name=name, n_samples=200, train_fraction=0.7), seed=3)
    features = 1 if info.kind == "1d" else 2
    assert ds.x_train.shape == (140, features) and ds.x_test.shape == (60, features)
    assert ds.x_train.dtype == torch.float32
    assert (ds.task, ds.kind, ds.in_features) == (info.task, info.kind, features)
    x = torch.cat([ds.x_train, ds.x_test])
    assert x.abs().max() < 2.5  # unit-ish scale
    if info.task == "classification":
        assert ds.y_train.shape == (140,) and ds.y_train.dtype == torch.int64
        y = torch.cat([ds.y_train, ds.y_test])
        assert set(y.tolist()) == set(range(info.classes))
        assert ds.n_classes == ds.out_features == info.classes
        assert ds.class_names == tuple(str(c) for c in range(info.classes))
    else:
        assert ds.y_train.shape == (140, 1) and ds.y_train.dtype == torch.float32
        assert ds.n_classes == 0 and ds.out_features == 1


@pytest.mark.parametrize("name", ["gauss", "spiral"])
@pytest.mark.parametrize("classes", [3, 6])
def test_classes_honoured(name: str, classes: int) -> None:
    ds = build(DataSpec(name=name, classes=classes, n_samples=300), seed=0)
    labels = torch.cat([ds.y_train, ds.y_test])
    assert sorted(set(labels.tolist())) == list(range(classes))
    assert ds.n_classes == ds.out_features == classes


@pytest.mark.parametrize("name", GENERATED)
def test_noise_changes_the_data(name: str) -> None:
    clean = arrays(build(DataSpec(name=name, noise=0.0), seed=0))
    noisy = arrays(build(DataSpec(name=name, noise=0.5), seed=0))
    assert not all(np.array_equal(a, b) for a, b in zip(clean, noisy))


@pytest.mark.parametrize("name", GENERATED)
def test_seed_determines_the_data(name: str) -> None:
    spec = DataSpec(name=name)
    a, b = data.BUILDERS[name](spec, 7, None), data.BUILDERS[name](spec, 7, None)
    for u, v in zip((a.x_train, a.y_train, a.x_test), (b.x_train, b.y_train, b.x_test)):
        assert np.array_equal(u, v)
    c = data.BUILDERS[name](spec, 8, None)
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("fraction, n_train", [(0.1, 50), (0.5, 250), (0.9, 450)])
def test_train_fraction(fraction: float, n_train: int) -> None:
    ds = build(DataSpec(name="moons", n_samples=500, train_fraction=fraction), seed=0)
    assert len(ds.x_train) == len(ds.y_train) == n_train
    assert len(ds.x_test) == len(ds.y_test) == 500 - n_train


@pytest.mark.parametrize("name", GENERATED)
def test_generator_source_is_self_contained(name: str) -> None:
    gen = data.GENERATORS[name]
    namespace: dict = {"np": np}
    exec(inspect.getsource(gen), namespace)
    args = (120, 0.2, DATASETS[name].classes)
    x1, y1 = gen(*args, np.random.default_rng(5))
    x2, y2 = namespace[gen.__name__](*args, np.random.default_rng(5))
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)


def test_cache_returns_the_same_object() -> None:
    spec = DataSpec(name="spiral", noise=0.2)
    ds = build(spec, 11)
    assert build(spec, 11) is ds
    assert build(DataSpec(name="spiral", noise=0.2), 11, torch.device("cpu")) is ds
    assert build(spec, 12) is not ds


def test_grid_spans_the_data_with_margin() -> None:
    ds = build(DataSpec(name="circle"), 0)
    gx, gy = data.grid(ds, 50)
    x = torch.cat([ds.x_train, ds.x_test]).numpy()
    assert gx.shape == gy.shape == (50,)
    span = x[:, 0].max() - x[:, 0].min()
    assert gx[0] == pytest.approx(x[:, 0].min() - 0.1 * span, rel=1e-5)
    assert gx[-1] == pytest.approx(x[:, 0].max() + 0.1 * span, rel=1e-5)
    assert gy[0] < x[:, 1].min() and gy[-1] > x[:, 1].max()
    sx, sy = data.grid(build(DataSpec(name="sine"), 0), 20)
    assert sx.shape == sy.shape == (20,) and sx[0] < -1.0 and sx[-1] > 1.0
    with pytest.raises(ValueError):
        data.grid(build(DataSpec(name="digits"), 0))


def test_digits_stratified_split() -> None:
    ds = build(DataSpec(name="digits", train_fraction=0.75), seed=0)
    assert ds.x_train.shape == (1347, 64) and ds.x_test.shape == (450, 64)
    assert ds.image_shape == (8, 8) and ds.n_classes == 10 and len(ds.class_names) == 10
    x = torch.cat([ds.x_train, ds.x_test])
    assert x.min() >= 0.0 and x.max() == 1.0
    train_counts = torch.bincount(ds.y_train, minlength=10)
    assert train_counts.min() >= 130  # every digit in proportion (about 135 each)


def test_digits_subset_and_classes() -> None:
    ds = build(DataSpec(name="digits", subset=100, classes=4), seed=1)
    assert ds.x_train.shape == (100, 64)
    assert torch.bincount(ds.y_train).tolist() == [25, 25, 25, 25]
    assert set(ds.y_test.tolist()) == {0, 1, 2, 3}
    assert ds.class_names == ("0", "1", "2", "3") and ds.out_features == 4


@pytest.mark.parametrize("name, first_class", [("mnist", "0"), ("fashion-mnist", "T-shirt/top")])
def test_torchvision_sets_from_idx_files(tmp_path, name: str, first_class: str) -> None:
    data.write_idx_files(tmp_path, name, n_train=200, n_test=50, seed=1)
    ds = build(DataSpec(name=name), 0, root=tmp_path)
    assert ds.x_train.shape == (200, 784) and ds.x_test.shape == (50, 784)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert ds.image_shape == (28, 28) and ds.class_names[0] == first_class
    assert ds.n_classes == 10 and ds.in_features == 784

    # the pixels are exactly what torchvision's own class reads, scaled
    cls = {"mnist": torchvision.datasets.MNIST, "fashion-mnist": torchvision.datasets.FashionMNIST}
    ref = cls[name](root=str(tmp_path), train=False)
    assert torch.equal(ds.x_test, ref.data.reshape(50, -1).float() / 255)
    assert torch.equal(ds.y_test, ref.targets)

    small = build(DataSpec(name=name, subset=60), 0, root=tmp_path)
    assert small.x_train.shape == (60, 784) and len(small.x_test) == 50
    assert build(DataSpec(name=name, subset=60), 0, root=tmp_path) is small


def test_torchvision_unavailable_offline(tmp_path, monkeypatch) -> None:
    def no_network(self) -> None:
        raise RuntimeError("no network")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path
    with pytest.raises(DataUnavailable) as err:
        build(DataSpec(name="fashion-mnist"), 0)
    message = str(err.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "NNPLAY_DATA_DIR" in message
    assert "\n" not in message


def test_write_idx_files_full_size_header(tmp_path) -> None:
    data.write_idx_files(tmp_path, "mnist", n_train=3, n_test=2)
    raw = tmp_path / "MNIST" / "raw"
    images = (raw / "train-images-idx3-ubyte").read_bytes()
    assert images[:16] == bytes.fromhex("00000803 00000003 0000001c 0000001c")
    assert len(images) == 16 + 3 * 28 * 28
    assert (raw / "t10k-labels-idx1-ubyte").read_bytes()[:8] == bytes.fromhex("00000801 00000002")


def test_subset_caps_the_test_set(tmp_path) -> None:
    data.write_idx_files(tmp_path, "mnist", n_train=300, n_test=1200)
    ds = build(DataSpec(name="mnist", subset=200), 0, root=tmp_path)
    assert len(ds.x_train) == 200 and len(ds.x_test) == 1000  # max(1000, subset // 4)
    assert len(build(DataSpec(name="mnist"), 0, root=tmp_path).x_test) == 1200


def test_unreadable_files_are_a_sentence(tmp_path) -> None:
    data.write_idx_files(tmp_path, "mnist", n_train=10, n_test=10)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(DataUnavailable, match="could not be read"):
        build(DataSpec(name="mnist"), 0, root=tmp_path)
