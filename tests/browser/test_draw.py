"""Draw your own data in a real browser: a click on the canvas adds a point where it lands, a
second click on the same place adds another, and in erase mode a click removes the nearest."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from nnplay import drawn

# three points of each class, far from the canvas's centre
START = drawn.encode([[(5, 5), (6, 5), (5, 6)], [(58, 58), (57, 58), (58, 57)]])
CANVAS = '[class*="st-key-draw-canvas-"] .js-plotly-plot'

# The window position of a point of the plane on the canvas.
WHERE = """([sel, x, y]) => {
    const gd = document.querySelector(sel);
    gd.scrollIntoView({block: 'center'});
    const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


def drawn_count(page) -> int:
    """The drawing's points as the canvas draws them (its class traces)."""
    return page.evaluate("""(sel) => {
        const gd = document.querySelector(sel);
        return gd ? gd._fullData.slice(1).reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : -1;
    }""", CANVAS)


def click_at(page, x: float, y: float) -> None:
    page.wait_for_selector(CANVAS)
    left, top = page.evaluate(WHERE, [CANVAS, x, y])
    page.mouse.click(left, top)


def test_a_click_on_the_canvas_adds_a_point_there(app_url, page, wait_connected):
    page.goto(f"{app_url}/?data.name=draw&data.points={START}")
    wait_connected(page, timeout=120_000)
    caption = page.get_by_text(re.compile(r"^\d+ points:"))
    expect(caption.first).to_contain_text("6 points", timeout=90_000)
    click_at(page, 0.3, -0.2)
    expect(caption.first).to_contain_text("7 points: class 0 4, class 1 3", timeout=90_000)
    page.wait_for_function("""(sel) => {
        const gd = document.querySelector(sel);
        const t = gd && gd._fullData[1];
        return t && t.x.length === 4 && Math.abs(t.x[3] - 0.3) < 0.04 &&
            Math.abs(t.y[3] + 0.2) < 0.04;
    }""", arg=CANVAS)  # the new point sits where the click landed
    click_at(page, 0.3, -0.2)  # the same place again: another point
    expect(caption.first).to_contain_text("8 points: class 0 5, class 1 3", timeout=90_000)
    page.get_by_text("adds class 1").click()
    click_at(page, -0.6, 0.7)
    expect(caption.first).to_contain_text("9 points: class 0 5, class 1 4", timeout=90_000)
    page.get_by_text("erases", exact=True).click()
    click_at(page, 0.31, -0.21)  # the nearest point: one of the two just added
    expect(caption.first).to_contain_text("8 points: class 0 4, class 1 4", timeout=90_000)
    assert drawn_count(page) == 8
    expect(caption.first).to_contain_text("fewer than 10 points every point trains")
    expect(page).to_have_url(re.compile(r"data\.points=[A-Za-z0-9_-]{8}"), timeout=90_000)
