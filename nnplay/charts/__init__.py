"""Pure chart functions: a run snapshot (plain dicts, lists, numpy arrays) -> plotly Figures."""

from nnplay.charts.model_views import *  # noqa: F403
from nnplay.charts.model_views import (  # noqa: F401  helpers other chart modules read
    Snapshot,
    _arr,
    _class_label,
    _f32,
    _layout,
    _line,
    _message,
    _points,
    _px,
    _rgba,
    _section,
    _square_axes,
    _xy,
)
