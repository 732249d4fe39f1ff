"""A Plotly chart that is redrawn in place, so a live chart never goes blank between two frames.

``st.plotly_chart`` (Streamlit 1.67) derives each chart's element id from the figure itself, and
its frontend never applies a new figure to a mounted chart: every live frame unmounts every chart
and mounts a new one, which stands empty while Plotly draws it (streamlit#8782). This component
keeps one Plotly instance per key and hands it each new figure with ``Plotly.react``, which
updates the drawing in place. It lives in the page's own DOM (no iframe), so a chart is found as
``.st-key-<key> .js-plotly-plot`` as before.

plotly.js itself comes from the plotly Python package (the copy ``st.plotly_chart``'s figures are
written for), served by Streamlit's component file route and loaded once per browser tab.
"""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import streamlit as st
import streamlit.components.v1 as components_v1
import streamlit.components.v2 as components_v2

from nnplay import figures

# A v1 component that is never drawn: declaring it makes Streamlit serve plotly's package_data
# folder at /component/ui.chart.plotly/<file>.
components_v1.declare_component("plotly", path=str(Path(plotly.__file__).parent / "package_data"))

CLASS = "nn-chart"  # the class of the element Plotly draws into

_JS = """
function loadPlotly(src) {
  if (!window.nnPlotly) {
    window.nnPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => { window.nnPlotly = null; reject(new Error("plotly.js: " + src)); };
      document.head.appendChild(script);
    });
  }
  return window.nnPlotly;
}

// Charts are drawn in a task each, the smallest figure waiting first. A refresh brings every
// chart of a panel at once: drawn together, no chart showed its new frame until the last was
// drawn (a decision boundary with 1,000 points takes hundreds of milliseconds, seconds on a
// busy laptop), and clicks waited as long. Now the browser paints, and takes input, between two
// charts, and a run's loss curve is on screen before its decision boundary is redrawn.
const waiting = new Set();
let round = [];  // the charts being drawn; those with a frame that arrives meanwhile (the small
// ones come every second) wait for the next round, so that the biggest is never starved
const drawnKeys = new Set();
let frame = null;

function schedule(gd) {
  waiting.add(gd);
  if (frame === null) frame = setTimeout(drawNext, 0);
}

function drawNext() {
  frame = null;
  if (!round.length) {  // a new round: every chart waiting now, the smallest first
    round = [...waiting].sort((a, b) => (a.nnNext || "").length - (b.nnNext || "").length);
    waiting.clear();
  }
  const next = round.shift();
  if (next && next.isConnected) draw(next);
  if (round.length || waiting.size) frame = setTimeout(drawNext, 0);
}

function draw(gd) {
  const raw = gd.nnNext;
  gd.nnNext = null;
  if (!raw || raw === gd.nnShown) return;
  const next = JSON.parse(raw);
  const figure = next.figure;
  const layout = figure.layout || {};
  layout.autosize = true;
  layout.font = Object.assign({family: getComputedStyle(document.body).fontFamily},
                              layout.font || {});
  window.Plotly.react(gd, figure.data || [], layout, next.config);
  gd.nnShown = raw;
  drawnKeys.add(gd.nnKey);
  if (next.clicks && !gd.nnClicks) {  // a click on a point says which: {curve, index}
    gd.nnClicks = true;
    gd.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      if (point) gd.nnTrigger("click", {curve: point.curveNumber, index: point.pointIndex});
    });
  }
}

export default function ({ data, parentElement, setTriggerValue }) {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (text.startsWith('{"preload"')) {  // preload(): fetch plotly.js now, draw nothing
    parentElement.closest(".stElementContainer").style.display = "none";
    loadPlotly(JSON.parse(text).src);
    return;
  }
  let gd = parentElement.querySelector(".CLASS");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "CLASS";
    gd.style.width = "100%";
    parentElement.appendChild(gd);
    // Fit the chart to its slot whenever the slot's width changes: a window resize, and a tab
    // or expander opened on a chart drawn while it was hidden (drawn then at Plotly's 700 px).
    let width = 0;
    new ResizeObserver(() => {
      const now = gd.clientWidth;
      if (now > 0 && now !== width && gd.data) {
        width = now;
        window.Plotly.Plots.resize(gd);
      }
    }).observe(gd);
  }
  // The payload is JSON bytes (see chart()); a frame that arrives while plotly.js loads or
  // waits its turn replaces the one waiting, and a frame equal to the one shown is not drawn.
  if (text === gd.nnShown) return;
  gd.nnNext = text;
  // A chart mounted again under a key already drawn on this page (a rerun moved it) is drawn
  // at once, so that it never stands empty; a new chart, and the next frame of a live one
  // (whose last frame stays meanwhile), wait their turn.
  const slot = parentElement.closest('[class*="st-key-"]');
  gd.nnKey = slot ? [...slot.classList].find((c) => c.startsWith("st-key-")) : null;
  loadPlotly(JSON.parse(text).src).then(
    () => (!gd.nnShown && drawnKeys.has(gd.nnKey) ? draw(gd) : schedule(gd)));
  gd.nnTrigger = setTriggerValue;
}
""".replace("CLASS", CLASS)

_chart = components_v2.component("nnplay_chart", js=_JS, isolate_styles=False)

CONFIG = {"displaylogo": False}


def plotly_src() -> str:
    """Where the browser fetches plotly.js: the component file route, under the app's base path."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(part for part in (base, f"component/{__name__}.plotly/plotly.min.js")
                          if part)


def chart(fig, key: str, clicks: bool = False) -> dict | None:
    """Draw fig under key; a later call with the same key redraws the same chart in place.

    With clicks, a click on a point reruns the script (the fragment, inside one), and the call in
    that rerun returns which point: {"curve": trace index, "index": point index}; else None.
    """
    head = json.dumps({"src": plotly_src(), "config": CONFIG, "clicks": clicks})
    data = f'{head[:-1]},"figure":{figures.to_json(fig)}}}'.encode()  # the figure as it is
    callbacks = {"on_click_change": _clicked} if clicks else {}
    result = _chart(key=key, data=data, width="stretch", height="content", **callbacks)
    return result.get("click") if clicks else None


def preload() -> None:
    """An invisible element that has the browser fetch plotly.js now (on a cold server, while
    torch loads), so that the first chart does not wait for it."""
    head = json.dumps({"preload": True, "src": plotly_src()})
    _chart(key="plotly-preload", data=head.encode(), width="stretch", height="content")


def _clicked() -> None:
    """A click's rerun needs nothing more: chart() returns the point."""


def figure(fig, key: str) -> None:
    """A Plotly figure in a slot of its own, empty when the chart does not apply (yet); the same
    key's next figure redraws the chart in place."""
    with st.container():
        if fig is not None:
            chart(fig, key)
