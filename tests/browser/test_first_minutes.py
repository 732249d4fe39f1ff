"""The first five minutes as a teacher sees them: every label readable, controls that show the
state of the click just made, losses that fit the data after any one change, and charts that
never empty between two frames of a live run. At 1400 px, and at 1024 px in presentation mode."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import LONG_RUN

WIDTHS = [pytest.param(1400, False, id="1400"), pytest.param(1024, True, id="1024-presenting")]

# Every visible button's label and every text field's value, cut short by its box: a label
# box narrower than its text (an ellipsis) or squeezed to nothing, a value wider than its field.
CLIPPED = """() => {
  const shown = (e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  const cut = [];
  for (const b of document.querySelectorAll('button')) {
    const text = b.innerText.trim();
    if (!shown(b) || !text) continue;
    const label = b.querySelector('[data-testid=stMarkdownContainer]');
    if (label && (label.scrollWidth > label.clientWidth + 1 || label.clientWidth < 4))
      cut.push(text);
  }
  for (const i of document.querySelectorAll('[data-testid=stMain] input[type=number]')) {
    if (shown(i) && i.scrollWidth > i.clientWidth + 1) cut.push(i.getAttribute('aria-label'));
  }
  const copy = document.querySelector('[data-testid=stPopoverBody] [data-testid=stCode] button');
  if (copy && getComputedStyle(copy).opacity !== '1') cut.push('the copy button of the link');
  return cut;
}"""


def main(page):
    return page.get_by_test_id("stMainBlockContainer")


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return main(page).get_by_role("button", name=name, exact=True)


def open_page(page, url: str, width: int, presenting: bool, wait_connected) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.set_default_timeout(90_000)  # a loaded machine; the tests wait on what the page shows
    page.goto(url)
    wait_connected(page, timeout=120_000)
    expect(page.locator("h1").first).to_be_visible()
    if presenting:
        page.get_by_text("Presentation mode").click()
        page.wait_for_function("getComputedStyle(document.documentElement).fontSize === '22px'")
        wait_connected(page, timeout=120_000)


def assert_readable(page, where: str) -> None:
    """No clipped label, once the page's script has finished and its layout has settled (a tab
    just opened or a row still wrapping can measure short for a moment)."""
    page.wait_for_function("document.querySelector('[data-testid=stApp]')"
                           ".getAttribute('data-test-script-state') === 'notRunning'")
    try:
        page.wait_for_function(f"({CLIPPED})().length === 0", timeout=20_000)
    except PlaywrightTimeout:
        raise AssertionError(f"{where}: labels cut short: {page.evaluate(CLIPPED)}") from None


@pytest.mark.parametrize(("width", "presenting"), WIDTHS)
def test_every_label_reads_in_full(app_url, page, wait_connected, screenshot, width, presenting):
    open_page(page, f"{app_url}/", width, presenting, wait_connected)
    for tab in ("Data", "Model", "Training"):
        main(page).get_by_role("tab", name=tab, exact=True).click()
        assert_readable(page, f"Playground, {tab} tab")
    screenshot(page, f"first-minutes-model-{width}")
    main(page).get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("This link reopens exactly this setup")).to_be_visible()
    assert_readable(page, "Playground, Copy link")
    page.keyboard.press("Escape")
    for path, name in (("sequences", "Sequences"), ("compare", "Compare")):
        open_page(page, f"{app_url}/{path}", width, False, wait_connected)
        for tab in ("Data", "Model", "Training") if name == "Sequences" else ():
            main(page).get_by_role("tab", name=tab, exact=True).click()
            assert_readable(page, f"{name}, {tab} tab")
        assert_readable(page, name)


@pytest.mark.parametrize(("width", "presenting"), WIDTHS)
def test_pause_resume_and_step_show_at_once(app_url, page, wait_connected, screenshot, width,
                                            presenting):
    """Each click's new state (which buttons work, "Paused") is on the page it reruns; a long
    run, so that no end of the run redraws the buttons instead."""
    open_page(page, f"{app_url}/?{LONG_RUN}", width, presenting,
              wait_connected)
    button(page, "Train").click()
    expect(button(page, "Pause")).to_be_enabled()
    expect(button(page, "Resume")).to_be_disabled()
    expect(button(page, "Step")).to_be_disabled()

    button(page, "Pause").click()
    expect(main(page).get_by_text("Paused.", exact=False)).to_be_visible()
    expect(button(page, "Resume")).to_be_enabled()
    expect(button(page, "Step")).to_be_enabled()
    expect(button(page, "Pause")).to_be_disabled()
    expect(main(page).get_by_text(re.compile(r" left$"))).to_have_count(0)  # no time left

    button(page, "Step").click()
    expect(button(page, "Resume")).to_be_enabled()
    expect(main(page).get_by_text("Paused.", exact=False)).to_be_visible()
    screenshot(page, f"first-minutes-paused-{width}")

    button(page, "Resume").click()
    expect(button(page, "Pause")).to_be_enabled()
    expect(button(page, "Resume")).to_be_disabled()
    expect(main(page).get_by_text("Paused.", exact=False)).to_have_count(0)

    button(page, "Stop").click(no_wait_after=True)  # its rerun may move the URL
    expect(button(page, "Train")).to_be_enabled(timeout=90_000)  # a loaded machine


def open_box(page, key: str) -> None:
    """Open the selectbox with this widget key, scrolled to the middle of the window first: at
    the window's bottom edge (1024 px in presentation mode) its list would open out of sight."""
    box = page.locator(f".st-key-{key} [role=combobox]")
    box.evaluate("(e) => e.scrollIntoView({block: 'center'})")
    box.click()
    expect(page.get_by_role("option").first).to_be_visible()


