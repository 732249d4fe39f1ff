"""The network view in a real browser: the unit pictures change while a spiral run trains, the
first hidden unit is looked at closely beside it, and a click on another unit looks at that one."""

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


# Unit i's click target (the "units" markers over the pictures), scrolled into the window: its
# position in the window and its label (the first line of its hover text).
UNIT_AT = """(i) => {
    const gd = document.querySelector('.st-key-network .js-plotly-plot');
    gd.scrollIntoView({block: 'center'});
    const scatters = gd.data.filter((t) => t.type === 'scatter');
    const k = scatters.findIndex((t) => t.name === 'units');
    const trace = gd.querySelectorAll('.scatterlayer .trace')[k];
    const r = trace.querySelectorAll('path.point')[i].getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2, scatters[k].text[i].split('<br>')[0]];
}"""


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

    # a click on the second hidden unit (inputs x1, x2, then fc1's units) looks at it instead
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    x, y, label = page.evaluate(UNIT_AT, 3)
    assert label.startswith("fc1 · ReLU, unit ") and label != "fc1 · ReLU, unit 0"
    page.mouse.click(x, y)
    expect(closer).to_contain_text(label)
    expect(page.locator(".st-key-network-unit input")).to_have_value(label)  # and the list
