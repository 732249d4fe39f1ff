"""The CLI's final JSON line carries the doctor's diagnoses, and a run whose loss ends far above
its start finishes as diverged, with the doctor's sentence."""

from __future__ import annotations

import json

import pytest
import torch

from nnplay.__main__ import main

torch.set_num_threads(1)


def last_line(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_diverging_run_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "lr-too-high"]) == 1
    last = last_line(capsys)
    assert last["status"] == "diverged" and last["diagnoses"] == ["divergence"]
    assert "diverged" in last["message"] and "Lower the learning rate to 1" in last["message"]


def test_a_healthy_run_has_no_diagnoses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "dead-relus", "--set", "optimizer.lr=0.2"]) == 0
    last = last_line(capsys)
    assert last["status"] == "finished" and last["diagnoses"] == []


def test_a_sick_run_lists_its_diagnoses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "dead-relus"]) == 0  # it finished; it is not well
    assert last_line(capsys)["diagnoses"][0] == "dead_relu"
