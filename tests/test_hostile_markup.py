"""A hostile student puts Markdown or HTML in a link, a CSV's class and column names, a race
contender's label or a run's name, hoping it draws images or clickable links on another
student's page: every such string is shown escaped, in Markdown and in Plotly's labels."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnplay import charts, escape

ATTACKS = [
    "![tracker](http://evil.example/pixel.png)",
    "[enter your password here](http://evil.example/login)",
    "<a href='http://evil.example'>click</a>",
    "<img src=x onerror=alert(1)>",
    "www.evil.example/login",
    "http://evil.example",
    "mail@evil.example",
    ":red[big red text] :material/warning:",
    "$\\frac{1}{0}$",
    "**bold** _it_ `code` ~~gone~~",
    "# heading",
    "- a list",
    "1. a list",
    "| a | table |",
]
UNSAFE = re.compile(r"(?<!\\)([\[\]()<>!`*_$#|~@&]|://)")  # markup left unescaped


def unescape(text: str) -> str:
    """What a CommonMark renderer shows for backslash-escaped text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(escape.JOINER, "")


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_escape_leaves_no_markup(attack) -> None:
    out = escape.markdown(attack)
    assert not UNSAFE.search(out.replace("\\\\", "")), out
    assert unescape(out) == attack  # and the reader sees exactly what was typed
    assert "www." not in out.lower() and "http:" not in out


@given(st.text(max_size=60).map(lambda t: t.replace(escape.JOINER, "")))
def test_markdown_escape_is_lossless_and_inert(text) -> None:
    out = escape.markdown(text)
    assert unescape(out) == " ".join(text.split())
    assert "\n" not in out
    assert not UNSAFE.search(out.replace("\\\\", ""))


def test_plain_words_stay_as_they_are() -> None:
    assert escape.markdown("no-such-thing") == "no-such-thing"
    assert escape.markdown("Spiral · 16-Tanh · Adam lr 0.01") == "Spiral · 16-Tanh · Adam lr 0.01"


HTML = "<a href='http://evil.example'>click</a>"


def make_snap(view: dict | None = None) -> dict:
    """A small classification run's snapshot: steps, evaluations and a view."""
    steps = np.arange(1, 51)
    return {"task": "classification", "status": "running", "view": view or {},
            "steps": {"step": steps, "loss": 1 / steps, "penalty": 0 * steps},
            "evals": {"step": [10, 50], "test_loss": [0.5, 0.2], "train_loss": [0.5, 0.2],
                      "test_acc": [0.6, 0.9], "train_acc": [0.6, 0.9]}}  # fmt: skip


def images_view(classes: int) -> dict:
    rng = np.random.default_rng(0)
    return {"kind": "images", "confusion": rng.integers(0, 50, (classes, classes)),
            "images": rng.uniform(0, 1, (4, 28, 28)), "true": [0, 1, 2, 0],
            "pred": [1, 2, 0, 2]}  # fmt: skip


def boundary_view() -> dict:
    g = np.linspace(-3, 3, 20)
    xx, yy = np.meshgrid(g, g)
    x = np.random.default_rng(0).uniform(-3, 3, (30, 2))
    return {"kind": "boundary", "x": g, "y": g, "prob": 1 / (1 + np.exp(-xx)),
            "cls": (xx > 0).astype(int), "conf": np.tanh(np.hypot(xx, yy)),
            "train": (x, (x[:, 0] > 0).astype(int)), "test": (x[:9], (x[:9, 0] > 0).astype(int))}


def _figure_text(fig) -> str:
    return json.dumps(fig.to_dict(), default=str)


def test_class_names_in_charts_are_escaped() -> None:
    view = images_view(classes=3) | {"class_names": [HTML, "<b>x</b>", "ok"]}
    text = _figure_text(charts.confusion_chart(make_snap(view=view)))
    assert "<a " not in text and "<b>" not in text and "&lt;a href=" in text
    bview = boundary_view() | {"class_names": [HTML, "fine"], "feature_names": [HTML, "<i>y"]}
    text = _figure_text(charts.boundary_chart(make_snap(view=bview)))
    assert "<a " not in text and "<i>" not in text and "&lt;a href=" in text


def test_contender_labels_in_race_charts_are_escaped() -> None:
    snaps = {HTML: make_snap(), "Adam": make_snap()}
    for fig in (charts.race_chart(snaps), charts.race_chart(snaps, metric="loss")):
        text = _figure_text(fig)
        assert "<a " not in text and "&lt;a href=" in text
