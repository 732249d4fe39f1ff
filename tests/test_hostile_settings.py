"""An operator's typo (or a hostile deploy script) in an NNPLAY_ variable never turns a limit
off: the default stands and one sentence names the variable and what it accepts."""

from __future__ import annotations

import logging

import pytest

from nnplay import runs, settings, store
from nnplay.limits import Limits


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "-5", "0", "lots", "1e999", "0x10",
                                 "1_000", "", "  "])
def test_an_unusable_number_keeps_the_default(raw) -> None:
    limits = Limits.from_env({"NNPLAY_MAX_UPLOAD_MB": raw, "NNPLAY_MAX_STEPS": raw,
                              "NNPLAY_MAX_RUN_SECONDS": raw})  # fmt: skip
    assert limits.max_upload_mb == Limits().max_upload_mb == 20.0
    assert limits.max_steps == Limits().max_steps
    assert limits.max_run_seconds == Limits().max_run_seconds


def test_good_values_are_read() -> None:
    limits = Limits.from_env({"NNPLAY_MAX_UPLOAD_MB": "2.5", "NNPLAY_MAX_STEPS": "+300",
                              "NNPLAY_MAX_QUEUE": "7", "NNPLAY_MAX_RUN_SECONDS": "1e3"})
    assert (limits.max_upload_mb, limits.max_steps, limits.max_queue) == (2.5, 300, 7)
    assert limits.max_run_seconds == 1000.0


def test_each_problem_is_one_sentence_naming_the_variable(caplog) -> None:
    env = {"NNPLAY_MAX_UPLOAD_MB": "nan", "NNPLAY_MAX_RUNS": "four", "NNPLAY_MAX_STEP": "9",
           "NNPLAY_ADMIN_TOKEN": "short", "NNPLAY_MAX_WIDTH": "64"}
    found = settings.problems(env)
    assert len(found) == 4
    upload = next(p for p in found if p.startswith("NNPLAY_MAX_UPLOAD_MB"))
    assert "'nan'" in upload and "a number of at least 1" in upload and "(20.0)" in upload
    assert any("NNPLAY_MAX_STEP is not a setting" in p for p in found)
    assert any("NNPLAY_ADMIN_TOKEN" in p and "16 characters" in p for p in found)
    with caplog.at_level(logging.WARNING, logger="nnplay"):
        Limits.from_env({"NNPLAY_MAX_UPLOAD_MB": "nan-logged"})
        Limits.from_env({"NNPLAY_MAX_UPLOAD_MB": "nan-logged"})
    logged = [r.getMessage() for r in caplog.records if "nan-logged" in r.getMessage()]
    assert len(logged) == 1 and "NNPLAY_MAX_UPLOAD_MB" in logged[0]  # once, not per read


def test_a_non_number_in_max_runs_no_longer_crashes_the_manager(monkeypatch) -> None:
    monkeypatch.setenv("NNPLAY_MAX_RUNS", "four")
    assert runs.default_max_runs() >= 1
    manager = runs.RunManager(limits=Limits())
    assert manager.max_runs >= 1
    manager.close()


def test_a_short_admin_token_stays_off(monkeypatch) -> None:
    assert settings.admin_token({"NNPLAY_ADMIN_TOKEN": "1234"}) == ""
    assert settings.admin_token({"NNPLAY_ADMIN_TOKEN": "x" * 16}) == "x" * 16
    assert settings.admin_token({}) == ""


def test_the_bench_keeps_its_record_under_the_stores_home(monkeypatch, tmp_path) -> None:
    from nnplay import bench

    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path / "~x"))
    assert bench.browser_record_path().parent.parent == store.home()
    monkeypatch.setenv("NNPLAY_HOME", "~/somewhere")
    assert bench.browser_record_path().parent.parent == store.home()
    assert "~" not in str(store.home())


def test_every_limit_has_a_setting() -> None:
    from dataclasses import fields

    from nnplay.limits import env_name

    for f in fields(Limits):
        assert env_name(f.name) in settings.SETTINGS
