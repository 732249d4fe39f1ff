"""The doctor on real runs: each pathological preset gets its diagnosis, its remedy (a fresh
run, same seed) clears it, and the healthy presets raise nothing."""

from __future__ import annotations

import pytest
import torch

from nnplay import doctor, presets, train

torch.set_num_threads(1)

SHOWS = {  # preset -> the diagnosis it is there to show
    "lr-too-high": "divergence",
    "lr-too-low": "lr_too_low",
    "dead-relus": "dead_relu",
    "deep-sigmoid": "vanishing_gradients",
    "saturated-sigmoid": "saturation",
    "overfitting": "overfitting",
    "underfitting": "underfitting",
    "vanishing-rnn": "vanishing_gradients",
}
SLOW = {"vanishing-rnn", "overfitting"}  # more than a few seconds on one CPU thread
HEALTHY = ("spiral", "digits-mlp", "sentiment-bilstm")  # full runs: slow


def marked(names, slow=SLOW) -> list:
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


def checkup(spec) -> tuple[list[doctor.Diagnosis], dict, train.Result]:
    """Train spec on the CPU and diagnose what it recorded."""
    recorder = doctor.Recorder(spec.model_dump())
    result = train.run_spec(spec, [recorder], device=torch.device("cpu"))
    snap = recorder.snapshot()
    return doctor.diagnose(snap), snap, result


@pytest.mark.parametrize("name", marked(SHOWS))
def test_the_doctor_names_what_the_preset_shows(name: str) -> None:
    found, _, _ = checkup(presets.load(name).spec)
    assert found and found[0].id == SHOWS[name], [(d.id, d.text) for d in found]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SHOWS))
def test_the_remedy_clears_the_diagnosis_and_helps(name: str) -> None:
    spec = presets.load(name).spec
    found, _, before = checkup(spec)
    after_found, _, after = checkup(spec.with_changes(found[0].remedy.changes))
    assert SHOWS[name] not in [d.id for d in after_found], [d.text for d in after_found]
    assert after.record["test_loss"] < before.record["test_loss"]


@pytest.mark.slow
@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_presets_raise_nothing(name: str) -> None:
    found, _, result = checkup(presets.load(name).spec)
    assert result.status == "finished"
    assert found == [], [(d.id, d.text) for d in found]


def test_every_pathological_preset_says_what_to_watch() -> None:
    for name in SHOWS:
        preset = presets.load(name)
        assert preset.title and len(preset.goal) > 40 and preset.page in ("Playground", "Sequences")
