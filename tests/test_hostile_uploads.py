"""A hostile student uploads files built to blow up memory or to trip the parser: the encoded
size is estimated from column statistics and refused before anything is allocated, and odd
files get one sentence (or just work)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from nnplay import tabular
from nnplay.limits import Limits
from nnplay.tabular import CsvError


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    tabular.load_frame.cache_clear()
    tabular.choose_target.cache_clear()
    return tmp_path


def wide_text_table(rows: int = 3000, columns: int = 300, categories: int = 45) -> bytes:
    """A small file whose text columns one-hot encode to columns x categories features."""
    rng = np.random.default_rng(0)
    data = {f"t{j}": np.char.add("c", rng.integers(0, categories, rows).astype(str))
            for j in range(columns)}
    data["label"] = rng.integers(0, 2, rows)
    return pd.DataFrame(data).to_csv(index=False).encode()


def test_a_file_that_would_expand_to_gigabytes_is_refused_without_expanding() -> None:
    raw = wide_text_table()
    assert len(raw) < 5 * 2**20  # well inside the upload limit
    up = tabular.save_upload(raw)
    tracemalloc.start()
    with pytest.raises(CsvError) as e:
        tabular.choose_target(up.file, "label")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "13,500 input features" in str(e.value) and "NNPLAY_MAX_FEATURES" in str(e.value)
    assert peak < 100 * 2**20  # the one-hot matrix (3000 x 13,500 float64: 324 MB) never made


def test_the_memory_estimate_refuses_a_long_table_too() -> None:
    frame = pd.read_csv(pd.io.common.StringIO(wide_text_table(2000, 20, 40).decode()))
    with pytest.raises(CsvError, match="MB of memory.*NNPLAY_MAX_DATA_MB"):
        tabular.check_size(frame, "label", Limits(max_data_mb=5))
    assert tabular.check_size(frame, "label", Limits()) == 800


def test_the_estimate_is_the_width_prepare_table_makes() -> None:
    rng = np.random.default_rng(1)
    n = 200
    frame = pd.DataFrame({
        "id": [f"row-{i}" for i in range(n)], "a": rng.normal(size=n), "flag": rng.random(n) > .5,
        "colour": rng.choice(["red", "green", "blue"], n), "const": 7,
        "many": rng.integers(0, 80, n).astype(str), "sparse": [1.0] * 50 + [None] * 150,
        "label": rng.integers(0, 3, n)})  # fmt: skip
    width = len(tabular.prepare_table(frame, "label", "classification", 0.5, 0)[5])
    assert tabular.encoded_width(frame, "label") == width == 1 + 1 + 3


def test_a_utf16_csv_from_excel_is_read() -> None:
    text = "größe\tpreis\tklasse\n" + "".join(f"{i}\t{i * 1.5}\t{'ja' if i % 2 else 'nein'}\n"
                                             for i in range(30))
    up = tabular.save_upload(text.encode("utf-16"), "Unicode text.txt")
    assert up.columns == ("größe", "preis", "klasse") and up.rows == 30
    choice = tabular.choose_target(up.file, "klasse")
    assert choice.class_names == ("ja", "nein")
    assert tabular.pandas_options(up.file)["encoding"] == "utf-16"


def test_binary_data_is_still_refused() -> None:
    with pytest.raises(CsvError, match="binary"):
        tabular.save_upload(b"a,b\n" + bytes(range(256)) * 40)


def test_names_equal_once_trimmed_are_one_sentence() -> None:
    raw = ("a, a ,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(20))).encode()
    with pytest.raises(CsvError, match="both named 'a'"):
        tabular.save_upload(raw)


# --- previews and caches that a link can make big -------------------------------------------------


def test_the_sequences_preview_allocates_no_model(monkeypatch) -> None:
    """A link with a head of many wide layers: the preview is the real one's text and shapes,
    built on the meta device, so none of its parameters take memory."""

    from nnplay import data, models, network, presets, recurrent
    from nnplay.spec import Linear

    for name in ("sentiment-bilstm", "parity-gru", "sine-lstm"):
        spec = presets.load(name).spec
        ds = data.build(spec.data, spec.seed)
        model = network.build(spec, ds.in_features, ds.n_classes)
        bs = min(spec.train.batch_size, len(ds.x_train))
        lengths = None if ds.lengths_train is None else ds.lengths_train[:bs]
        real = (models.printout(model), recurrent.shape_table(model, ds.x_train[:bs], lengths))
        assert recurrent.example_shapes(spec) == real, name
    wide = presets.load("sine-lstm").spec.with_changes(
        {"model.layers": [Linear(units=4096)] * 16, "train.batch_size": 4096})
    built = []
    real_build = models.build
    monkeypatch.setattr(models, "build", lambda *a, **k: built.append(real_build(*a, **k))
                        or built[-1])
    text, shapes = recurrent.example_shapes(wide)
    assert "Linear(in_features=4096, out_features=4096" in text and shapes
    params = [p for m in built for p in m.parameters()]
    assert params and all(p.device.type == "meta" for p in params)  # 16 x 64 MB never made


def test_datasets_differing_only_in_what_they_ignore_share_one_copy(tmp_path, monkeypatch) -> None:
    from nnplay import data
    from nnplay.spec import DataSpec

    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path / "data"))
    data.write_idx_files(tmp_path / "data", "fashion-mnist", 300, 100)
    data._build.cache_clear()
    base = DataSpec(name="fashion-mnist")
    a = data.build(base, 0)
    for changes in ({"noise": 0.3}, {"n_samples": 77}, {"train_fraction": 0.8},
                    {"seq_len": 12, "horizon": 3}):  # fields FashionMNIST does not read
        assert data.build(base.model_copy(update=changes), 0) is a
    assert data.build(base.model_copy(update={"subset": 100}), 0) is not a
    spiral = DataSpec(name="spiral")
    assert data.build(spiral.model_copy(update={"subset": 5}), 0) is data.build(spiral, 0)
    assert data.build(spiral.model_copy(update={"noise": 0.3}), 0) is not data.build(spiral, 0)
    assert len(data._build.sizes()) == 4


def test_the_dataset_cache_is_bounded_by_memory(monkeypatch) -> None:
    from nnplay import data
    from nnplay.spec import DataSpec

    data._build.cache_clear()
    one = data.nbytes(data.build(DataSpec(name="spiral", n_samples=2000), 0))
    monkeypatch.setattr(data, "max_cache_bytes", lambda: int(2.5 * one))
    for seed in range(1, 6):
        data.build(DataSpec(name="spiral", n_samples=2000), seed)
        assert sum(data._build.sizes()) <= 2.5 * one
    assert len(data._build.sizes()) == 2
    data._build.cache_clear()
