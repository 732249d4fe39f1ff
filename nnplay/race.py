"""A fair optimiser race: contenders that differ only in optimiser settings train from one copied
initial state_dict, on the same batches in the same order; a table ranks them.

Fairness comes from two places. Weights: SharedStart builds the data and the model once and hands
every contender a deep copy of that one state_dict. Batches: every contender's spec keeps the
base seed, so train.fit draws the same torch.randperm order each epoch (see Callback.on_epoch).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import torch
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nnplay import groups, train
from nnplay.limits import LimitExceeded
from nnplay.runs import Run, RunManager
from nnplay.spec import (
    OPTIMIZERS,
    ExperimentSpec,
    OptimizerSpec,
    SpecError,
    explain,
    loss_info,
    optimizer_label,
)

MIN_CONTENDERS, MAX_CONTENDERS = 2, 6
FAILED = ("diverged", "failed")


class Contender(BaseModel):
    """One entrant: the optimiser settings it changes from the base experiment (None: keep)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field("", max_length=40, description="name shown in charts (blank: automatic)")
    name: Literal[OPTIMIZERS] | None = None  # type: ignore[valid-type]
    lr: float | None = None
    momentum: float | None = None
    nesterov: bool | None = None
    beta1: float | None = None
    beta2: float | None = None
    weight_decay: float | None = None

    def changes(self) -> dict[str, object]:
        """The dotted-path changes this contender makes, e.g. {"optimizer.lr": 0.1}."""
        fields = self.model_dump(exclude={"label"}, exclude_none=True)
        return {f"optimizer.{key}": value for key, value in fields.items()}

    def apply(self, base: ExperimentSpec) -> ExperimentSpec:
        """The base spec with this contender's optimiser; SpecError when it does not validate."""
        return base.with_changes(self.changes())


class RaceSpec(BaseModel):
    """A race: the base experiment and 2 to 6 contenders that change only its optimiser."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: ExperimentSpec = ExperimentSpec()
    contenders: tuple[Contender, ...] = Field(
        (Contender(name="SGD", lr=0.1), Contender(name="Adam", lr=0.01)),
        min_length=MIN_CONTENDERS, max_length=MAX_CONTENDERS,
    )

    @field_validator("contenders", mode="before")
    @classmethod
    def _how_many(cls, value: object) -> object:
        if isinstance(value, (list, tuple)) and not MIN_CONTENDERS <= len(value) <= MAX_CONTENDERS:
            raise ValueError(f"a race needs {MIN_CONTENDERS} to {MAX_CONTENDERS} contenders, "
                             f"not {len(value)}")
        return value

    @model_validator(mode="after")
    def _contenders_fit(self) -> RaceSpec:
        for i, contender in enumerate(self.contenders, start=1):
            try:
                contender.apply(self.base)
            except SpecError as e:
                raise ValueError(f"contender {i}: {e}") from None
        return self

    def specs(self) -> list[ExperimentSpec]:
        """Each contender's full experiment, in order."""
        return [c.apply(self.base) for c in self.contenders]

    def titles(self) -> list[str]:
        """Each contender's label (its settings when blank), made unique with '#2', '#3'."""
        titles: list[str] = []
        for contender, spec in zip(self.contenders, self.specs()):
            title = contender.label or optimizer_label(spec.optimizer)
            n = sum(1 for t in titles if t == title or t.startswith(f"{title} #"))
            titles.append(f"{title} #{n + 1}" if n else title)
        return titles


def parse_race(obj: object) -> RaceSpec:
    """Validate a dict or JSON text into a RaceSpec; SpecError with readable sentences."""
    try:
        if isinstance(obj, (str, bytes)):
            return RaceSpec.model_validate_json(obj)
        return RaceSpec.model_validate(obj)
    except ValidationError as e:
        raise SpecError(explain(e)) from None


def from_settings(base: ExperimentSpec, contenders: Sequence[Mapping] = (),
                  lr_range: tuple[float, float, int, str | None] | None = None
                  ) -> tuple[RaceSpec | None, str | None]:
    """(the race of these contenders, or the sweep lr_range (lo, hi, n, optimiser) describes,
    None), or (None, a sentence) when it does not validate."""
    try:
        if lr_range is not None:
            return sweep(base, *lr_range), None
        return parse_race({"base": base.model_dump(), "contenders": list(contenders)}), None
    except SpecError as e:
        return None, str(e)


def log_grid(lo: float, hi: float, n: int) -> list[float]:
    """n learning rates evenly spaced on a log scale from lo to hi, to two significant digits."""
    if not (0 < lo < hi) or n < 2:
        raise SpecError("A sweep needs 0 < lowest < highest learning rate and at least 2 points.")
    return sorted({float(f"{v:.2g}") for v in np.geomspace(lo, hi, n)})


