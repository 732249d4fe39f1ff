"""How many training samples a spec's dataset will have, without building it (and without
torch): the fixed sets' sizes, an upload's stored row count, or a generated set's n_samples."""

from __future__ import annotations

from nnplay import tabular
from nnplay.spec import ExperimentSpec

# Training samples of the fixed-size sets (before a subset); generated sets use n_samples.
FIXED_TRAIN_SIZES = {"digits": 1797, "mnist": 60000, "fashion-mnist": 60000}


def estimated_train_size(spec: ExperimentSpec) -> int:
    """Training samples a spec's dataset will have, without building it."""
    d = spec.data
    if d.name in FIXED_TRAIN_SIZES:
        full = FIXED_TRAIN_SIZES[d.name]
        if d.name == "digits":
            full = round(full * d.train_fraction)
        return min(d.subset, full) if d.subset else full
    if d.info.upload:
        return round(tabular.rows(d.file) * d.train_fraction)  # from the upload's stored summary
    return round(d.n_samples * d.train_fraction)
