"""The Streamlit glue the pages share: it reads widgets, calls nnplay/ and draws what it returns.

The pages call what is named here (ui.manager(), ui.figure(fig, key), ...). The modules below
import each other one way (runs, layout, state and chart first) and never this package; the
modules for one page's feature (branch, changes, landscape, paths) sit above it and, like the
pages, are imported by name (import ui.branch) and call ui.* themselves. Nothing here imports
torch at its top: it comes in inside the functions that build a run, a model or a script.
"""

from ui.chart import figure
from ui.code import code_panel
from ui.controls import reset_run, run_buttons, run_controls
from ui.doctor import doctor_panel
from ui.layers import layer_editor, model_printout
from ui.layout import (
    base_style,
    boxes,
    chart_columns,
    hidden,
    hide_controls,
    presentation_style,
    presenting,
    scale,
    stage_columns,
)
from ui.links import (
    PRESET_PAGES,
    link_warnings,
    open_link,
    preset_picker,
    share_link,
    write_link,
    write_params,
)
from ui.panel import REFRESH_SECONDS, live, poll, run_charts, status_line
from ui.runs import active_run, control, manager, owner
from ui.state import (
    SPEC_HOMES,
    current_spec,
    ensure_widget_state,
    flat,
    load_spec,
    page_spec,
    spec_from_widgets,
)
from ui.widgets import (
    LR_GRID,
    awaiting_upload,
    data_setting,
    data_widgets,
    optimizer_widgets,
    training_widgets,
)

__all__ = [
    "LR_GRID", "PRESET_PAGES", "REFRESH_SECONDS", "SPEC_HOMES", "active_run", "awaiting_upload",
    "base_style", "boxes", "chart_columns", "code_panel", "control", "current_spec", "data_setting",
    "data_widgets", "doctor_panel", "ensure_widget_state", "figure", "flat", "hidden",
    "hide_controls", "layer_editor", "link_warnings", "live", "load_spec", "manager",
    "model_printout", "open_link", "optimizer_widgets", "owner", "page_spec", "poll",
    "presentation_style", "presenting", "preset_picker", "reset_run", "run_buttons",
    "run_charts", "run_controls",
    "scale", "share_link", "spec_from_widgets", "stage_columns", "status_line", "training_widgets",
    "write_link", "write_params",
]