def choose(page, key: str, option: str) -> None:
    """Pick option in the selectbox with this widget key."""
    open_box(page, key)
    page.get_by_role("option", name=option, exact=True).click()


def losses_offered(page) -> list[str]:
    """The names in the Loss box's list, read by opening it."""
    main(page).get_by_role("tab", name="Training", exact=True).click()
    open_box(page, "loss-name")
    names = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    return names


@pytest.mark.parametrize(("width", "presenting"), WIDTHS)
def test_the_losses_fit_the_data_after_any_one_change(app_url, page, wait_connected, width,
                                                      presenting):
    open_page(page, f"{app_url}/?loss.name=BCEWithLogitsLoss", width, presenting,
              wait_connected)
    choose(page, "data-classes", "3")  # spiral: a BCE loss takes exactly two classes
    expect(main(page).get_by_text("BCEWithLogitsLoss does not fit this dataset "
                                  "(classification, 3 classes); switched to "
                                  "CrossEntropyLoss.")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(button(page, "Train")).to_be_enabled(timeout=90_000)  # a loaded machine
    offered = losses_offered(page)
    assert "CrossEntropyLoss" in offered and not {"BCELoss", "BCEWithLogitsLoss"} & set(offered)

    main(page).get_by_role("tab", name="Data", exact=True).click()
    choose(page, "data-name", "Sine (1D regression)")
    expect(main(page).get_by_text("CrossEntropyLoss does not fit this dataset (regression); "
                                  "switched to MSELoss.")).to_be_visible()
    offered = losses_offered(page)
    assert "MSELoss" in offered and "CrossEntropyLoss" not in offered

    main(page).get_by_role("tab", name="Data", exact=True).click()
    choose(page, "data-name", "Your CSV (upload)")  # not yet uploaded: a hint, not an error
    expect(main(page).get_by_text("Upload a CSV file above to train on it")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


# In the page, every 100 ms from Train on: which chart slots of the run area hold a drawn chart
# (one with a height), and which of those stand blank (no SVG). Each chart is one Plotly element
# that every live frame redraws in place (ui.chart), so a chart once drawn is never blank again.
SAMPLE = """() => {
  window.__charts = [];
  window.__blank = [];
  const slot = (e) => {
    const s = e.closest('[class*="st-key-"]');
    return s ? [...s.classList].find((c) => c.startsWith('st-key-')).slice(7) : '?';
  };
  window.__sampler = setInterval(() => {
    const held = [...document.querySelectorAll('[data-testid=stMain] .nn-chart')]
      .filter((e) => e.getBoundingClientRect().height > 20);
    window.__charts.push([...new Set(held.map(slot))].sort().join(' '));
    window.__blank.push(held.filter((e) => !e.querySelector('svg.main-svg')).map(slot).join(' '));
  }, 100);
}"""
FIRST_FULL_FRAME = "window.__charts.findIndex((s) => s.split(' ').length >= 4)"


@pytest.mark.parametrize(("width", "presenting"), WIDTHS)
def test_the_charts_never_empty_between_frames(app_url, page, wait_connected, screenshot,
                                               width, presenting):
    """From the data drawn before Train, through the first frame of the run and every live
    frame after it, the run area always shows charts: the previous frame stays until the next
    one is drawn."""
    open_page(page, f"{app_url}/?{LONG_RUN}", width, presenting,
              wait_connected)
    expect(page.locator(".st-key-view .js-plotly-plot")).to_be_visible()  # the data, before
    page.evaluate(SAMPLE)
    button(page, "Train").click()
    # Ten samples (a second, several on a loaded machine) after the first full frame.
    try:
        page.wait_for_function(f"{FIRST_FULL_FRAME} >= 0 && "
                               f"window.__charts.length > {FIRST_FULL_FRAME} + 10",
                               timeout=180_000)
    except PlaywrightTimeout:
        raise AssertionError("no full frame followed by 10 samples; chart slots per sample: "
                             f"{page.evaluate('window.__charts')}") from None
    samples = page.evaluate("clearInterval(window.__sampler) || window.__charts")
    blank = [b for b in page.evaluate("window.__blank") if b]
    screenshot(page, f"first-minutes-live-{width}")
    button(page, "Stop").click(no_wait_after=True)  # its rerun may move the URL
    expect(button(page, "Train")).to_be_enabled(timeout=90_000)  # a loaded machine
    slots = [set(s.split()) for s in samples]
    assert all(slots), f"the run area emptied: {samples}"
    first = next(i for i, s in enumerate(slots) if len(s) >= 4)
    gone = [(i, slots[i - 1] - slots[i]) for i in range(first + 1, len(slots))
            if slots[i - 1] - slots[i]]
    assert not gone, f"charts vanished between frames (sample, slots): {gone}"
    assert not blank, f"charts stood blank between frames: {blank}"
