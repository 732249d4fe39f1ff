"""Pure chart functions: a run snapshot (plain dicts, lists, numpy arrays) -> plotly Figures.

No torch and no streamlit here. Every function accepts an empty or half-filled snapshot (the start
of a run) and returns a readable figure rather than raising. Styling is sized for a projector and
multiplied by ``scale`` (presentation mode passes ~1.5). Figures are built as plain dicts
(``nnplay.figures``) and reach Plotly unvalidated, so a live refresh costs milliseconds.

The modules import one way: values <- style <- curves, model_views, sequences, explainers,
progress <- compare (model_views' boundary) <- panel. Callers keep reading ``charts.name``;
chart modules outside the package that share the house helpers (``style._layout``,
``values._section``) import those modules themselves.
"""

from __future__ import annotations

from nnplay.charts.compare import RACE_METRICS, boundary_row, lr_sweep_chart, race_chart, sparkline
from nnplay.charts.curves import (
    CHANGE_LABELS,
    accuracy_chart,
    activation_chart,
    activation_histogram,
    grad_norm_chart,
    loss_chart,
)
from nnplay.charts.explainers import activation_curve_chart, softmax_chart
from nnplay.charts.model_views import (
    boundary_chart,
    confusion_chart,
    curve_chart,
    misclassified_chart,
    surface_chart,
)
from nnplay.charts.panel import VIEWS, live_panel, view_chart
from nnplay.charts.progress import progress_text
from nnplay.charts.sequences import (
    GATE_TITLES,
    NO_HIDDEN,
    forecast_chart,
    gate_chart,
    hidden_state_chart,
    length_chart,
    model_bars,
    prediction_chart,
    saliency_chart,
    state_heatmap,
    step_labels,
)
from nnplay.charts.style import (
    AXIS,
    BASE_FONT,
    BLUES,
    CLASS_COLOURS,
    DASHES,
    HALF_TITLE,
    L2_COLOUR,
    LEGEND_ROW,
    LINE_HEIGHT,
    LINE_WIDTH,
    MARKER_SIZE,
    PALETTE,
    PENALTY_COLOUR,
    RDBU,
    SMOOTH_COLOUR,
    STEP_COLOUR,
    SURFACE_OPACITY,
    TEMPLATE,
    TEST_COLOUR,
    TITLE_FONT,
    TRAIN_COLOUR,
    VIEW_HEIGHT,
    VIRIDIS,
    WAITING,
    WAITING_EVAL,
)
from nnplay.charts.values import KEEP_LAST, MAX_POINTS, MAX_SCATTER, Snapshot, downsample, ema
from nnplay.charts.weights import weights_chart as weights_chart

__all__ = [
    "AXIS", "BASE_FONT", "BLUES", "CHANGE_LABELS", "CLASS_COLOURS", "DASHES", "GATE_TITLES",
    "HALF_TITLE", "KEEP_LAST", "L2_COLOUR", "LEGEND_ROW", "LINE_HEIGHT", "LINE_WIDTH",
    "MARKER_SIZE", "MAX_POINTS", "MAX_SCATTER", "NO_HIDDEN", "PALETTE", "PENALTY_COLOUR",
    "RACE_METRICS", "RDBU", "SMOOTH_COLOUR", "STEP_COLOUR", "SURFACE_OPACITY", "Snapshot",
    "TEMPLATE", "TEST_COLOUR", "TITLE_FONT", "TRAIN_COLOUR", "VIEWS", "VIEW_HEIGHT", "VIRIDIS",
    "WAITING", "WAITING_EVAL", "accuracy_chart", "activation_chart", "activation_curve_chart",
    "activation_histogram", "boundary_chart", "boundary_row", "confusion_chart", "curve_chart",
    "downsample", "ema", "forecast_chart", "gate_chart", "grad_norm_chart",
    "hidden_state_chart", "length_chart", "live_panel", "loss_chart", "lr_sweep_chart",
    "misclassified_chart", "model_bars", "prediction_chart", "progress_text", "race_chart",
    "saliency_chart", "softmax_chart", "sparkline", "state_heatmap", "step_labels",
    "surface_chart", "view_chart",
]
