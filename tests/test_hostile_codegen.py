"""A hostile student names things so that an exported script runs their code: run names,
titles and CSV column names reach a script only as literals or escaped docstring text."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from nnplay import codegen, tabular
from nnplay.spec import ExperimentSpec

PWN = "open('PWNED', 'w').write('x')"
HOSTILE = [
    f'"""; {PWN}; """',  # closes the docstring
    f"'''; {PWN}; '''",
    '"',  # a docstring ending in a quote: """..."""" is a syntax error
    "ends in a backslash \\",
    "\\N{LATIN SMALL LETTER A} and \\N{no such name}",  # an escape that does not compile
    "\\x41\\u0041\\t\\0",
    f"two\nlines\n{PWN}\n",
    "bidi \u202e}; evil\u202c and a zero width\u200b joiner",
    "nul\x00 and bell\x07 and \r carriage",
    "lone surrogate \ud800",
    "Émile's 名前 🚀 ünïcödé",
    "{curly} %s {0!r}",
]


def _compiles_safely(text: str, tmp_path) -> str:
    """The script parses, and writing it as UTF-8 works; its module docstring."""
    (tmp_path / "s.py").write_text(text, encoding="utf-8")
    tree = ast.parse(text)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "open"]
    assert not calls, "the script calls open()"
    return ast.get_docstring(tree, clean=False) or ""


def _readable(name: str) -> str:
    """The part of a hostile name that must still be legible: its words."""
    return next(w for w in name.replace("\\", " ").split() if w.isalpha() and len(w) > 2)


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_title_is_docstring_text(name, tmp_path) -> None:
    spec = ExperimentSpec()
    doc = _compiles_safely(codegen.script(spec, name), tmp_path)
    if any(w.isalpha() and len(w) > 2 for w in name.replace("\\", " ").split()):
        assert _readable(name) in doc
    if "\\N{" in name:
        assert "\\N{LATIN SMALL LETTER A}" in doc  # kept as typed, not turned into 'a'


def test_doc_text_keeps_plain_text_and_quotes_round_trip() -> None:
    assert codegen.doc_text("Spiral: Adam vs SGD") == "Spiral: Adam vs SGD"
    for name in ('say "hi" \\ there', "a\\", '"""'):
        assert ast.literal_eval(f'"""{codegen.doc_text(name)}"""') == name


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path / "home"))
    return tmp_path


def _upload(target: str, feature: str):
    rng = np.random.default_rng(0)
    a = rng.normal(size=80)
    frame = pd.DataFrame({feature: a, "b": rng.normal(size=80),
                          target: np.where(a > 0, "yes", "no")})  # fmt: skip
    return tabular.save_upload(frame.to_csv(index=False).encode())


@pytest.mark.parametrize("target", [f'"""\'; {PWN}; #', "back\\slash \\N{x}", "名前 🚀"])
def test_hostile_csv_column_names_compile(target, home) -> None:
    up = _upload(target, f"feat'''{PWN}")
    assert target in up.columns
    spec = ExperimentSpec().with_changes(tabular.spec_changes(up.file, target) | {
        "train.max_steps": 4, "train.epochs": 1})  # fmt: skip
    text = codegen.script(spec)
    _compiles_safely(text, home)
    assert repr(target) in text  # the column is read by its literal name


def test_a_script_with_hostile_names_runs_without_side_effects(home) -> None:
    """The whole attack end to end: a CSV column and a run name that would write a file."""
    target = f'x""" + {PWN} + """'
    up = _upload(target, f"f'\"\\{PWN}")
    spec = ExperimentSpec().with_changes(tabular.spec_changes(up.file, target) | {
        "train.max_steps": 6, "train.epochs": 1, "train.device": "cpu"})  # fmt: skip
    text = codegen.script(spec, f'Run """\n{PWN}\n""" \\N{{bad}} 名前')
    work = home / "work"
    work.mkdir()
    (work / "run.py").write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "run.py"], cwd=work, capture_output=True, text=True,
                         timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "step=" in out.stdout
    assert not (work / "PWNED").exists() and not (home / "PWNED").exists()
    assert "名前" in ast.get_docstring(ast.parse(text))
