"""The network view in a real browser: the unit pictures change while a spiral run trains, and the
first hidden unit is looked at closely beside it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import LONG_RUN

PICTURES = ".st-key-network image"  # the one image trace holding every unit's picture


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def pictures(page) -> str:
    """The PNG of every unit's picture, as the chart has it now ('' before it is drawn)."""
    found = page.locator(PICTURES)
    return (found.first.get_attribute("href") or "") if found.count() else ""


def test_the_unit_pictures_change_while_a_spiral_run_trains(app_url, page, wait_connected):
    page.goto(f"{app_url}/?preset=spiral&{LONG_RUN}")  # minutes
    wait_connected(page, timeout=120_000)  # a loaded class server answers slowly
    button(page, "Train").click()
    page.wait_for_function(  # plotly sets the image's PNG just after adding the element
        """(sel) => (document.querySelector(sel)?.getAttribute('href') || '')
            .startsWith('data:image/png;base64,')""", arg=PICTURES, timeout=120_000)
    first = pictures(page)
    page.wait_for_function(
        """([sel, before]) => {
            const e = document.querySelector(sel);
            const now = e && e.getAttribute('href');
            return now && now !== before;
        }""",
        arg=[PICTURES, first], timeout=120_000,
    )
    # the first hidden unit, looked at closely beside the list
    closer = page.locator(".st-key-network-closer .gtitle").first
    expect(closer).to_contain_text("fc1 · ReLU, unit 0")
    button(page, "Stop").click(force=True)  # the charts above redraw every second
    expect(page.get_by_text(re.compile(r"Stopped at step"))).to_be_visible(timeout=90_000)
