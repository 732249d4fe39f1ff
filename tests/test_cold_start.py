"""A cold server's first page: what the app and the Playground import before their settings are
drawn loads no torch (so the settings do not wait for it); the warm-up started after it takes the
first run's one-off costs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the files whose top-level imports run before the Playground's settings are drawn
BEFORE_SETTINGS = (ROOT / "app.py", ROOT / "views" / "1_Playground.py")


def top_imports(path: Path) -> list[str]:
    """The modules a file imports at its top level (not inside functions)."""
    out = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
    return out


def loaded_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after a fresh interpreter runs code."""
    probe = (f"{code}\nimport os, sys\n"
             f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})), flush=True)\n"
             f"os._exit(0)")  # not torch's threads' teardown at exit
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=240, check=True)
    return set(done.stdout.split())


def test_the_settings_import_no_torch() -> None:
    modules = sorted({m for f in BEFORE_SETTINGS for m in top_imports(f)})
    assert "ui" in modules and "nnplay.spec" in modules  # the files were read
    loaded = loaded_after("\n".join(f"import {m}" for m in modules))
    assert "streamlit" in loaded and "nnplay" in loaded
    assert "torch" not in loaded


def test_the_check_sees_torch() -> None:
    """The probe itself: a module that builds runs does load torch."""
    assert "torch" in loaded_after("import nnplay.runs")


def test_the_warmup_measures_the_machine_before_the_first_run() -> None:
    """The warm-up the app starts (the run manager's speed) leaves nothing for the first Train
    to measure: the measurement is cached, and the warm-up runs once however often started."""
    loaded_after(
        "from nnplay import budget, warmup\n"
        "from nnplay.runs import RunManager\n"
        "m = RunManager(store=None)\n"
        "assert warmup.wait(0) and not warmup.ready()  # none under way: Train need not wait\n"
        "warmup.start(m.speed)\n"
        "warmup.start(lambda: 1 / 0)  # a second start does nothing\n"
        "assert warmup.wait(200) and warmup.ready()\n"
        "measured = budget.measured.cache_info()\n"
        "assert measured.currsize == 1\n"
        "m.speed()  # what the first run's budget check calls: kept, not measured again\n"
        "assert budget.measured.cache_info() == measured")


def test_a_failed_warmup_is_ready_and_logged() -> None:
    loaded_after("from nnplay import warmup\n"
                 "warmup.start(lambda: 1 / 0)\n"
                 "assert warmup.wait(30) and warmup.ready()")
