"""Tests for nnplay.groups: a group of runs starts all or none."""

from __future__ import annotations

from nnplay import groups
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec

BASE = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 200})


def specs(n: int) -> list[ExperimentSpec]:
    return [BASE.with_changes({"optimizer.lr": 0.01 * (i + 1)}) for i in range(n)]


def test_the_refusal_of_the_third_run_leaves_no_run_of_the_group_behind():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=2))
    try:
        ids, refused = groups.start_all(manager, specs(3), owner="t")
        assert ids == ()
        assert "2 runs queued or training" in refused  # the limit's own sentence
        assert manager.runs("t") == [] and manager.active("t") == 0
        assert manager.runs() == []  # nothing left for anyone: not queued, not training
    finally:
        manager.close()


def test_a_group_within_the_limits_starts_every_run_in_order():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=3))
    try:
        ids, refused = groups.start_all(manager, specs(3), owner="t")
        assert refused is None and len(ids) == 3
        assert [manager.get(i).spec.optimizer.lr for i in ids] == [0.01, 0.02, 0.03]
        assert {r.id for r in manager.runs("t")} == set(ids)
    finally:
        manager.close()


def test_another_owners_runs_are_left_alone_when_a_group_is_refused():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=2))
    try:
        other = manager.start(BASE, owner="other")
        ids, refused = groups.start_all(manager, specs(3), owner="t")
        assert ids == () and refused
        assert [r.id for r in manager.runs()] == [other.id]
    finally:
        manager.close()
