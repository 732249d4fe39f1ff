"""Exported scripts of runs whose settings changed while they trained: the script makes the same
changes at the same steps and reproduces the run to 1e-5 on CPU; the CLI takes --change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnplay import codegen, presets, train
from nnplay.__main__ import main
from nnplay.spec import parse_change

TOLERANCE = 1e-5
CASES = {
    "spiral-two-lr-changes": (
        {"train.max_steps": 90, "train.eval_every": 15},
        ["31:optimizer.lr=0.001", "61:optimizer.lr=0.03"]),
    "sgd-momentum-decay-l1-l2": (
        {"optimizer.name": "SGD", "optimizer.lr": 0.1, "train.max_steps": 80,
         "train.eval_every": 10, "train.l1": 0.001},
        ["21:optimizer.momentum=0.9", "21:optimizer.weight_decay=0.001", "41:train.l1=0",
         "41:train.l2=0.01", "61:optimizer.lr=0.02"]),
}  # fmt: skip


def case(name: str) -> tuple:
    settings, texts = CASES[name]
    spec = presets.load("spiral").spec.with_changes(
        {"train.device": "cpu", "data.n_samples": 300, **settings})
    return spec, [parse_change(t, spec) for t in texts]


def script_evaluations(path: Path) -> list[dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(path)], cwd=path.parent, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return [{k: float(v) for k, v in (kv.split("=") for kv in line.split())}
            for line in done.stdout.splitlines() if line.startswith("step=")]


def assert_reproduces(path: Path, history: list[dict]) -> None:
    """The script at path evaluates at the run's steps to the run's losses and accuracies."""
    script = script_evaluations(path)
    assert len(script) == len(history) >= 4
    for mine, theirs in zip(script, history):
        assert int(mine["step"]) == theirs["step"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert abs(mine[key] - theirs[key]) <= TOLERANCE, (key, mine, theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_script_with_changes_reproduces_the_run(name, tmp_path):
    spec, changes = case(name)
    path = tmp_path / f"{name}.py"
    path.write_text(codegen.script(spec, changes=changes))
    torch.set_num_threads(1)
    result = train.run_spec(spec, changes=changes)
    plain = train.run_spec(spec)
    assert result.history != plain.history  # the changes matter
    assert_reproduces(path, result.history)


def test_scripts_with_changes_pass_ruff(tmp_path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    for name in CASES:
        spec, changes = case(name)
        (tmp_path / f"{name}.py").write_text(codegen.script(spec, changes=changes))
    done = subprocess.run([ruff, "check", "--isolated", "--line-length", "100", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_cli_takes_changes(capsys):
    assert main(["code", "--preset", "spiral", "--change", "31:optimizer.lr=0.001"]) == 0
    assert "CHANGES = {31: [('lr', 0.001)]}" in capsys.readouterr().out
    assert main(["train", "--preset", "spiral", "--steps", "40", "--set", "data.n_samples=100",
                 "--set", "train.eval_every=20", "--change", "21:optimizer.lr=0.5"]) == 0
    out = capsys.readouterr().out
    assert '"status": "finished"' in out
    assert main(["train", "--preset", "spiral", "--change", "5:data.noise=0.2"]) != 0
    assert "cannot change while a run trains" in capsys.readouterr().err
