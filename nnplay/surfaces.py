"""Loss surfaces of two parameters, for watching optimisers move over them.

Each surface is a function f(x, y) written with arithmetic operators only, so the same function
steps a torch.nn.Parameter of two values (nnplay.paths, and the exported script) and fills the
numpy grid its contour plot is drawn from. A record beside it says where to look (the plot's
box), where to start, and where its minima (or saddle) are. This module imports nothing of ours
but the spec and no torch, so a page can validate a setup and draw its contours without torch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nnplay.spec import OPTIMIZERS, OptimizerSpec, SpecError, explain, optimizer_label

MAX_CONTENDERS = 6
MAX_STEPS = 2000
PRESETS = Path(__file__).parent / "presets" / "surfaces"


# --- the functions (operators only: numpy arrays and torch tensors alike) ------------------------


def bowl(x, y, condition=10.0, angle=0.0):
    """An elongated quadratic bowl: curvature 1 across its valley and 1/condition along it, the
    valley turned by angle degrees from the x axis."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    along, across = c * x + s * y, c * y - s * x
    return 0.5 * (along**2 / condition + across**2)


def rosenbrock(x, y):
    """Rosenbrock's banana: a narrow curved valley with its minimum at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def beale(x, y):
    """Beale's function: flat plateaus, steep walls, its minimum at (3, 0.5)."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def saddle(x, y):
    """A saddle: a minimum along x, a maximum along y, no lowest point at all."""
    return x**2 - y**2


def himmelblau(x, y):
    """Himmelblau's function: four minima, all at 0, around a hill."""
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


@dataclass(frozen=True)
class Mark:
    """A point worth marking on the plot: a minimum, a saddle point or a maximum."""

    x: float
    y: float
    kind: Literal["minimum", "saddle", "maximum"] = "minimum"


@dataclass(frozen=True)
class SurfaceInfo:
    """A surface: its function, the plot's box, the default start and its marked points."""

    label: str
    fn: Callable[..., Any]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    marks: tuple[Mark, ...]
    lesson: str
    floor: float | None = 0.0  # its lowest value (contours on a log scale above it); None: none
    settings: tuple[str, ...] = ()  # SurfaceSpec fields the function takes as keywords


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                     (3.584428, -1.848126))  # fmt: skip

SURFACES: dict[str, SurfaceInfo] = {
    "bowl": SurfaceInfo(
        "Ill-conditioned bowl", bowl, (-5.0, 5.0), (-5.0, 5.0), (-4.5, 3.0),
        (Mark(0.0, 0.0),),
        "Steep across, shallow along: a step size that is safe across crawls along.",
        settings=("condition", "angle"),
    ),
    "rosenbrock": SurfaceInfo(
        "Rosenbrock's valley", rosenbrock, (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0),
        (Mark(1.0, 1.0),),
        "Finding the valley is easy; following its curve to (1, 1) is the hard part.",
    ),
    "beale": SurfaceInfo(
        "Beale's function", beale, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5),
        (Mark(3.0, 0.5),),
        "Plateaus where gradients vanish beside walls where they explode.",
    ),
    "saddle": SurfaceInfo(
        "Saddle x² − y²", saddle, (-2.0, 2.0), (-2.0, 2.0), (-1.8, 0.001),
        (Mark(0.0, 0.0, "saddle"),),
        "No minimum: what matters is how fast each optimiser leaves the saddle point.",
        floor=None,
    ),
    "himmelblau": SurfaceInfo(
        "Himmelblau's four minima", himmelblau, (-5.0, 5.0), (-5.0, 5.0), (-0.3, -0.8),
        tuple(Mark(x, y) for x, y in HIMMELBLAU_MINIMA) + (Mark(-0.270845, -0.923039,
                                                                "maximum"),),
        "Four equal minima: which one an optimiser ends in depends on how it moves.",
    ),
}


# --- a setup -------------------------------------------------------------------------------------


