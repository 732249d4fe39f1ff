"""Stored runs side by side: which runs a link names, their settings as dotted paths, which of
those differ, and whether the runs saw the same data (else only their losses are comparable)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nnplay.spec import flatten

MAX_RUNS = 8  # runs overlaid at once: one colour each from the chart palette
RUN_ID = re.compile(r"[0-9a-f]{32}")
MISSING = "—"  # a setting one run has and another has not (e.g. a layer more)


@dataclass(frozen=True)
class Link:
    """The run ids of a ?compare= link: valid ones (in order, once each), and what was wrong."""

    ids: tuple[str, ...] = ()
    invalid: tuple[str, ...] = field(default=())  # parts that are not run ids
    dropped: int = 0  # valid ids past MAX_RUNS

    def problem(self) -> str | None:
        """One sentence on what of the link was ignored; None when nothing was."""
        parts = []
        if self.invalid:
            shown = ", ".join(p[:40] for p in self.invalid[:3]) + ("…" if len(self.invalid) > 3
                                                                   else "")
            parts.append(f"{len(self.invalid)} part(s) that are not run ids ({shown})")
        if self.dropped:
            parts.append(f"{self.dropped} run(s) past the first {MAX_RUNS}")
        return f"The compare link's {' and '.join(parts)} were ignored." if parts else None


def parse_link(text: str | None) -> Link:
    """The ids in 'id,id,...': 32 lower-case hex characters each, at most MAX_RUNS."""
    ids: list[str] = []
    invalid: list[str] = []
    for part in (text or "").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if not RUN_ID.fullmatch(part):
            invalid.append(part)
        elif part not in ids:
            ids.append(part)
    return Link(tuple(ids[:MAX_RUNS]), tuple(invalid), max(0, len(ids) - MAX_RUNS))


def link_value(ids: Sequence[str]) -> str:
    """The ?compare= value that opens these runs side by side."""
    return ",".join(ids[:MAX_RUNS])


def differing(flats: Sequence[Mapping[str, Any]]) -> list[str]:
    """The dotted paths whose value is not the same in every run (missing counts as a value)."""
    paths = dict.fromkeys(p for flat in flats for p in flat)
    return [p for p in paths if len({repr(f.get(p, MISSING)) for f in flats}) > 1]


def settings_rows(flats: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[str], bool]]:
    """(path, each run's value as text, whether they differ) for every path, in spec order."""
    differ = set(differing(flats))
    paths = dict.fromkeys(p for flat in flats for p in flat)
    return [(p, [_text(f.get(p, MISSING)) for f in flats], p in differ) for p in paths]


def _text(value: Any) -> str:
    """A setting's value as table text."""
    if isinstance(value, float):
        return f"{value:g}"
    if value is None or (isinstance(value, list | tuple | dict) and not value):
        return "none"
    return str(value)


def same_data(specs: Sequence[Mapping[str, Any]]) -> bool:
    """True when every run trained on the same dataset with the same data settings."""
    return len({repr(flatten(s.get("data", {}), items=True)) for s in specs}) <= 1


def labels(names: Sequence[str], summaries: Sequence[str], ids: Sequence[str]) -> list[str]:
    """One distinct label per run: its name, else its summary; a short id where two match."""
    base = [n.strip() or s for n, s in zip(names, summaries, strict=True)]
    return [f"{b} ({i[:6]})" if base.count(b) > 1 else b for b, i in zip(base, ids, strict=True)]
