"""The quality bars the presets promise a class: full default runs, so marked slow (they still
run in `make test`)."""

from __future__ import annotations

import pytest
import torch

from nnplay import presets, train

torch.set_num_threads(1)

pytestmark = pytest.mark.slow

BARS = {"spiral": 0.95, "digits-mlp": 0.97}


@pytest.mark.parametrize("name", list(BARS))
def test_preset_reaches_its_accuracy(name: str) -> None:
    spec = presets.load(name).spec
    result = train.run_spec(spec, device=torch.device("cpu"))
    assert result.status == "finished", result.message
    record = result.record
    assert record is not None and record["step"] == train.Plan.of(
        spec, len(train.datasets.build(spec.data, spec.seed).x_train), 0
    ).total_steps
    assert record["test_acc"] >= BARS[name], record
