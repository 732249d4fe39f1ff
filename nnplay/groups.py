"""A group of runs started all or none: when a limit refuses one, those already started are
deleted, so a refused group leaves nothing running (the race and Sequences' comparisons)."""

from __future__ import annotations

from collections.abc import Sequence

from nnplay.limits import LimitExceeded
from nnplay.runs import RunManager, Setup
from nnplay.spec import ExperimentSpec


def start_all(manager: RunManager, specs: Sequence[ExperimentSpec], owner: str = "",
              setup: Setup | None = None) -> tuple[tuple[str, ...], str | None]:
    """Start one run per spec: (their ids, None), or ((), the refusal sentence) with none left."""
    started: list[str] = []
    try:
        for spec in specs:
            started.append(manager.start(spec, owner=owner, setup=setup).id)
    except LimitExceeded as e:
        for run_id in started:
            manager.delete(run_id, owner)
        return (), str(e)
    return tuple(started), None
