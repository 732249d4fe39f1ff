"""Shareable links in a real browser: a preset link and a full link restore the controls."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def control(page, key: str):
    """The element Streamlit draws for the widget with this key."""
    return page.locator(".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key))


def choice(page, key: str):
    """The text field of a selectbox, whose value is the option shown."""
    return control(page, key).get_by_role("combobox")


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def test_preset_link_shows_the_preset(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/?preset=xor")
    wait_connected(page)
    expect(choice(page, "data.name")).to_have_value("XOR")
    expect(control(page, "data.n_samples")).to_contain_text("500")
    expect(page).to_have_url(re.compile(r"data\.name=xor"))  # the address bar spells it out
    tab(page, "Model")
    expect(page.get_by_text("(fc1): Linear(in_features=2, out_features=8")).to_be_visible()
    page.get_by_text("PyTorch code", exact=True).click()
    expect(page.get_by_text("self.fc1 = nn.Linear(2, 8)")).to_be_visible()
    screenshot(page, "link-preset-xor")


def test_the_playground_by_name_is_the_playground(app_url, page, wait_connected):
    """/playground (what a person types after seeing /sequences) opens the Playground at the
    root, the link's preset and all, without Streamlit's "Page not found" dialog."""
    page.goto(f"{app_url}/playground?preset=xor")
    wait_connected(page)
    expect(choice(page, "data.name")).to_have_value("XOR")
    expect(page).to_have_url(re.compile(r"://[^/]+/\?.*data\.name=xor"))  # at the root
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()


def test_full_link_restores_the_controls(app_url, page, wait_connected, screenshot):
    query = ("data.name=moons&layers=linear:4,relu&optimizer.name=SGD&optimizer.lr=0.1"
             "&optimizer.momentum=0.9&train.batch_size=8&train.epochs=7&train.l2=0.001")
    page.goto(f"{app_url}/?{query}")
    wait_connected(page)
    expect(choice(page, "data.name")).to_have_value("Two moons")
    tab(page, "Training")
    expect(choice(page, "optimizer.name")).to_have_value("SGD")
    expect(control(page, "optimizer.lr")).to_contain_text("0.1")
    expect(control(page, "optimizer.momentum")).to_contain_text("0.90")
    expect(control(page, "train.batch_size").locator("input")).to_have_value("8")
    expect(control(page, "train.epochs").locator("input")).to_have_value("7")
    expect(control(page, "train.l2").locator("input")).to_have_value("0.00100")
    tab(page, "Model")
    expect(page.get_by_text("(fc1): Linear(in_features=2, out_features=4")).to_be_visible()
    page.get_by_role("button", name="Copy link").click()
    link = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    for part in ("data.name=moons", "optimizer.lr=0.1", "layers=linear:4,relu"):
        expect(link).to_contain_text(part)
    screenshot(page, "link-full")


def test_bad_link_is_a_warning_not_a_crash(app_url, page, wait_connected):
    page.goto(f"{app_url}/?optimizer.lr=fast&layers=linear:0&nonsense=1")
    wait_connected(page)
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("optimizer.lr=fast")
    expect(warning).to_contain_text("layers=linear:0")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(choice(page, "data.name")).to_have_value("Spiral")