class SurfaceSpec(BaseModel):
    """One picture: a surface (and its settings), a start point, a number of steps and the
    optimisers that each step their own copy of the start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    surface: Literal[tuple(SURFACES)] = "rosenbrock"  # type: ignore[valid-type]
    condition: float = Field(10.0, ge=1.0, le=1000.0, description="condition number (bowl)")
    angle: float = Field(0.0, ge=0.0, le=90.0, description="valley angle in degrees (bowl)")
    start: tuple[float, float] = (-1.2, 1.0)
    steps: int = Field(300, ge=1, le=MAX_STEPS, description="steps")
    contenders: tuple[OptimizerSpec, ...] = Field(
        (OptimizerSpec(name="SGD", lr=0.001), OptimizerSpec(name="SGD", lr=0.001, momentum=0.9),
         OptimizerSpec(name="Adam", lr=0.1)),
        min_length=1, max_length=MAX_CONTENDERS,
    )  # fmt: skip

    @property
    def info(self) -> SurfaceInfo:
        return SURFACES[self.surface]

    @model_validator(mode="after")
    def _start_inside(self) -> SurfaceSpec:
        (x0, x1), (y0, y1) = self.info.x_range, self.info.y_range
        x, y = self.start
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise ValueError(f"the start ({x:g}, {y:g}) is outside the plot of "
                             f"{self.info.label}: x from {x0:g} to {x1:g}, y from {y0:g} "
                             f"to {y1:g}")  # fmt: skip
        return self

    def settings(self) -> dict[str, float]:
        """The keyword arguments the surface's function takes, e.g. {"condition": 10.0}."""
        return {name: getattr(self, name) for name in self.info.settings}

    def value(self, x, y):
        """f(x, y) on this surface, for numbers, numpy arrays or torch tensors."""
        return self.info.fn(x, y, **self.settings())

    def titles(self) -> list[str]:
        """Each contender's settings as its name, made unique with '#2', '#3'."""
        titles: list[str] = []
        for opt in self.contenders:
            title = optimizer_label(opt)
            n = sum(1 for t in titles if t == title or t.startswith(f"{title} #"))
            titles.append(f"{title} #{n + 1}" if n else title)
        return titles


def parse(obj: object) -> SurfaceSpec:
    """Validate a dict or JSON text into a SurfaceSpec; SpecError with readable sentences."""
    try:
        if isinstance(obj, (str, bytes)):
            return SurfaceSpec.model_validate_json(obj)
        return SurfaceSpec.model_validate(obj)
    except ValidationError as e:
        raise SpecError(explain(e)) from None


def far_box(info: SurfaceInfo) -> tuple[float, float, float, float]:
    """(x_lo, x_hi, y_lo, y_hi): the plot's box grown by its own size on every side; a path
    that leaves it has left the picture for good and stops there."""
    (x0, x1), (y0, y1) = info.x_range, info.y_range
    w, h = x1 - x0, y1 - y0
    return x0 - w, x1 + w, y0 - h, y1 + h


# --- the contour grid ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _grid(surface: str, settings: tuple[tuple[str, float], ...], n: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    info = SURFACES[surface]
    xs = np.linspace(*info.x_range, n)
    ys = np.linspace(*info.y_range, n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n): rows are y
    z = np.asarray(info.fn(gx, gy, **dict(settings)), dtype=float)
    for a in (xs, ys, z):
        a.setflags(write=False)
    return xs, ys, z


def grid(spec: SurfaceSpec, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, z) over the plot's box, z[i, j] = f(xs[j], ys[i]); cached and read-only."""
    return _grid(spec.surface, tuple(sorted(spec.settings().items())), n)


def log_levels(z: np.ndarray, floor: float) -> np.ndarray:
    """log10 of the height above the floor, for contours on a log scale: the tiny offset keeps
    the minimum itself finite, a few decades below the lowest level drawn."""
    height = np.maximum(z - floor, 0.0)
    top = float(np.nanmax(height)) if height.size else 1.0
    return np.log10(height + max(top, 1e-12) * 1e-7)


# --- links ---------------------------------------------------------------------------------------

DEFAULT = SurfaceSpec()
OPTIMIZER_FIELDS = tuple(key for key in OptimizerSpec.model_fields if key != "name")


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def encode_optimizer(opt: OptimizerSpec) -> str:
    """'SGD,lr=0.1,momentum=0.9': the name, then the settings that differ from the defaults."""
    default = OptimizerSpec(name=opt.name)
    parts = [opt.name]
    for key in OPTIMIZER_FIELDS:
        value = getattr(opt, key)
        if value != getattr(default, key):
            text = str(value).lower() if isinstance(value, bool) else _number(value)
            parts.append(f"{key}={text}")
    return ",".join(parts)


