"""Compare's surface mode in a real browser: a click on the contour plot moves the start point
(the Start x/y boxes and the figure's title follow), and a click on the same point again, after
the start was moved elsewhere, still counts."""

from __future__ import annotations

from playwright.sync_api import expect

PLOT = ".st-key-surface-figure .js-plotly-plot"
COMPLETE = ("(sel) => { const gd = document.querySelector(sel);"
            " return !!(gd && gd.layout && gd.layout.sliders); }")
# Where the data point (x, y) of the contour plot is on the screen.
WHERE = """([sel, x, y]) => {
    const gd = document.querySelector(sel), box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)];
}"""
TITLE = ("([sel, text]) => { const gd = document.querySelector(sel);"
         " return !!(gd && gd.layout.sliders && gd.layout.title.text.includes(text)); }")


def click_at(page, x: float, y: float) -> None:
    """Click the contour plot at the data point (x, y), once the figure is complete."""
    page.wait_for_function(COMPLETE, arg=PLOT, timeout=120_000)
    px, py = page.evaluate(WHERE, [PLOT, x, y])
    # plotly selects the point under the pointer, which its hover finds: move there and wait
    # for the hover label before the click
    page.mouse.move(px - 4, py - 4)
    page.mouse.move(px, py, steps=4)
    expect(page.locator(f"{PLOT} .hoverlayer")).to_contain_text("click to start here")
    page.mouse.click(px, py)


def expect_start(page, x: str, y: str, title: str) -> None:
    expect(page.locator(".st-key-surface-x0 input")).to_have_value(x, timeout=120_000)
    expect(page.locator(".st-key-surface-y0 input")).to_have_value(y, timeout=120_000)
    page.wait_for_function(TITLE, arg=[PLOT, f"paths from ({title})"], timeout=120_000)


def test_clicking_the_contour_plot_moves_the_start(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/compare?surface=rosenbrock")
    # a cold server imports torch and its optimisers first: the first paths can take minutes
    # on a busy machine
    page.wait_for_function(COMPLETE, arg=PLOT, timeout=300_000)
    wait_connected(page)
    expect_start(page, "-1.200", "1.000", "-1.2, 1")

    click_at(page, 0.5, 2.0)  # a point of the click grid: 41 points over x -2..2, y -1..3
    expect_start(page, "0.500", "2.000", "0.5, 2")
    assert "start=0.5%2C2" in page.url or "start=0.5,2" in page.url

    click_at(page, -1.0, 0.0)
    expect_start(page, "-1.000", "0.000", "-1, 0")
    click_at(page, 0.5, 2.0)  # the first point again: a repeated selection still moves it
    expect_start(page, "0.500", "2.000", "0.5, 2")
    screenshot(page, "compare-paths-clicked-start")
