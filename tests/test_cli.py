"""Tests for the command line (python -m nnplay): JSON lines from train, the preset list, and
one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnplay import presets, surfaces
from nnplay.__main__ import main

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
EVAL_KEYS = {"step", "epoch", "train_loss", "test_loss", "train_acc", "test_acc"}


def nnplay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnplay", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=240)  # fmt: skip


def json_lines(out: str) -> list[dict]:
    lines = out.strip().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # every line is JSON


def test_train_prints_json_lines() -> None:
    proc = nnplay("train", "--preset", "xor", "--steps", "50")
    assert proc.returncode == 0, proc.stderr
    records = json_lines(proc.stdout)
    *evals, last = records
    assert evals and all(set(r) == EVAL_KEYS for r in evals)
    steps = [r["step"] for r in evals]
    assert steps == sorted(steps) and steps[-1] == 50
    assert all(0.0 <= r["test_acc"] <= 1.0 for r in evals)
    assert last["status"] == "finished" and last["step"] == 50
    assert EVAL_KEYS <= set(last)


def test_regression_lines_have_no_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    # in-process: the subprocess above already covers `python -m nnplay` itself
    assert main(["train", "--preset", "sine-regression", "--steps", "20",
                 "--set", "optimizer.lr=0.02"]) == 0  # fmt: skip
    *evals, last = json_lines(capsys.readouterr().out)
    assert evals and all(set(r) == {"step", "epoch", "train_loss", "test_loss"} for r in evals)
    assert last["status"] == "finished" and "test_acc" not in last and "train_acc" not in last


def test_presets_lists_every_preset() -> None:
    proc = nnplay("presets")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    listed = [*presets.all_presets(), *surfaces.all_presets()]
    assert [line.split()[0] for line in lines] == [p.name for p in listed]
    for line, preset in zip(lines, listed):
        assert preset.goal in line and preset.page in line


def test_bad_set_is_one_line_with_exit_code_2() -> None:
    proc = nnplay("train", "--preset", "xor", "--set", "optimizer.lr=100")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "error: optimizer.lr: must be less than or equal to 10\n"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--preset", "nope"], "There is no preset called 'nope'. Presets: circle, "),
        (["--set", "optimizer.lr"], "--set needs KEY=VALUE, got 'optimizer.lr'"),
        (["--set", "optimizer.momentun=0.9"], "unknown setting 'optimizer.momentun'"),
        (["--set", "loss.name=BCELoss", "--set", "data.classes=3"], "BCELoss cannot be used"),
        (["--preset", "spiral", "--set", "data.name=sine"], "does not fit regression"),
        (["--spec", "/nonexistent/spec.json"], "No such file"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: list[str], words: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and words in err


def test_spec_file_and_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = presets.load("circle").spec.with_changes({"data.n_samples": 60})
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    assert main(["train", "--spec", str(path), "--steps", "5", "--set", "train.eval_every=5"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["step"] for r in records] == [5, 5] and records[-1]["status"] == "finished"
