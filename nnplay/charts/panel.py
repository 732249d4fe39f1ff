"""The live run panel: each run's view by its kind, and every figure the panel draws by slot."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from nnplay.charts.curves import (
    accuracy_chart,
    activation_chart,
    activation_histogram,
    grad_norm_chart,
    loss_chart,
)
from nnplay.charts.model_views import (
    boundary_chart,
    confusion_chart,
    curve_chart,
    misclassified_chart,
    surface_chart,
)
from nnplay.charts.sequences import prediction_chart
from nnplay.charts.style import _layout, _message
from nnplay.charts.values import Snapshot, _section
from nnplay.figures import Figure

VIEWS: dict[str, Callable[..., go.Figure]] = {
    "boundary": boundary_chart,
    "curve": curve_chart,
    "surface": surface_chart,
    "images": confusion_chart,
    "sequence": prediction_chart,  # a Sequences run's view, e.g. on the Runs page
}


def view_chart(
    snap: Snapshot, scale: float = 1.0, height: float | None = None
) -> go.Figure | None:
    """The model view for this run's task (via ``VIEWS``), or None when the run has none."""
    view = _section(snap, "view")
    if not view:
        return None
    draw = VIEWS.get(str(view.get("kind")))
    if draw is None:
        fig = _layout(Figure(), "model view", scale, height=height, legend=False)
        return _message(fig, f"no chart for view kind {view.get('kind')!r}", scale).to_plotly()
    return draw(snap, scale=scale, height=height)


def live_panel(snap: Snapshot, scale: float = 1.0) -> dict[str, go.Figure | None]:
    """Every figure of a run's live panel by its slot, in the page's order; None where a chart
    does not apply (accuracy for regression, misclassified images off the image view). The
    page and the bench both draw this, so the bench measures the panel the page shows. (The
    network view between the view and the loss is network_chart's, drawn with the unit a
    click chose; network_chart imports this package, so it cannot be listed here.)"""
    return {
        "view": view_chart(snap, scale=scale),
        "loss": loss_chart(snap, scale=scale),
        "accuracy": accuracy_chart(snap, scale=scale),
        "misclassified": misclassified_chart(snap, scale=scale),
        "activations": activation_chart(snap, scale=scale),
        "grads": grad_norm_chart(snap, scale=scale),
        "histogram": activation_histogram(snap, scale=scale),
    }
