"""The Playground in a real browser: press Train, watch the loss chart grow, press Stop."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import LONG_RUN

LOSS_LINE = ".st-key-loss .scatterlayer .trace:first-child path.js-line"


def line_path(page) -> str:
    """The SVG path of the per-step loss line: it changes as points arrive."""
    path = page.locator(LOSS_LINE)
    return (path.first.get_attribute("d") or "") if path.count() else ""


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def step_of(page) -> int:
    text = page.get_by_text(re.compile(r"^step [\d,]+ / ")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def test_train_then_stop(app_url, page, wait_connected, screenshot, live_waits):
    page.goto(f"{app_url}/?{LONG_RUN}")  # minutes: time to press Stop
    wait_connected(page)
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()
    button(page, "Train").click()

    expect(page.locator(LOSS_LINE).first).to_be_attached(timeout=90_000)
    first_path, first_step = line_path(page), step_of(page)
    line_changed, step_past = live_waits
    line_changed(page, LOSS_LINE, first_path)
    step_past(page, first_step)
    screenshot(page, "playground-training")

    button(page, "Stop").click()
    expect(page.get_by_text(re.compile(r"Stopped at step"))).to_be_visible(timeout=90_000)
    expect(button(page, "Train")).to_be_enabled(timeout=90_000)  # a loaded machine
    screenshot(page, "playground-stopped")


LAYOUT = """(want) => {
    const box = (key) => {
        const e = document.querySelector('.st-key-' + key);
        const r = e && e.getBoundingClientRect();
        return r && r.width > 0 ? r : null;
    };
    const loss = box('loss'), accuracy = box('accuracy'), row = box('stage-row');
    if (!loss || !accuracy || !row) return false;
    const [settings, stage] = [...document.querySelectorAll(
        ".st-key-stage-row > div > [data-testid='stHorizontalBlock'] > [data-testid='stColumn']"
    )].map((c) => c.getBoundingClientRect());
    if (want === 'side by side')
        return accuracy.left > loss.left + loss.width / 2 && loss.width < 0.4 * row.width &&
            stage.left >= settings.right;
    return accuracy.top >= loss.bottom - 1 && loss.width > 0.8 * row.width &&  // stacked, wide
        stage.top >= settings.bottom - 1;  // the run below its settings
}"""


def test_presentation_mode_gives_the_charts_the_width(app_url, page, wait_connected, screenshot):
    """On a 1024 px projector, presentation mode puts the settings above the run and the charts
    one above the other, each as wide as the page; without it they sit side by side. (Checked in
    the page, so that a chart redrawn meanwhile is measured once it is back.)"""
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"{app_url}/?train.epochs=3")
    wait_connected(page)
    button(page, "Train").click()
    page.wait_for_function(LAYOUT, arg="side by side", timeout=90_000)

    page.get_by_text("Presentation mode").click()
    page.wait_for_function(LAYOUT, arg="stacked", timeout=90_000)
    screenshot(page, "presentation-1024")
