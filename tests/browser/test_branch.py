"""The timeline and Branch from here, in a real browser: a finished Playground run offers a
slider over its keyframes; moving it redraws the page at that step (a cursor on the loss chart),
and Branch from here starts a new run (its id in the address bar) whose loss chart draws the
parent's curve up to the chosen step, marked there, and its own curve after it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

RUN_IN_URL = re.compile(r"[?&]run=([0-9a-f]{32})")


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def run_in_url(page) -> str | None:
    found = RUN_IN_URL.search(page.evaluate("location.search"))
    return found.group(1) if found else None


def shown_text(page, selector: str, pattern: str) -> str:
    """The first group of pattern in the text shown under selector, read in the same moment it
    is seen: a notice may be gone again by the next rerun (a short branch finishes at once)."""
    return page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel);"
        " const m = el && el.textContent.match(new RegExp(pat)); return m ? m[1] : null; }",
        arg=[selector, pattern], timeout=60_000).json_value()


def test_branch_from_here_starts_a_run_whose_curve_starts_at_the_parents_step(
        app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/?train.epochs=10")
    wait_connected(page)
    button(page, "Train").click()
    expect(page.get_by_text("Finished.").first).to_be_visible(timeout=120_000)
    expect(button(page, "Branch from here")).to_be_visible(timeout=60_000)
    parent = run_in_url(page)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    thumb = page.locator(".st-key-branch-step").get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowLeft")  # one keyframe back from the end
    loss = page.locator(".st-key-loss")
    shown = shown_text(page, ".st-key-loss", r"showing step ([\d,]+)")  # the page shows the
    # run at that keyframe
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    button(page, "Branch from here").click()
    step = shown_text(page, "body", r"Branched from step ([\d,]+)")
    assert step == shown
    page.wait_for_function(f"() => /[?&]run=[0-9a-f]{{32}}/.test(location.search) && "
                           f"!location.search.includes('{parent}')", timeout=30_000)
    expect(page.get_by_text("Finished.").first).to_be_visible(timeout=120_000)
    expect(loss.get_by_text(f"branched at step {step}")).to_be_visible(timeout=60_000)
    expect(loss.get_by_text("parent (smoothed)")).to_be_visible()
    screenshot(page, "branched")
