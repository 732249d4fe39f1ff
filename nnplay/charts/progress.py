"""A run's progress as one line of text."""

from __future__ import annotations

import math
from typing import Any

from nnplay.charts.values import Snapshot, _section


def _duration(seconds: float) -> str:
    """'42 s', '3 min 5 s', '2 h 10 min'."""
    sec = int(round(seconds))
    if sec < 60:
        return f"{sec} s"
    if sec < 3600:
        return f"{sec // 60} min {sec % 60} s"
    return f"{sec // 3600} h {sec % 3600 // 60} min"


def _finite_number(value: Any) -> float | None:
    """``value`` as a finite non-negative float, else None."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def progress_text(snap: Snapshot) -> str:
    """'step 1,200 / 5,000 · epoch 12 · 8,431 samples/s · 3 s left'."""
    p = _section(snap, "progress")
    step = int(_finite_number(p.get("step")) or 0)
    total = int(_finite_number(p.get("total_steps")) or 0)
    parts = [f"step {step:,} / {total:,}" if total else f"step {step:,}"]
    epoch = _finite_number(p.get("epoch"))
    if epoch is not None:
        parts.append(f"epoch {int(epoch):,}")
    rate = _finite_number(p.get("samples_per_s"))
    if rate:
        parts.append(f"{rate:,.0f} samples/s" if rate >= 100 else f"{rate:.3g} samples/s")
    eta, elapsed = _finite_number(p.get("eta_s")), _finite_number(p.get("elapsed_s"))
    if eta is not None and snap.get("status", "running") == "running":  # none once it has ended
        parts.append(f"{_duration(eta)} left")
    elif elapsed:
        parts.append(f"{_duration(elapsed)} elapsed")
    return " · ".join(parts)
