"""A snapshot's values as clean numpy arrays; thinning and smoothing them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

Snapshot = Mapping[str, Any]

# a line's most points, of which its newest are kept exact; a scatter's most points
MAX_POINTS, KEEP_LAST, MAX_SCATTER = 2000, 200, 2000


def _section(snap: Snapshot | None, key: str) -> Mapping[str, Any]:
    """The dict under ``key`` of a snapshot, or an empty dict."""
    value = snap.get(key) if isinstance(snap, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _arr(values: Any) -> np.ndarray:
    """A 1-D float array (empty for None); +-inf become NaN so plotly draws a gap."""
    if values is None:
        return np.zeros(0)
    a = np.asarray(values, dtype=float).reshape(-1)
    return np.where(np.isinf(a), np.nan, a)


def _mat(values: Any, cols: int) -> np.ndarray:
    """A 2-D float array (samples x cols); empty (0, cols) when missing or malformed."""
    if values is None:
        return np.zeros((0, cols))
    a = np.asarray(values, dtype=float)
    if a.ndim == 1 and cols == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.size == 0:
        return np.zeros((0, cols))
    return np.where(np.isinf(a), np.nan, a)


def _f32(values: np.ndarray) -> np.ndarray:
    """An array as the browser gets it: float32, half the bytes of float64 on every refresh, and
    more precision than a chart can show. Values beyond float32's range become gaps (NaN)."""
    with np.errstate(over="ignore"):
        out = np.asarray(values, dtype=np.float32)
    return np.where(np.isinf(out), np.float32(np.nan), out)


def _thin(n: int, limit: int = MAX_SCATTER) -> np.ndarray:
    """Evenly strided indices, at most ``limit`` of ``n``."""
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).astype(int)


def downsample(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS, keep_last: int = KEEP_LAST
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: first and last ``keep_last`` exact, the rest bucket means."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    if n <= max_points:
        return x, y
    if max_points < 3:
        idx = np.linspace(0, n - 1, max(max_points, 0)).astype(int)
        return x[idx], y[idx]
    # The newest point always stays; the exact tail takes at most half of the budget.
    keep_last = max(1, min(int(keep_last), max_points // 2))
    buckets = max_points - keep_last - 1
    old_x = x[1 : n - keep_last].astype(float)
    old_y = y[1 : n - keep_last]
    # len(old) > buckets here, so every bucket holds at least one point.
    starts = np.linspace(0, len(old_x), buckets + 1).astype(int)[:-1]
    counts = np.diff(np.append(starts, len(old_x)))
    bx = np.add.reduceat(old_x, starts) / counts
    valid = np.isfinite(old_y)
    sums = np.add.reduceat(np.where(valid, old_y, 0.0), starts)
    n_valid = np.add.reduceat(valid.astype(int), starts)
    by = np.where(n_valid > 0, sums / np.maximum(n_valid, 1), np.nan)
    tail = slice(n - keep_last, n)
    out_x = np.concatenate([x[:1].astype(float), bx, x[tail].astype(float)])
    out_y = np.concatenate([y[:1], by, y[tail]])
    return out_x, out_y


def ema(values: Any, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average (TensorBoard-style smoothing), vectorised in chunks."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size == 0 or weight <= 0:
        return v.copy()
    a = min(float(weight), 0.9999)
    finite = v[np.isfinite(v)]
    prev = float(finite[0]) if finite.size else 0.0
    # Chunks short enough that a**-k stays below 1e50 (no overflow, no precision loss).
    chunk = int(max(1, min(4096, 50 / -math.log10(a))))
    out = np.empty_like(v)
    for start in range(0, v.size, chunk):
        seg = v[start : start + chunk]
        p = a ** np.arange(seg.size)
        res = a * p * prev + (1 - a) * p * np.cumsum(seg / p)
        out[start : start + seg.size] = res
        prev = res[-1]
    return out
