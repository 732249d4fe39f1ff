"""Scrubbing on the Sequences page in a real browser: a finished sentiment run offers a slider
over its keyframes; moving it redraws the hidden-state and gate heatmaps from that keyframe's
model (their titles say the step) and puts a cursor at that step on the loss chart."""

from __future__ import annotations

import re

from playwright.sync_api import expect

SETUP = "preset=sentiment-bilstm&data.n_samples=400&train.epochs=3"


def shown(key: str) -> str:
    """The element with this key as drawn now: while a rerun moves it, the one it replaces is
    still there, marked stale, for a moment."""
    return f'.st-key-{key}:not([data-stale="true"])'


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def step_shown(page, selector: str, pattern: str) -> str:
    """The step (group 1 of pattern) in the text under selector, as soon as it is shown."""
    return page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel);"
        " const m = el && el.textContent.match(new RegExp(pat)); return m ? m[1] : null; }",
        arg=[selector, pattern], timeout=60_000).json_value()


def test_the_timeline_redraws_the_heatmaps_at_a_keyframe(app_url, page, wait_connected,
                                                         screenshot):
    page.goto(f"{app_url}/sequences?{SETUP}")
    wait_connected(page)
    close = page.get_by_role("button", name="Close")  # Streamlit's "Page not found" on a cold start
    if close.count():
        close.first.click()
    button(page, "Train").click()
    expect(page.get_by_text(re.compile(r"^Finished"))).to_be_visible(timeout=240_000)
    thumb = page.locator(".st-key-seq-branch-step").get_by_role("slider")
    expect(thumb).to_be_visible(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(page.locator(f"{shown('seq-hidden')} .heatmaplayer").first).to_be_attached(
        timeout=120_000)
    expect(page.locator(shown("seq-hidden"))).not_to_contain_text("at step")
    thumb.focus()
    thumb.press("Home")  # the first keyframe: the initial weights
    step = step_shown(page, shown("seq-loss"), r"showing step ([\d,]+)")
    assert step == "0"
    expect(page.locator(shown("seq-hidden"))).to_contain_text(f"at step {step}")
    expect(page.locator(shown("seq-gates"))).to_contain_text(f"at step {step}")
    expect(page.locator(shown("seq-accuracy"))).to_contain_text(f"showing step {step}")
    screenshot(page, "sequences-scrubbed")
    thumb.press("End")  # back to the run as it ended: no cursor
    expect(page.locator(shown("seq-loss"))).not_to_contain_text("showing step",
                                                                 timeout=60_000)
    expect(page.locator(shown("seq-hidden"))).not_to_contain_text("at step")
