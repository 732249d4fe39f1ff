"""Sequences' model comparisons: which one a task offers (a record per comparison), the group of
runs it starts (all or none) and the rows its chart reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from nnplay import groups
from nnplay.concepts import DatasetRecord
from nnplay.runs import Run, RunManager
from nnplay.spec import DATASETS, ExperimentSpec, SpecError

R = "model.recurrent."
GROW_CELLS = ("RNN", "LSTM", "GRU")
LENGTHS = (5, 10, 20, 30, 40, 60)  # the sequence lengths offered, and those chosen at first
DEFAULT_LENGTHS = (5, 10, 20)
Variant = tuple[dict, dict]  # (the row's label fields, the spec changes)


def _subset(lengths: Sequence[int]) -> list[Variant]:
    """Bag of words, LSTM and bidirectional LSTM, on the same setup."""
    models = (("Bag of words", "BagOfWords", False), ("LSTM", "LSTM", False),
              ("bidirectional LSTM", "LSTM", True))  # fmt: skip
    return [({"name": name, "kind": "subset"}, {R + "cell": cell, R + "bidirectional": bi})
            for name, cell, bi in models]  # fmt: skip


def _grow(lengths: Sequence[int]) -> list[Variant]:
    """One run per cell and sequence length."""
    return [({"cell": c, "seq_len": n, "kind": "grow"},
             {R + "cell": c, R + "bidirectional": False, "data.seq_len": n})
            for c in GROW_CELLS for n in sorted(lengths)]  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    """A comparison the Sequences page offers for the tasks it fits."""

    kind: str
    button: str
    note: str  # shown above the button; {runs} is the number of runs it starts
    fits: Callable[[DatasetRecord], bool]
    variants: Callable[[Sequence[int]], list[Variant]]
    lengths: bool  # it asks for sequence lengths


COMPARISONS = {c.kind: c for c in (
    Comparison("subset", "Compare on the negation subset",
               "Three runs of this setup that differ only in the model: word order matters for "
               "'good but not great', which a bag of words cannot see.",
               lambda info: info.kind == "tokens", _subset, lengths=False),
    Comparison("grow", "Compare as sequences grow",
               "{runs} runs of this setup, one per cell and length; they queue for free "
               "training slots.", lambda info: info.memory, _grow, lengths=True),
)}  # fmt: skip


def offered(spec: ExperimentSpec) -> Comparison | None:
    """The comparison the spec's task offers (None: none)."""
    info = DATASETS[spec.data.name]
    return next((c for c in COMPARISONS.values() if c.fits(info)), None)


def offered_for() -> str:
    """The tasks that offer a comparison, as a sentence."""
    labels = [i.label for i in DATASETS.values() if any(c.fits(i) for c in COMPARISONS.values())]
    return f"Comparisons are offered for {', '.join(labels)}."


def metric(spec: ExperimentSpec) -> tuple[str, str]:
    """(evaluation key, its name) a length comparison charts: accuracy, or loss for regression."""
    if spec.task == "classification":
        return "test_acc", "test accuracy"
    return "test_loss", "test loss"


def start(manager: RunManager, spec: ExperimentSpec, comparison: Comparison,
          lengths: Sequence[int] = (), owner: str = "") -> tuple[list[dict], str | None]:
    """Start the comparison's runs all or none: (one row per run, with its id, None), or
    ([], a sentence) when a variant does not validate or a limit refuses one."""
    variants = comparison.variants(lengths)
    try:
        specs = [spec.with_changes(changes) for _, changes in variants]
    except SpecError as e:
        return [], str(e)
    ids, refused = groups.start_all(manager, specs, owner)
    return [label | {"id": run_id} for (label, _), run_id in zip(variants, ids)], refused


def last(run: Run | None, key: str) -> float | None:
    """A run's latest evaluation of key (None before the first)."""
    values = run.snapshot()["evals"].get(key) or [] if run is not None else []
    return values[-1] if values else None


def rows(manager: RunManager, group: Sequence[Mapping], metrics: Sequence[str]) -> list[dict]:
    """The group's rows with each run's latest value of every metric."""
    return [dict(row) | {m: last(manager.get(row["id"]), m) for m in metrics} for row in group]


def done(manager: RunManager, group: Sequence[Mapping]) -> bool:
    """Every run of the group has ended (or is gone)."""
    runs = [manager.get(row["id"]) for row in group]
    return all(run is None or run.done for run in runs)
