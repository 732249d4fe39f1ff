"""The app's pages: the file under views/ that draws each, its title, icon and URL path.

app.py builds the navigation from this table, and the glue opens a preset (whose record names its
page by title) on its page with it. Plain data, so the cold page reads it before anything heavy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    title: str
    file: str
    icon: str
    url: str  # its path under the app's address; "" for the default page, served at the root


PAGES = (
    Page("Playground", "views/1_Playground.py", ":material/science:", ""),
    Page("Sequences", "views/2_Sequences.py", ":material/repeat:", "sequences"),
    Page("Compare", "views/3_Compare.py", ":material/sports_score:", "compare"),
    Page("Activations", "views/4_Activations.py", ":material/show_chart:", "activations"),
    Page("Class presets", "views/6_Gallery.py", ":material/school:", "gallery"),
    Page("Runs", "views/5_Runs.py", ":material/folder_open:", "runs"),
)
BY_TITLE = {page.title: page for page in PAGES}
