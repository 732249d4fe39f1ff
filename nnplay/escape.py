"""User strings made inert where they are shown: as Markdown text (Streamlit's st.markdown,
st.caption, st.warning, ...) and as Plotly label text, which renders some HTML (links too)."""

from __future__ import annotations

import html
import re

# The characters that start Markdown's inline constructs, HTML, Streamlit's :red[...]
# directives and $math$; a CommonMark backslash escape makes each one plain text.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#!|~$&@"})
# GFM's autolinks (www.host, http://host, mail@host) are found in the text after escapes are
# undone, so an invisible word joiner goes where they would match.
JOINER = "\u2060"
_WWW = re.compile(r"(?i)(www)\.")
_SCHEME = re.compile(r":(?=//)")
_ORDERED = re.compile(r"^(\d+)(?=[.)])")  # '1.' or '1)' starting a line: a list item


def markdown(text: object) -> str:
    """text shown literally inside Markdown: one line, its markup backslash-escaped."""
    out = _WWW.sub(rf"\1{JOINER}\\.", " ".join(str(text).split()).translate(_MARKDOWN))
    out = _SCHEME.sub(rf"\\:{JOINER}", out).replace("\\@", f"\\@{JOINER}")
    out = _ORDERED.sub(r"\1\\", out)
    return "\\" + out if out[:1] in ("-", "+") else out  # a bullet where it starts a line


def label(text: object) -> str:
    """text shown literally in a Plotly label: <, > and & as entities."""
    return html.escape(str(text), quote=False)
