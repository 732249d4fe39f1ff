"""AppTest helpers: run a page of the real app and poll it while a run trains."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
torch.set_num_threads(1)


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    """The app as AppTest sees it, with its own NNPLAY_HOME."""
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path / "data"))
    return AppTest.from_file(APP, default_timeout=60)


def poll_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 90.0) -> AppTest:
    """Re-run the script (AppTest fires no run_every timers) until done(at) or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        if done(at):
            return at
    raise AssertionError(f"timed out; errors: {[e.value for e in at.error]}")


@pytest.fixture
def poll() -> Callable[..., AppTest]:
    return poll_until
