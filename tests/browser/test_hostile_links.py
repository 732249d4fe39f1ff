"""A hostile link in a real browser: Markdown and HTML in it are shown as text, never drawn as
an image or a clickable link on the student's page."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect

ATTACK = "![x](http://evil.example/p.png) [log in](http://evil.example) www.evil.example <b>b</b>"


def test_a_hostile_preset_name_is_plain_text(app_url, page, wait_connected, screenshot):
    page.goto(f"{app_url}/compare?preset={quote(ATTACK)}")
    wait_connected(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="no preset called")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("[log in](http:")  # the reader sees the text as typed
    expect(alert.locator("a")).to_have_count(0)
    expect(alert.locator("img")).to_have_count(0)
    expect(alert.locator("b")).to_have_count(0)
    screenshot(page, "hostile-preset-link")


def test_unknown_link_keys_are_plain_text(app_url, page, wait_connected):
    page.goto(f"{app_url}/?{quote(ATTACK)}=1")
    wait_connected(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="could not be used")
    expect(alert).to_be_visible()
    expect(alert.locator("a")).to_have_count(0)
    expect(alert.locator("img")).to_have_count(0)