def sweep(base: ExperimentSpec, lo: float, hi: float, n: int,
          optimizer: str | None = None) -> RaceSpec:
    """A race of one optimiser (the base's unless named) at n learning rates from lo to hi."""
    grid = log_grid(lo, hi, n)
    if len(grid) < MIN_CONTENDERS:
        raise SpecError("The learning-rate range is too narrow for two distinct rates.")
    contenders = [Contender(label=f"lr={lr:g}", name=optimizer, lr=lr) for lr in grid]
    return parse_race({"base": base.model_dump(), "contenders": [
        c.model_dump(exclude_none=True) for c in contenders]})


# --- running -------------------------------------------------------------------------------------


class SharedStart:
    """The data and one initial state_dict, built on first use and copied into every contender;
    `start` gets the shared weights' step-0 evaluation, which every contender's curves begin at."""

    def __init__(self, base: ExperimentSpec):
        self.base = base
        self._lock = threading.Lock()
        self._built: tuple | None = None  # (dataset, state_dict, device)
        self.start: dict[str, float] = {}  # filled once built: step 0's losses and accuracies

    def initial(self, device: torch.device | None = None) -> tuple:
        """(dataset, initial state_dict, device), built once from the base spec."""
        with self._lock:
            if self._built is None:
                ds, model, device = train.prepare(self.base, device)
                self._built = (ds, copy.deepcopy(model.state_dict()), device)
                self.start.update(step_zero(model, ds, self.base))
            return self._built

    def __call__(self, spec: ExperimentSpec, device: torch.device | None = None) -> tuple:
        """A contender's (dataset, model, device): the shared data and a copy of the weights."""
        ds, state, device = self.initial(device)
        return train.prepare(spec, device, ds=ds, state=copy.deepcopy(state))


def step_zero(model: torch.nn.Module, ds, spec: ExperimentSpec) -> dict[str, float]:
    """The untrained model's evaluation (step 0), as an evals record; it draws no random numbers,
    so the contenders' training is the same with or without it."""
    info = loss_info(spec.loss.name, spec.task)
    loss_fn = train.LOSS_MODULES[spec.loss.name]()
    target = train.TARGETS[info.target]
    k = min(len(ds.x_train), train.EVAL_TRAIN_MAX)
    sets = {"train": (ds.x_train[:k], target(ds.y_train[:k], ds.n_classes), ds.y_train[:k],
                      None if ds.lengths_train is None else ds.lengths_train[:k]),
            "test": (ds.x_test, target(ds.y_test, ds.n_classes), ds.y_test, ds.lengths_test)}
    model.eval()
    record: dict[str, float] = {"step": 0, "epoch": 0}
    with torch.no_grad():
        for name, (x, t, y, lengths) in sets.items():
            loss, acc, _ = train.evaluate(model, x, t, y, loss_fn, info, lengths)
            record[f"{name}_loss"] = loss.item()
            if spec.task == "classification":
                record[f"{name}_acc"] = acc.item()
    return record


def with_start(snaps: Mapping[str, Mapping], start: Mapping[str, float]) -> dict[str, dict]:
    """Snapshots whose evaluations begin with the shared step-0 record (for the race's charts;
    the ranking uses on the contenders' own evaluations)."""
    if not start:
        return dict(snaps)
    out = {}
    for title, snap in snaps.items():
        evals = dict(snap.get("evals") or {})
        n = len(evals.get("step") or [])
        if list(evals.get("step") or [])[:1] != [0]:
            evals["step"] = [0, *(evals.get("step") or [])]
            for key, column in list(evals.items()):
                if key != "step" and isinstance(column, list) and len(column) == n:
                    evals[key] = [start.get(key, math.nan), *column]
        out[title] = {**snap, "evals": evals}
    return out


@dataclass(frozen=True)
class Race:
    """A started race: its spec, one run id per contender, in contender order, and the shared
    start's step-0 evaluation (empty until the first contender has built it)."""

    spec: RaceSpec
    run_ids: tuple[str, ...]
    start: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def runs(self, manager: RunManager) -> list[Run | None]:
        return [manager.get(run_id) for run_id in self.run_ids]

    def snapshots(self, manager: RunManager) -> dict[str, dict]:
        """Contender title -> its run's snapshot (contenders the manager forgot are left out)."""
        return {title: run.snapshot() for title, run in zip(self.spec.titles(), self.runs(manager))
                if run is not None}  # fmt: skip

    def curves(self, manager: RunManager) -> dict[str, dict]:
        """snapshots(), each contender's evaluations starting at the shared step 0."""
        return with_start(self.snapshots(manager), self.start)

    def done(self, manager: RunManager) -> bool:
        return all(run is None or run.done for run in self.runs(manager))

    def paused(self, manager: RunManager) -> bool:
        """Every contender still going is paused (none going: False)."""
        going = [run for run in self.runs(manager) if run is not None and not run.done]
        return bool(going) and all(run.control.paused for run in going)

    def stop(self, manager: RunManager) -> None:
        for run_id in self.run_ids:
            manager.stop(run_id)


