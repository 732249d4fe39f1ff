"""How many training samples a spec's dataset will have, without building it (and without
torch): a fixed set's size from its record, an upload's stored row count, a drawing's
training share, or n_samples."""

from __future__ import annotations

from nnplay import drawn, tabular
from nnplay.spec import ExperimentSpec


def estimated_train_size(spec: ExperimentSpec) -> int:
    """Training samples a spec's dataset will have, without building it."""
    d = spec.data
    info = d.info
    if info.samples:  # a fixed set (its record's size), split by train_fraction if it reads it
        full = info.samples
        if "train_fraction" in info.settings:
            full = round(full * d.train_fraction)
        return min(d.subset, full) if d.subset else full
    if info.source == "drawn":
        return drawn.shares(d.points, d.train_fraction)[0]
    if info.upload:
        return round(tabular.rows(d.file) * d.train_fraction)  # from the upload's stored summary
    return round(d.n_samples * d.train_fraction)
