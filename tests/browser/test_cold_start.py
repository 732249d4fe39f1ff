"""A freshly started server's first page: the settings are on screen while the server is still
starting PyTorch (its line is up), not after; then Train comes and the line goes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, _Server

# Recorded in the page from its first paint on: whether the "Starting PyTorch" line was on
# screen at the moment the Dataset control first was, and whether Train came after.
WATCH = """(() => {
  window.__cold = {};
  const look = () => {
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    const c = window.__cold;
    if (main) {
      const starting = main.innerText.includes('Starting PyTorch');
      if (c.startingSeen === undefined && starting) c.startingSeen = true;
      if (c.settingsWithStarting === undefined && main.querySelector('.st-key-data-name'))
        c.settingsWithStarting = starting;
      const train = [...main.querySelectorAll('button')].some(
        (b) => b.innerText.trim() === 'Train');
      if (c.trainWithStarting === undefined && train) c.trainWithStarting = starting;
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();"""


@pytest.fixture
def cold_url(nnplay_dirs: dict[str, Path], tmp_path: Path):
    """A server of its own, started for this test: its first page is a cold start."""
    env = {**os.environ, **{k: str(v) for k, v in nnplay_dirs.items()}, "PYTHONUNBUFFERED": "1"}
    server = _Server(REPO / "app.py", env, tmp_path)
    try:
        server.wait_healthy()
        yield server.url
    finally:
        server.stop()


def test_the_settings_show_while_torch_loads(cold_url, page, wait_connected, screenshot) -> None:
    page.add_init_script(WATCH)
    page.goto(cold_url)
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=180_000)
    wait_connected(page)
    expect(main.get_by_text("Starting PyTorch")).to_have_count(0)
    seen = page.evaluate("window.__cold")
    screenshot(page, "cold-start-done")
    assert seen.get("startingSeen"), seen
    assert seen.get("settingsWithStarting") is True, seen  # the settings did not wait for torch
    expect(main.locator(".st-key-data-name")).to_be_visible()
