"""Compare in a real browser: open the SGD-vs-Adam card from the class presets, check its
contenders, run the three-optimiser race and see three curves and a three-row ranking."""

from __future__ import annotations

from playwright.sync_api import expect

TEST_LOSS = ".st-key-race-test_loss"
RACERS = ("SGD lr=0.01", "SGD lr=0.01 momentum=0.9", "Adam lr=0.003")


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def enabled(page, name: str):
    """The page's enabled button called name: while the race's controls redraw, a stale
    disabled copy can stand beside the new one for a moment."""
    return button(page, name).and_(page.locator(":enabled")).first


def test_three_optimiser_race_from_the_gallery(app_url, page, wait_connected, screenshot):
    page.goto(app_url)
    wait_connected(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Class presets").click()
    wait_connected(page)
    card = page.locator(".st-key-card-sgd-vs-adam-digits")
    expect(card).to_contain_text("SGD vs Adam on digits")
    card.get_by_role("button", name="Open").click()
    wait_connected(page)

    expect(page.get_by_role("heading", name="Compare optimisers")).to_be_visible()
    assert "preset=sgd-vs-adam-digits" in page.url
    boxes = [page.locator(f".st-key-contender-box-{i}") for i in range(3)]
    for box, optimiser in zip(boxes, ("SGD", "SGD", "Adam")):
        expect(box.get_by_role("combobox", name="Optimiser")).to_have_value(optimiser)
    expect(page.locator(".st-key-c1-momentum")).to_contain_text("0.90")
    expect(page.locator(".st-key-c2-lr")).to_contain_text("0.003")

    button(page, "Train").click()
    expect(enabled(page, "Stop")).to_be_visible(timeout=90_000)
    expect(page.locator(f"{TEST_LOSS} .scatterlayer .trace").first).to_be_attached(timeout=120_000)
    screenshot(page, "compare-racing")
    expect(enabled(page, "Train")).to_be_visible(timeout=180_000)  # every contender finished

    curves = page.locator(f"{TEST_LOSS} .scatterlayer .trace")
    expect(curves).to_have_count(3)
    legend = page.locator(f"{TEST_LOSS} .legend")
    for name in RACERS:
        expect(legend).to_contain_text(name)
    ranking = page.get_by_test_id("stDataFrame")
    expect(ranking).to_be_visible()
    expect(page.get_by_test_id("stDownloadButton")).to_be_visible()
    screenshot(page, "compare-finished")
