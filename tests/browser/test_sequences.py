"""The Sequences page in a real browser: train the sentiment-bilstm preset, then type a sentence
and read the prediction and the hidden state per word."""

from __future__ import annotations

import re

from playwright.sync_api import expect

EPOCHS = 4  # the preset's 15 give the same answer; a short run keeps the test quick


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def test_train_sentiment_then_read_a_sentence(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/sequences?preset=sentiment-bilstm&train.epochs={EPOCHS}")
    wait_connected(page)
    expect(page.get_by_role("heading", name="Sequences")).to_be_visible()
    close = page.get_by_role("button", name="Close")  # Streamlit's "Page not found" on a cold start
    if close.count():
        close.first.click()
    page.get_by_role("tab", name="Model").click()
    summary = page.locator("code").filter(has_text="SequenceModel(")  # print(model)
    expect(summary.filter(has_text="bidirectional=True")).to_be_visible()
    button(page, "Train").click()
    expect(page.get_by_text(re.compile(r"^Finished"))).to_be_visible(timeout=240_000)
    # the finished run's last full redraw; a machine still busy with earlier tests' servers
    # can take a while over it
    expect(page.locator(".st-key-seq-hidden .heatmaplayer").first).to_be_attached(
        timeout=120_000)
    screenshot(page, "sequences-trained")

    box = page.get_by_label("Your sentence")
    box.fill("honestly the acting was not bad but great, zebra")
    box.press("Enter")
    button(page, "Read it").click()
    expect(page.get_by_text("Not in the vocabulary, left out: zebra.")).to_be_visible(
        timeout=120_000)
    verdict = page.get_by_text(re.compile(r"^Prediction: positive"))
    expect(verdict).to_be_visible(timeout=120_000)
    assert "honestly the acting was not bad but great" in verdict.inner_text()
    expect(page.locator(".st-key-tryit-hidden .heatmaplayer").first).to_be_attached(
        timeout=120_000)
    screenshot(page, "sequences-try-it")

    box.fill("the acting was good but not great")
    box.press("Enter")
    button(page, "Read it").click()
    expect(page.get_by_text(re.compile(r"^Prediction: negative"))).to_be_visible(timeout=120_000)
