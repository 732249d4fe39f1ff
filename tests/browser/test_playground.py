"""The Playground in a real browser: press Train, watch the loss chart grow, press Stop."""

from __future__ import annotations

import re

from playwright.sync_api import expect

LOSS_LINE = ".st-key-loss .scatterlayer .trace:first-child path.js-line"


def line_length(page) -> int:
    """Characters in the SVG path of the per-step loss line: it grows as points arrive."""
    path = page.locator(LOSS_LINE)
    return len(path.first.get_attribute("d") or "") if path.count() else 0


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def step_of(page) -> int:
    text = page.get_by_text(re.compile(r"^step [\d,]+ / ")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def test_train_then_stop(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/?train.epochs=300&data.n_samples=2000")  # long enough to press Stop
    wait_connected(page)
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()
    button(page, "Train").click()

    expect(page.locator(LOSS_LINE).first).to_be_attached(timeout=30_000)
    first_len, first_step = line_length(page), step_of(page)
    page.wait_for_function(
        f"() => (document.querySelector('{LOSS_LINE}')?.getAttribute('d') || '').length"
        f" > {first_len}",
        timeout=30_000,
    )
    assert step_of(page) > first_step
    screenshot(page, "playground-training")

    button(page, "Stop").click()
    expect(page.get_by_text(re.compile(r"Stopped at step"))).to_be_visible(timeout=30_000)
    expect(button(page, "Train")).to_be_enabled()
    screenshot(page, "playground-stopped")