def start(manager: RunManager, race: RaceSpec, owner: str = "") -> Race:
    """Start every contender through the manager, all from one SharedStart.

    All or none (groups.start_all): when a limit refuses one contender, those already started
    are deleted and the refusal is raised as LimitExceeded.
    """
    shared = SharedStart(race.base)
    started, refused = groups.start_all(manager, race.specs(), owner, setup=shared)
    if refused is not None:
        raise LimitExceeded(refused)
    return Race(race, started, shared.start)


# --- results -------------------------------------------------------------------------------------


def default_target(snaps: Mapping[str, Mapping]) -> float | None:
    """The loosest best test loss among healthy contenders: the level every one of them reached."""
    bests = [_best(s)[0] for s in snaps.values() if s.get("status") not in FAILED]
    bests = [b for b in bests if math.isfinite(b)]
    return max(bests) if bests else None


def _test_losses(snap: Mapping) -> tuple[np.ndarray, np.ndarray]:
    evals = snap.get("evals") or {}
    steps = np.asarray(evals.get("step", []), dtype=float)
    losses = np.asarray(evals.get("test_loss", []), dtype=float)
    n = min(len(steps), len(losses))
    return steps[:n], losses[:n]


def _best(snap: Mapping) -> tuple[float, float]:
    """(best test loss, its step); (nan, nan) before the first finite evaluation."""
    steps, losses = _test_losses(snap)
    finite = np.isfinite(losses)
    if not finite.any():
        return math.nan, math.nan
    i = int(np.argmin(np.where(finite, losses, np.inf)))
    return float(losses[i]), float(steps[i])


def steps_to(snap: Mapping, target: float) -> float:
    """The first evaluated step whose test loss is at or below target (nan if never)."""
    steps, losses = _test_losses(snap)
    hit = np.nonzero(losses <= target)[0]
    return float(steps[hit[0]]) if len(hit) else math.nan


def ranking(snaps: Mapping[str, Mapping], target: float | None = None) -> pd.DataFrame:
    """One row per contender, best first: final and best test loss, steps to target, wall time.

    Finished and stopped contenders rank by final test loss; diverged and failed ones come last.
    """
    target = default_target(snaps) if target is None else target
    reach = f"steps to test loss ≤ {target:.3g}" if target is not None else "steps to target"
    rows = []
    for title, snap in snaps.items():
        steps, losses = _test_losses(snap)
        best, _ = _best(snap)
        spec = snap.get("spec") or {}
        row = {
            "contender": title,
            "optimizer": optimizer_label(OptimizerSpec(**spec["optimizer"])) if spec else "",
            "status": snap.get("status", ""),
            "final test loss": float(losses[-1]) if len(losses) else math.nan,
            "best test loss": best,
            reach: steps_to(snap, target) if target is not None else math.nan,
        }
        accs = (snap.get("evals") or {}).get("test_acc")
        if snap.get("task") == "classification":
            row["final test accuracy"] = float(accs[-1]) if accs else math.nan
        row["steps"] = (snap.get("progress") or {}).get("step", 0)
        row["wall time (s)"] = float((snap.get("progress") or {}).get("elapsed_s") or 0.0)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    final = table["final test loss"]
    table["_key"] = list(zip(table["status"].isin(FAILED), ~np.isfinite(final),
                             final.fillna(np.inf)))
    table = table.sort_values("_key", kind="stable").drop(columns="_key")
    if (table["optimizer"] == table["contender"]).all():  # blank labels: the same text twice
        table = table.drop(columns="optimizer")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def sweep_points(race: RaceSpec, snaps: Mapping[str, Mapping]) -> dict[str, list]:
    """For a learning-rate sweep: lr, final test loss and status per contender, in lr order."""
    points = []
    for spec, title in zip(race.specs(), race.titles()):
        snap = snaps.get(title)
        if snap is None:
            continue
        _, losses = _test_losses(snap)
        final = float(losses[-1]) if len(losses) else math.nan
        points.append((spec.optimizer.lr, final, snap.get("status", "")))
    points.sort()
    return {"lr": [p[0] for p in points], "loss": [p[1] for p in points],
            "status": [p[2] for p in points]}  # fmt: skip


def run_race(race: RaceSpec, device: torch.device | None = None) -> dict[str, dict]:
    """Run every contender to the end, one after another in this thread (CLI and tests);
    contender title -> snapshot."""
    shared = SharedStart(race.base)
    snaps = {}
    for title, spec in zip(race.titles(), race.specs()):
        run = Run(spec, setup=shared)
        run.execute(device)
        snaps[title] = run.snapshot()
    return snaps


