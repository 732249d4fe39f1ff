"""Self-test of the browser harness on a tiny script: server start, Chromium, clicks, isolation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

SCRIPT = """
import os
import streamlit as st

st.session_state.setdefault("presses", 0)
if st.button("Press me", key="press"):
    st.session_state.presses += 1
st.write(f"Pressed {st.session_state.presses} times")
st.write(f"home={os.environ.get('NNPLAY_HOME')}")
"""


@pytest.fixture(scope="module")
def smoke_url(launch_app, tmp_path_factory: pytest.TempPathFactory) -> str:
    script = tmp_path_factory.mktemp("smoke") / "smoke_app.py"
    script.write_text(SCRIPT)
    return launch_app(script)


def test_button_click_reruns_and_updates_text(
    page, smoke_url, wait_connected, screenshot, nnplay_dirs
) -> None:
    page.goto(smoke_url)
    wait_connected(page)
    expect(page.get_by_text("Pressed 0 times")).to_be_visible()

    page.get_by_role("button", name="Press me").click()
    expect(page.get_by_text("Pressed 1 times")).to_be_visible()
    wait_connected(page)

    # The server runs with the test's temporary NNPLAY_HOME, never the real one.
    expect(page.get_by_text(f"home={nnplay_dirs['NNPLAY_HOME']}")).to_be_visible()
    assert str(nnplay_dirs["NNPLAY_HOME"]) != os.environ.get("NNPLAY_HOME")

    shot = screenshot(page, "harness-smoke")
    assert isinstance(shot, Path) and shot.stat().st_size > 0
