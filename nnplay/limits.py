"""Limits for a shared server: how big and how long one run may be, and how many runs one
browser session may have at once. Each comes from an NNPLAY_ variable; a refusal is one
sentence that names the limit and the variable that changes it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from nnplay import settings
from nnplay.spec import ExperimentSpec


class LimitExceeded(ValueError):
    """A run this server refuses; the message is one sentence for the page."""


def _default(field_name: str) -> object:
    return settings.default(f"NNPLAY_{field_name.upper()}")


@dataclass(frozen=True)
class Limits:
    """The limits of one server; the defaults (nnplay.settings) keep a 2-core machine
    responsive."""

    max_layers: int = _default("max_layers")  # hidden Linear (or recurrent) layers
    max_width: int = _default("max_width")  # units of one layer
    max_samples: int = _default("max_samples")  # training samples of one run
    max_steps: int = _default("max_steps")  # optimiser steps of one run
    max_epochs: int = _default("max_epochs")
    max_seq_len: int = _default("max_seq_len")  # time steps of one sequence
    max_session_runs: int = _default("max_session_runs")  # active runs of one browser
    max_pause_minutes: float = _default("max_pause_minutes")  # a paused run's slot, others queued
    max_unwatched_minutes: float = _default("max_unwatched_minutes")  # ... no page showing it
    max_upload_mb: float = _default("max_upload_mb")  # size of an uploaded CSV
    max_columns: int = _default("max_columns")  # columns of an uploaded CSV
    max_features: int = _default("max_features")  # an uploaded CSV's width once encoded
    max_data_mb: float = _default("max_data_mb")  # one dataset's arrays in memory
    max_run_seconds: float = _default("max_run_seconds")  # a run's training time (its budget)
    max_queue: int = _default("max_queue")  # runs waiting, all browsers together
    max_home_mb: float = _default("max_home_mb")  # checkpoints kept under NNPLAY_HOME
    max_keyframes_mb: float = _default("max_keyframes_mb")  # keyframes kept under NNPLAY_HOME

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """Limits from NNPLAY_MAX_* variables (e.g. NNPLAY_MAX_STEPS=50000), else defaults; a
        value that is not a number of at least 1 keeps the default (and is reported)."""
        return cls(**{f.name: settings.value(env_name(f.name), env) for f in fields(cls)})

    def check(self, spec: ExperimentSpec, train_size: int) -> None:
        """Raise LimitExceeded with one sentence for the first limit spec goes over; train_size
        is the dataset's (sizes.estimated_train_size gives it without building the data)."""
        for name, measure, sentence in CHECKS:
            value = measure(spec, train_size)
            limit = getattr(self, name)
            if value is not None and value > limit:
                raise LimitExceeded(f"{sentence(value, limit)}; {env_name(name)} sets this "
                                    f"limit.")

    def check_session(self, active: int) -> None:
        """Raise LimitExceeded when a session already has its most runs at once."""
        if active >= self.max_session_runs:
            raise LimitExceeded(
                f"You already have {active} runs queued or training, the most one browser may "
                f"have at once on this server, so stop one first; "
                f"{env_name('max_session_runs')} sets this limit."
            )


def table(limits: Limits) -> list[dict[str, object]]:
    """Each limit as a row for the page: what it bounds, its value and its variable."""
    return [{"At most": f"{getattr(limits, f.name):,g} {settings.SETTINGS[env_name(f.name)].what}",
             "Set by": env_name(f.name)} for f in fields(limits)]  # fmt: skip


def env_name(field_name: str) -> str:
    """The variable that sets a limit: max_steps -> NNPLAY_MAX_STEPS."""
    return f"NNPLAY_{field_name.upper()}"


def total_steps(spec: ExperimentSpec, n_train: int) -> int:
    """Optimiser steps a run will take (train.Plan's rule, without importing torch)."""
    steps = math.ceil(max(n_train, 1) / spec.train.batch_size) * spec.train.epochs
    return min(steps, spec.train.max_steps) if spec.train.max_steps else steps


def _widths(spec: ExperimentSpec) -> list[int]:
    widths = [getattr(layer, "units", 0) for layer in spec.model.layers]
    rnn = spec.model.recurrent
    if rnn is not None:
        widths += [rnn.hidden_size, rnn.embedding_dim]
    return widths


def _depth(spec: ExperimentSpec, n: int) -> int:
    """Linear layers of the stack, plus recurrent layers."""
    rnn = spec.model.recurrent
    linear = sum(1 for layer in spec.model.layers if layer.type == "linear")
    return linear + (rnn.num_layers if rnn is not None else 0)


def _seq_len(spec: ExperimentSpec, n: int) -> int | None:
    return spec.data.length or None


Measure = Callable[[ExperimentSpec, int], int | None]
CHECKS: list[tuple[str, Measure, Callable[[int, int], str]]] = [
    ("max_layers", _depth,
     lambda v, m: f"This model has {v} layers; this server allows at most {m}"),
    ("max_width", lambda s, n: max(_widths(s), default=0),
     lambda v, m: f"A layer of {v:,} units is wider than this server allows ({m:,})"),
    ("max_samples", lambda s, n: n,
     lambda v, m: f"This dataset has {v:,} training samples; this server trains on at most "
                  f"{m:,}, so choose a subset or a smaller set"),
    ("max_epochs", lambda s, n: s.train.epochs,
     lambda v, m: f"{v:,} epochs is more than this server allows ({m:,})"),
    ("max_steps", total_steps,
     lambda v, m: f"This run would take {v:,} steps; this server allows at most {m:,}, so "
                  f"lower the epochs, raise the batch size or set a step limit"),
    ("max_seq_len", _seq_len,
     lambda v, m: f"Sequences of {v:,} steps are longer than this server allows ({m:,})"),
]  # fmt: skip
