"""Bring your own data: an uploaded CSV becomes a dataset like the built-in ones.

An upload is checked (size, binary bytes, shape, parse errors), then kept as
NNPLAY_HOME/uploads/<id>.csv, where <id> is the first 32 hex digits of its SHA-256. A spec
refers to it as data.name "csv", data.file <id>, data.target <column> and data.task, so runs,
links, the store and exported code all name the same bytes. prepare_table() turns the table
into arrays: rows without a target or with missing values dropped, numeric features
standardised with the training rows' mean and deviation, text features one-hot encoded.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nnplay.arrays import Arrays, DataUnavailable
from nnplay.limits import Limits, env_name
from nnplay.spec import DEFAULT_INPUTS, UPLOAD_FEATURES, DataSpec
from nnplay.store import home

FEW_VALUES = 10  # a target with at most this many distinct values is a classification target
MIN_ROWS = 10
PREVIEW_ROWS = 8
MAGIC = {b"PK\x03\x04": "a zip file (an Excel .xlsx workbook?)", b"\x89PNG": "a PNG image",
         b"%PDF": "a PDF document", b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
         b"\xff\xd8\xff": "a JPEG image", b"\x1f\x8b": "a gzip archive"}  # fmt: skip


class CsvError(ValueError):
    """A file that cannot be used, with one sentence saying why."""


@dataclass(frozen=True)
class Upload:
    """A stored CSV: its id, original name and shape, and a few rows to preview."""

    file: str
    filename: str
    rows: int
    columns: tuple[str, ...]
    preview: pd.DataFrame = field(compare=False, repr=False)


@dataclass(frozen=True)
class TargetChoice:
    """What a target column gives: the task inferred, its classes, features and what was
    dropped and why."""

    task: str
    inferred: str
    classes: int
    class_names: tuple[str, ...]
    features: tuple[str, ...]
    dropped: tuple[str, ...]
    rows: int


# --- reading bytes -----------------------------------------------------------------------------


def _text(data: bytes, limits: Limits) -> str:
    """The upload as text, or CsvError for a file that is empty, too large or binary."""
    if not data.strip():
        raise CsvError("The file is empty.")
    mb = len(data) / 2**20
    if mb > limits.max_upload_mb:
        raise CsvError(f"The file is {mb:.1f} MB; this server accepts CSV files up to "
                       f"{limits.max_upload_mb:g} MB ({env_name('max_upload_mb')}).")
    for magic, what in MAGIC.items():
        if data.startswith(magic):
            raise CsvError(f"This is {what}, not a CSV file; save it as CSV (comma-separated "
                           f"values) and upload that.")
    enc = encoding(data)
    text = data.decode(enc, errors="replace")
    if enc == "utf-16":  # its bytes hold a zero beside every ASCII character: look at the text
        head, zero, codes = text[:65536], "\x00", [chr(c) for c in CONTROLS]
    else:
        head, zero, codes = data[:65536], b"\x00", [bytes([c]) for c in CONTROLS]
    controls = sum(head.count(c) for c in codes)
    if zero in head or controls > len(head) // 100:
        raise CsvError("This file is not a CSV: it contains binary data, so save it as CSV "
                       "(comma-separated values) and upload that.")
    return text


CONTROLS = (*range(0, 9), 11, 12, *range(14, 32))  # control characters no text file holds



def encoding(data: bytes) -> str:
    """UTF-16 with its byte-order mark (Excel's "Unicode text"); UTF-8 (with or without a
    byte-order mark) when the bytes are that; else Windows-1252."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def separator(text: str) -> str:
    """The column separator the text uses: comma, semicolon, tab or bar."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def pandas_options(file: str) -> dict[str, str]:
    """How pd.read_csv reads a stored upload as nnplay does (for exported scripts)."""
    raw = csv_path(file).read_bytes()
    enc = encoding(raw)
    return {"sep": separator(raw.decode(enc, errors="replace")), "encoding": enc}


def read_csv(data: bytes, limits: Limits | None = None) -> pd.DataFrame:
    """Parse uploaded bytes into a table, or raise CsvError with one sentence."""
    limits = limits or Limits.from_env()
    text = _text(data, limits)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    sep = separator(text)
    n_columns = first.count(sep) + 1
    if n_columns > limits.max_columns:
        raise CsvError(f"The file has {n_columns:,} columns; this server accepts at most "
                       f"{limits.max_columns:,} ({env_name('max_columns')}).")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, engine="c", skipinitialspace=True,
                            skip_blank_lines=True, low_memory=False)
    except pd.errors.EmptyDataError:
        raise CsvError("The file is empty.") from None
    except (pd.errors.ParserError, ValueError, OverflowError) as e:
        reason = str(e).strip().splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        raise CsvError(f"This file could not be read as a CSV table: {reason.rstrip('.')}.") \
            from None
    frame.columns = [str(c).strip() for c in frame.columns]
    twice = frame.columns[frame.columns.duplicated()]
    if len(twice):
        raise CsvError(f"Two columns are both named '{twice[0]}' once spaces around the names "
                       f"are trimmed; rename one and upload the file again.")
    if frame.shape[1] > limits.max_columns:
        raise CsvError(f"The file has {frame.shape[1]:,} columns; this server accepts at most "
                       f"{limits.max_columns:,} ({env_name('max_columns')}).")
    if len(frame) == 0:
        raise CsvError("The file has a header but no data rows.")
    if frame.shape[1] < 2:
        raise CsvError(f"The file has only one column ('{frame.columns[0]}'); it needs at least "
                       f"one feature column and a target column, separated by commas.")
    if len(frame) > limits.max_samples:
        raise CsvError(f"The file has {len(frame):,} rows; this server trains on at most "
                       f"{limits.max_samples:,} ({env_name('max_samples')}).")
    if len(frame) < MIN_ROWS:
        raise CsvError(f"The file has only {len(frame)} data rows; at least {MIN_ROWS} are "
                       f"needed to train and test.")
    return frame


# --- stored uploads ----------------------------------------------------------------------------


def uploads_dir() -> Path:
    """Where uploaded CSVs are kept: NNPLAY_HOME/uploads."""
    return home() / "uploads"


def csv_path(file: str) -> Path:
    """The stored CSV of an upload id."""
    return uploads_dir() / f"{file}.csv"


def save_upload(data: bytes, filename: str = "upload.csv", limits: Limits | None = None) -> Upload:
    """Check an upload and keep it under its content id; CsvError with a sentence if unusable."""
    frame = read_csv(data, limits)
    file = hashlib.sha256(data).hexdigest()[:32]
    path = csv_path(file)
    meta = {"filename": Path(filename).name[:200], "rows": len(frame),
            "columns": list(frame.columns)}  # fmt: skip
    try:
        uploads_dir().mkdir(parents=True, exist_ok=True)
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        path.with_suffix(".json").write_text(json.dumps(meta))
    except OSError as e:
        raise CsvError(f"This server cannot keep uploads right now: its disk is full or its "
                       f"folder read-only ({e.strerror or e}).") from None
    return Upload(file, meta["filename"], len(frame), tuple(frame.columns),
                  frame.head(PREVIEW_ROWS))


def upload(file: str) -> Upload | None:
    """A stored upload by id, or None when this server does not have it."""
    try:
        frame = load_frame(file)
    except CsvError:
        return None
    meta = _meta(file)
    return Upload(file, meta.get("filename", f"{file}.csv"), len(frame), tuple(frame.columns),
                  frame.head(PREVIEW_ROWS))


def _meta(file: str) -> dict:
    try:
        return json.loads(csv_path(file).with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}


def rows(file: str) -> int:
    """Data rows of a stored upload (0 when unknown)."""
    meta = _meta(file)
    if "rows" in meta:
        return int(meta["rows"])
    try:
        return len(load_frame(file))
    except CsvError:
        return 0


@functools.lru_cache(maxsize=4)
def load_frame(file: str) -> pd.DataFrame:
    """The table of a stored upload (the limits on size were checked when it was stored)."""
    path = csv_path(file)
    if not (len(file) == 32 and all(c in "0123456789abcdef" for c in file)) or not path.is_file():
        raise CsvError("That uploaded CSV is not on this server any more; upload it again.")
    return read_csv(path.read_bytes(), Limits(max_upload_mb=float("inf"),
                                              max_samples=2**62, max_columns=2**62))


# --- from a table to arrays --------------------------------------------------------------------


def infer_task(column: pd.Series) -> str:
    """classification when the column has few distinct values or is not numeric, else
    regression."""
    values = column.dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return "regression" if numeric and values.nunique() > FEW_VALUES else "classification"


def prepare_table(frame, target, task, train_fraction, seed, max_classes=10):
    """A table as standardised train/test arrays: (x_train, y_train, x_test, y_test,
    class_names, feature_names, dropped), dropped being sentences on what was left out.

    Rows without a target, and rows with a missing feature value, are dropped; a feature column
    that is mostly empty, constant, an identifier or has over 50 categories is dropped. Numeric
    features are standardised with the training rows' mean and standard deviation; text ones
    become one 0/1 column per category. ValueError says why a table cannot be used.
    """
    import numpy as np  # noqa: I001 - self-contained: exported scripts inline this function
    import pandas as pd  # noqa: F811

    def rows(n):
        return f"{n} row" if n == 1 else f"{n} rows"

    dropped = []
    frame = frame.replace([np.inf, -np.inf], np.nan)  # an infinite value is as good as missing
    if target not in frame.columns:
        raise ValueError(f"The CSV has no column '{target}'.")
    missing = int(frame[target].isna().sum())
    if missing:
        frame = frame[frame[target].notna()]
        dropped.append(f"{rows(missing)} without a value in the target '{target}'")
    numeric_cols, onehot = [], {}
    for col in frame.columns:
        if col == target:
            continue
        values = frame[col]
        share = values.isna().mean() if len(values) else 1.0
        n = values.nunique()
        if share > 0.5:
            dropped.append(f"column '{col}': {share:.0%} of its values are missing")
        elif n <= 1:
            dropped.append(f"column '{col}': the same value in every row")
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            numeric_cols.append(col)
        elif n == values.notna().sum() and n > 20:
            dropped.append(f"column '{col}': a different text in every row (an identifier?)")
        elif n > 50:
            dropped.append(f"column '{col}': {n} different texts, too many categories")
        else:
            onehot[col] = sorted(values.dropna().astype(str).unique())
    used = numeric_cols + list(onehot)
    if not used:
        raise ValueError("No column of the CSV can be used as a feature; see what was dropped.")
    incomplete = frame[used].isna().any(axis=1)
    if incomplete.any():
        frame = frame[~incomplete]
        dropped.append(f"{rows(int(incomplete.sum()))} with a missing feature value")
    if len(frame) < 10:
        raise ValueError(f"Only {len(frame)} complete rows are left; at least 10 are needed.")
    y_col = frame[target]
    if task == "regression":
        y_num = pd.to_numeric(y_col, errors="coerce")
        if y_num.isna().any() or pd.api.types.is_bool_dtype(y_col):
            raise ValueError(f"The target column '{target}' is not numeric, so it cannot be a "
                             f"regression target; choose classification or another column.")
        y = y_num.to_numpy(dtype=np.float64)[:, None]
        class_names = ()
    else:
        if pd.api.types.is_numeric_dtype(y_col) and not pd.api.types.is_bool_dtype(y_col):
            classes = sorted(y_col.unique())
        else:
            classes = sorted(y_col.astype(str).unique())
            y_col = y_col.astype(str)
        if len(classes) < 2:
            raise ValueError(f"The target column '{target}' has only one value, so there is "
                             f"nothing to classify.")
        if len(classes) > max_classes:
            raise ValueError(f"The target column '{target}' has {len(classes)} different "
                             f"values; classification handles at most {max_classes} classes, "
                             f"so choose regression or another column.")
        index = {c: i for i, c in enumerate(classes)}
        y = y_col.map(index).to_numpy(dtype=np.int64)
        class_names = tuple(str(c) for c in classes)
    parts, names = [], []
    for col in numeric_cols:
        parts.append(frame[col].to_numpy(dtype=np.float64)[:, None])
        names.append(col)
    for col, cats in onehot.items():
        text = frame[col].astype(str).to_numpy()
        parts.append(np.stack([text == c for c in cats], axis=1).astype(np.float64))
        names += [f"{col}={c}" for c in cats]
    x = np.concatenate(parts, axis=1)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    k = min(max(round(len(x) * train_fraction), 1), len(x) - 1)
    tr, te = perm[:k], perm[k:]
    n_num = len(numeric_cols)
    mean = x[tr, :n_num].mean(axis=0)
    std = x[tr, :n_num].std(axis=0)
    with np.errstate(all="ignore"):
        x[:, :n_num] = (x[:, :n_num] - mean) / np.where(std > 0, std, 1.0)
        x = x.astype(np.float32)  # checked after the cast: 3.4e38 is finite only in float64
        if task == "regression":
            y = y.astype(np.float32)
    bad = [names[i] for i in range(n_num) if not np.isfinite(x[:, i]).all()]
    if bad or (task == "regression" and not np.isfinite(y).all()):
        col = bad[0] if bad else target
        raise ValueError(f"The column '{col}' has numbers too large to compute with.")
    return x[tr], y[tr], x[te], y[te], class_names, tuple(names), tuple(dropped)


BYTES_PER_CELL = 20  # prepare_table's peak: float64 parts and their concatenation, float32 copy


def encoded_width(frame: pd.DataFrame, target: str) -> int:
    """Input features prepare_table would make, from column statistics alone (prepare_table's
    rules: numbers one each, texts one per category, identifiers and > 50 categories dropped)."""
    width = 0
    for col in frame.columns:
        if col == target:
            continue
        values = frame[col]
        n = values.nunique()
        if (values.isna().mean() if len(values) else 1.0) > 0.5 or n <= 1:
            continue
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            width += 1
        elif not (n == values.notna().sum() and n > 20) and n <= 50:
            width += n
    return width


def check_size(frame: pd.DataFrame, target: str, limits: Limits | None = None) -> int:
    """The encoded width, or CsvError (one sentence) when the table once encoded would be
    wider or larger in memory than this server allows; nothing is allocated to find out."""
    limits = limits or Limits.from_env()
    width = encoded_width(frame, target)
    if width > limits.max_features:
        raise CsvError(f"Encoded for training, this table would have {width:,} input features "
                       f"(each text column gives one per category); this server allows at most "
                       f"{limits.max_features:,} ({env_name('max_features')}), so leave out "
                       f"some text columns.")
    mb = len(frame) * max(width, 1) * BYTES_PER_CELL / 2**20
    if mb > limits.max_data_mb:
        raise CsvError(f"Encoded for training, this table would take about {mb:,.0f} MB of "
                       f"memory; this server allows {limits.max_data_mb:,g} MB "
                       f"({env_name('max_data_mb')}), so use fewer rows or text columns.")
    return width


@functools.lru_cache(maxsize=16)
def choose_target(file: str, target: str, task: str = "auto") -> TargetChoice:
    """What training on target would use and drop; task "auto" takes the inferred one.

    CsvError with one sentence when the table cannot be used that way.
    """
    frame = load_frame(file)
    if target not in frame.columns:
        raise CsvError(f"Your CSV has no column '{target}'.")
    check_size(frame, target)
    inferred = infer_task(frame[target])
    chosen = inferred if task == "auto" else task
    try:
        x_tr, _, x_te, _, class_names, features, dropped = prepare_table(
            frame, target, chosen, 0.5, 0)
    except ValueError as e:
        raise CsvError(str(e)) from None
    UPLOAD_FEATURES[(file, target)] = len(features)
    n = len(x_tr) + len(x_te)
    return TargetChoice(chosen, inferred, len(class_names), class_names, features, dropped, n)


def two_inputs(file: str, target: str, task: str = "auto") -> tuple[str, str] | None:
    """The two input columns (x1, x2) of an upload with this target, or None when it has another
    number of inputs or cannot be read: engineered inputs are made from exactly two."""
    if not file or not target:
        return None
    try:
        features = choose_target(file, target, task).features
    except CsvError:
        return None
    return (features[0], features[1]) if len(features) == 2 else None


def spec_changes(file: str, target: str, task: str = "auto") -> dict[str, object]:
    """The DataSpec settings (dotted paths) that select this upload and target."""
    choice = choose_target(file, target, task)
    return {"data.name": "csv", "data.file": file, "data.target": target,
            "data.task": choice.task, "data.classes": choice.classes}  # fmt: skip


def arrays(spec: DataSpec, seed: int) -> Arrays:
    """The Arrays of an uploaded CSV, split and encoded as prepare_table does."""
    try:
        frame = load_frame(spec.file)
        check_size(frame, spec.target)
        x_tr, y_tr, x_te, y_te, names, features, _ = prepare_table(
            frame, spec.target, spec.info.task, spec.train_fraction, seed)
    except ValueError as e:  # CsvError included
        raise DataUnavailable(str(e)) from None
    if spec.info.task == "classification" and len(names) != spec.n_classes:
        raise DataUnavailable(f"The target '{spec.target}' has {len(names)} classes, not "
                              f"{spec.n_classes}; choose the target again.")
    UPLOAD_FEATURES[(spec.file, spec.target)] = len(features)
    if spec.inputs != DEFAULT_INPUTS and len(features) != 2:  # a link made before it was read
        raise DataUnavailable(f"Engineered inputs (other than x1,x2) need two input columns, and "
                              f"'{spec.target}' from your CSV has {len(features)}.")
    # numeric columns keep their names and were standardised; one-hot ones are "colour=red"
    scaled = tuple(f"{f} (standardised)" if f in frame.columns else f for f in features)
    return Arrays(x_tr, y_tr, x_te, y_te, class_names=names, feature_names=scaled)
