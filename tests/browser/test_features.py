"""Engineered inputs in a real browser: a click on an input toggle writes it into the link, and a
run's network view draws that input as a node of its own."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def button(page, name: str):
    """A button of the page itself (Streamlit's header has a Stop button of its own)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def test_a_toggle_adds_an_input_to_the_link_and_the_network_view(app_url, page, wait_connected):
    page.goto(f"{app_url}/?preset=circle-features&train.epochs=2")
    wait_connected(page, timeout=120_000)
    toggles = page.locator(".st-key-data-inputs")
    expect(toggles).to_be_visible()
    toggles.get_by_role("button", name="x₁x₂", exact=True).click()
    expect(page).to_have_url(re.compile(r"data\.inputs=x1%5E2%2Cx2%5E2%2Cx1(\*|%2A)x2|"
                                        r"data\.inputs=x1\^2,x2\^2,x1\*x2"), timeout=90_000)
    button(page, "Train").click()
    expect(page.get_by_text("Finished")).to_be_visible(timeout=120_000)
    network = page.locator(".st-key-network")
    for label in ("x₁²", "x₂²", "x₁x₂"):  # .first: while a chart redraws, its old copy can stay
        expect(network.get_by_text(label, exact=True).first).to_be_visible(timeout=90_000)