def decode_optimizer(text: str) -> OptimizerSpec:
    """The inverse of encode_optimizer; SpecError with a sentence for anything else."""
    name, *items = [s.strip() for s in text.split(",")[:10]]
    names = {n.lower(): n for n in OPTIMIZERS}
    if name.lower() not in names:
        raise SpecError(f"'{name[:40]}' is not an optimiser ({', '.join(OPTIMIZERS)})")
    fields: dict[str, object] = {"name": names[name.lower()]}
    for item in items:
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or key not in OPTIMIZER_FIELDS:
            raise SpecError(f"'{item[:40]}' is not one of {', '.join(OPTIMIZER_FIELDS)}=VALUE")
        fields[key] = value
    try:
        return OptimizerSpec.model_validate(fields)
    except ValidationError as e:
        raise SpecError(explain(e)) from None


def to_params(spec: SurfaceSpec) -> dict[str, str]:
    """The URL parameters of a setup: surface= always (it says which mode), the rest when it
    differs from the defaults; contenders as c1=SGD,lr=0.1 … c6=."""
    params = {"surface": spec.surface}
    for key in spec.info.settings:
        if getattr(spec, key) != getattr(DEFAULT, key):
            params[key] = _number(getattr(spec, key))
    if spec.start != spec.info.start:
        params["start"] = ",".join(_number(v) for v in spec.start)
    if spec.steps != DEFAULT.steps:
        params["steps"] = str(spec.steps)
    for i, opt in enumerate(spec.contenders, start=1):
        params[f"c{i}"] = encode_optimizer(opt)
    return params


PARAM_KEYS = ("surface", "condition", "angle", "start", "steps",
              *(f"c{i}" for i in range(1, MAX_CONTENDERS + 1)))  # fmt: skip


def from_params(params: Mapping[str, object]) -> tuple[SurfaceSpec, list[str]]:
    """(setup, warnings) from URL parameters; never raises. A bad value is one warning and the
    default takes its place."""
    values = {k: str(v[-1] if isinstance(v, (list, tuple)) and v else v)[:200]
              for k, v in params.items() if k in PARAM_KEYS}  # fmt: skip
    warnings: list[str] = []
    name = values.get("surface", DEFAULT.surface).strip().lower()
    if name not in SURFACES:
        warnings.append(f"surface={name[:40]} is not a surface ({', '.join(SURFACES)}); "
                        f"showing {DEFAULT.surface}.")  # fmt: skip
        name = DEFAULT.surface
    tree: dict[str, object] = {"surface": name, "start": SURFACES[name].start}
    for key in ("condition", "angle", "steps", "start"):
        if key not in values:
            continue
        value: object = values[key]
        if key == "start":
            try:
                value = tuple(float(p) for p in values[key].split(","))
            except ValueError:
                pass
        try:  # each value on its own, so that one bad value costs only itself
            SurfaceSpec.model_validate({"surface": name, key: value})
            tree[key] = value
        except ValidationError as e:
            warnings.append(f"{key}={values[key][:40]} is not valid ({explain(e)}); using the "
                            "default.")  # fmt: skip
    contenders = []
    for i in range(1, MAX_CONTENDERS + 1):
        if f"c{i}" in values:
            try:
                contenders.append(decode_optimizer(values[f"c{i}"]))
            except SpecError as e:
                warnings.append(f"c{i}={values[f'c{i}'][:40]} is not valid ({e}); left out.")
    if contenders:
        tree["contenders"] = tuple(contenders)
    return SurfaceSpec.model_validate(tree), warnings


# --- presets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurfacePreset:
    """A named picture for a class: a surface, a start and contenders, with what to look for."""

    name: str
    title: str
    goal: str
    spec: SurfaceSpec
    page: str = "Compare"


@cache
def preset_names() -> tuple[str, ...]:
    """Every surface preset's name, sorted."""
    return tuple(sorted(p.stem for p in PRESETS.glob("*.json")))


def load_preset(name: str) -> SurfacePreset:
    """The surface preset called name; SpecError with a sentence when unknown or invalid."""
    if name not in preset_names():
        raise SpecError(f"There is no surface preset called '{name}'.")
    raw = json.loads((PRESETS / f"{name}.json").read_text())
    try:
        spec = parse(raw["surface"])
    except SpecError as e:
        raise SpecError(f"Surface preset '{name}' is not valid: {e}") from None
    return SurfacePreset(name, raw["title"], raw["goal"], spec)


def all_presets() -> list[SurfacePreset]:
    """Every surface preset, in name order."""
    return [load_preset(n) for n in preset_names()]
