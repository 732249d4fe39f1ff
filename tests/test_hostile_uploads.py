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
