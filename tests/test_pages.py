"""The one table of pages (nnplay.pages): every page file is in it once and exists, one page is
the default, and every preset's page is one of them."""

from __future__ import annotations

from pathlib import Path

from nnplay import pages, presets

ROOT = Path(__file__).resolve().parents[1]


def test_every_view_is_a_page_once_and_every_page_a_view() -> None:
    files = [page.file for page in pages.PAGES]
    assert sorted(files) == sorted(f"views/{p.name}" for p in (ROOT / "views").glob("*.py"))
    assert len(set(files)) == len(files)


def test_one_default_page_and_distinct_titles_and_paths() -> None:
    assert [page.url for page in pages.PAGES].count("") == 1
    assert len({page.url for page in pages.PAGES}) == len(pages.PAGES)
    assert len(pages.BY_TITLE) == len(pages.PAGES)


def test_every_preset_opens_on_a_page_of_the_table() -> None:
    assert {presets.load(name).page for name in presets.names()} <= set(pages.BY_TITLE)
