"""Named experiments: JSON files beside this module, each a title, a teaching goal, the page
that opens it and a spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nnplay.spec import ExperimentSpec, SpecError, parse

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Preset:
    """A named experiment with the one-line goal a teacher shows on its card."""

    name: str
    title: str
    goal: str
    page: str
    spec: ExperimentSpec
    race: dict | None = None  # contenders for the Compare page: {"contenders": [{...}, ...]}


@cache
def names() -> tuple[str, ...]:
    """Every preset's name, sorted."""
    return tuple(sorted(p.stem for p in HERE.glob("*.json")))


def load(name: str) -> Preset:
    """The preset called name; SpecError with a sentence when unknown or invalid."""
    if name not in names():
        raise SpecError(f"There is no preset called '{name}'. Presets: {', '.join(names())}.")
    raw = json.loads((HERE / f"{name}.json").read_text())
    try:
        spec = parse(raw["spec"])
    except SpecError as e:
        raise SpecError(f"Preset '{name}' is not valid: {e}") from None
    return Preset(name, raw["title"], raw["goal"], raw.get("page", "Playground"), spec,
                  raw.get("race"))


def all_presets() -> list[Preset]:
    """Every preset, in name order."""
    return [load(n) for n in names()]
