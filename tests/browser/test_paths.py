"""Compare's surface mode in a real browser: moving one optimiser's learning rate redraws its
path (read from the plotly figure the page shows), and Play moves the dots without losing the
contours."""

from __future__ import annotations

from playwright.sync_api import expect

PLOT = ".st-key-surface-figure .js-plotly-plot"
# The x values of the path trace called `name`, as the page's figure holds them ('' if none).
PATH = """([sel, name]) => {
    const gd = document.querySelector(sel);
    const t = gd && gd.data && gd.data.find(d => d.name === name && d.customdata);
    return t ? JSON.stringify(t.x) : '';
}"""
COMPLETE = ("(sel) => { const gd = document.querySelector(sel);"
            " return !!(gd && gd.layout && gd.layout.sliders); }")


def test_moving_a_learning_rate_redraws_its_path(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/compare?surface=rosenbrock")
    # a cold server imports torch and its optimisers first: the first paths can take minutes
    # on a busy machine
    page.wait_for_function(COMPLETE, arg=PLOT, timeout=300_000)
    wait_connected(page)  # and the page is settled: the run that follows complete paths is over
    before = page.evaluate(PATH, [PLOT, "Adam lr=0.1"])
    sgd = page.evaluate(PATH, [PLOT, "SGD lr=0.001"])
    assert before and sgd

    box = page.locator(".st-key-s2-lr")
    expect(box).to_contain_text("0.1")  # the setup's value is on the slider before it moves
    thumb = box.get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowLeft")  # one notch down the learning-rate grid: 0.1 -> 0.03
    expect(box).to_contain_text("0.03")
    page.wait_for_function(
        "([sel, name]) => { const gd = document.querySelector(sel);"
        " return !!(gd && gd.layout.sliders && gd.data.find(d => d.name === name)); }",
        arg=[PLOT, "Adam lr=0.03"], timeout=120_000)
    after = page.evaluate(PATH, [PLOT, "Adam lr=0.03"])
    assert after and after != before
    assert page.evaluate(PATH, [PLOT, "SGD lr=0.001"]) == sgd  # the others are unchanged
    assert "c3=Adam%2Clr%3D0.03" in page.url or "c3=Adam,lr=0.03" in page.url

    page.locator(f"{PLOT} .updatemenu-button").first.click()  # Play
    page.wait_for_function(  # the slider leaves the last step: the animation runs
        "(sel) => { const s = document.querySelector(sel + ' .slider-container');"
        " return s && !/step 300$/.test(s.textContent.trim().split(' ').slice(-2).join(' ')); }",
        arg=PLOT, timeout=90_000)
    assert page.locator(f"{PLOT} g.contourlayer path").count() > 10  # the contours stay
    screenshot(page, "compare-paths")
