"""A hostile student with another's run id (from a shared link) tries to pause, step, stop,
rename or delete that run: only the browser that started it can; the operator can stop it."""

from __future__ import annotations

import pytest
import torch

from nnplay import settings
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store

torch.set_num_threads(1)
OWNER, OTHER = "a" * 32, "b" * 32
LONG = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 1000,
                                      "train.max_steps": 1_000_000})  # fmt: skip


@pytest.fixture
def manager(tmp_path):
    m = RunManager(max_runs=2, threads=1, store=Store(tmp_path),
                   limits=Limits(max_steps=10**6, max_epochs=1000))  # fmt: skip
    yield m
    m.close()


def test_only_the_owner_controls_a_run(manager) -> None:
    run = manager.start(LONG, owner=OWNER, paused=True)
    for action in ("pause", "resume", "step", "stop"):
        assert not manager.can_control(run.id, OTHER, action)
        assert manager.control(run.id, OTHER, action) is False
        assert not manager.control(run.id, "", action)  # no cookie is nobody's
    assert run.control.paused and not run.done
    assert not manager.rename(run.id, "mine now", OTHER)
    manager.delete(run.id, OTHER)  # only leaves OTHER's list
    assert manager.get(run.id) is run and run.name == ""
    assert manager.control(run.id, OWNER, "resume") and not run.control.paused
    assert manager.control(run.id, OWNER, "stop")
    assert run.wait(60) and run.status == "stopped"


def test_a_run_opened_by_link_is_listed_but_not_controlled(manager) -> None:
    run = manager.start(LONG, owner=OWNER, paused=True)
    assert manager.open(run.id, OTHER) is run
    listed = [e for e in manager.listing(OTHER) if e["id"] == run.id]
    assert listed and listed[0]["mine"] is False
    assert not manager.can_control(run.id, OTHER)
    manager.stop(run.id)


def test_the_operator_sees_and_stops_any_run_but_nothing_more(manager) -> None:
    run = manager.start(LONG, owner=OWNER, paused=True)
    other = manager.start(LONG, owner=OTHER, paused=True)
    assert {run.id, other.id} <= {e["id"] for e in manager.listing("c" * 32, everyone=True)}
    assert not manager.control(run.id, "c" * 32, "resume", operator=True)
    assert manager.control(run.id, "c" * 32, "stop", operator=True)
    assert run.wait(60) and run.status == "stopped"
    manager.stop(other.id)


def test_the_operator_secret_is_off_by_default_and_compared_whole() -> None:
    assert not settings.is_operator("", {})
    assert not settings.is_operator("anything", {})
    env = {"NNPLAY_ADMIN_TOKEN": "s3cret-s3cret-s3cret"}
    assert settings.is_operator("s3cret-s3cret-s3cret", env)
    assert not settings.is_operator("s3cret-s3cret-s3cre", env)
    assert not settings.is_operator("", env)
