"""Runs that last, in a real browser: a reload mid-run re-attaches and the loss line keeps
growing from where it was; two browsers do not see each other's runs; an uploaded CSV trains."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import LONG_RUN

LOSS_LINE = ".st-key-loss .scatterlayer .trace:first-child path.js-line"
RUNS_TABLE = ".st-key-runs-table"
RUN_IN_URL = re.compile(r"[?&]run=([0-9a-f]{32})")


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def step_of(page) -> int:
    text = page.get_by_text(re.compile(r"^step [\d,]+ / ")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def line_path(page) -> str:
    """The SVG path of the per-step loss line: it changes as points arrive."""
    return page.locator(LOSS_LINE).first.get_attribute("d") or ""


def first_tick(page) -> float:
    """The smallest step on the loss chart's axis ("1.5k" is 1500): near 1 while the chart
    holds the whole history, near the reload's step if what came before were lost."""
    ticks = page.locator(".st-key-loss .xtick text").all_text_contents()
    return min(float(t.rstrip("k")) * (1000 if t.endswith("k") else 1) for t in ticks)


def run_in_url(page) -> str | None:
    """The run id in the address bar (pushState changes are not in page.url)."""
    found = RUN_IN_URL.search(page.evaluate("location.search"))
    return found.group(1) if found else None


def test_reload_mid_run_reattaches_and_the_loss_keeps_growing(app_url, page, wait_connected,
                                                              screenshot, live_waits):
    page.goto(f"{app_url}/?{LONG_RUN}")  # still training after a reload
    wait_connected(page)
    button(page, "Train").click()
    page.wait_for_function("() => /[?&]run=[0-9a-f]{32}/.test(location.search)", timeout=90_000)
    run_id = run_in_url(page)
    expect(page.locator(LOSS_LINE).first).to_be_attached(timeout=120_000)
    page.wait_for_function(  # some history to lose, if it were lost
        "() => { const m = document.body.innerText.match(/step ([\\d,]+) \\//);"
        " return m && parseInt(m[1].replace(/,/g, '')) >= 100; }", timeout=120_000)
    before_step = step_of(page)
    screenshot(page, "runs-before-reload")

    page.reload()
    expect(page.locator(LOSS_LINE).first).to_be_attached(timeout=120_000)
    assert run_in_url(page) == run_id
    expect(button(page, "Stop")).to_be_enabled()  # the controls drive the same run
    assert step_of(page) >= before_step
    assert first_tick(page) < before_step / 2  # the whole history is drawn, from the start
    line_changed, step_past = live_waits
    line_changed(page, LOSS_LINE, line_path(page))
    step_past(page, before_step)
    screenshot(page, "runs-reattached")
    try:
        button(page, "Stop").click(timeout=5_000)  # free the CPU for the next test
    except PlaywrightTimeout:
        pass  # it had already finished


def test_two_browsers_do_not_see_each_others_runs(app_url, browser, wait_connected, screenshot):
    alice = browser.new_context(viewport={"width": 1400, "height": 1000})
    bob = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = alice.new_page()
        page.goto(f"{app_url}/?data.name=xor&train.epochs=2")
        wait_connected(page)
        button(page, "Train").click()
        expect(page.get_by_text("Finished.")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("Finished.")).to_be_visible()
        assert any(c["name"] == "nnplay_owner" for c in alice.cookies())
        page.goto(f"{app_url}/runs")
        wait_connected(page)
        expect(page.locator(RUNS_TABLE)).to_contain_text("XOR", timeout=90_000)
        page.reload()  # the cookie keeps this browser's list
        wait_connected(page)
        expect(page.locator(RUNS_TABLE)).to_contain_text("XOR", timeout=90_000)
        screenshot(page, "runs-list")

        other = bob.new_page()
        other.goto(f"{app_url}/runs")
        wait_connected(other)
        expect(other.get_by_text("No runs yet")).to_be_visible(timeout=90_000)
        expect(other.locator(RUNS_TABLE)).to_have_count(0)
    finally:
        alice.close()
        bob.close()


def test_upload_a_csv_and_train_on_it(app_url, page, wait_connected, screenshot, tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(size=300)
    good = tmp_path / "flowers.csv"
    pd.DataFrame({"petal": a, "sepal": b, "colour": rng.choice(["red", "white"], 300),
                  "kind": np.where(a - b > 0, "iris", "rose")}).to_csv(good, index=False)
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 40)

    page.goto(f"{app_url}/?train.epochs=5")
    wait_connected(page)
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name="Your CSV (upload)").click()
    wait_connected(page)
    uploader = page.locator(".st-key-csv-upload input[type=file]")
    uploader.set_input_files(str(junk))
    expect(page.get_by_text(re.compile(r"junk\.csv: This file is not a CSV"))).to_be_visible(
        timeout=90_000)
    uploader.set_input_files(str(good))
    expect(page.get_by_text(re.compile(r"flowers\.csv.*300 rows × 4 columns"))).to_be_visible(
        timeout=90_000)
    expect(page.get_by_text(re.compile(r"Task: classification \(inferred\), classes iris, rose"))
           ).to_be_visible()
    expect(page.get_by_role("combobox", name="Target column (what to predict)")).to_have_value(
        "kind")
    wait_connected(page)
    button(page, "Train").click()
    expect(page.get_by_text("Finished.")).to_be_visible(timeout=90_000)
    query = page.evaluate("location.search")
    assert "data.name=csv" in query and "data.target=kind" in query
    screenshot(page, "csv-trained")
