"""The records of nnplay.concepts: each one complete, and every torch-side table keyed by exactly
the records' names (none missing, none extra) and agreeing with what each record says."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import get_args

import pytest
import torch
from torch import nn

from nnplay import (
    activations,
    codegen,
    concepts,
    doctor,
    fused,
    instruments,
    models,
    race,
    sequences,
    spec,
    surfaces,
    train,
)
from nnplay import data as datasets
from nnplay.concepts import ActivationRecord, DatasetRecord, LossRecord, OptimizerRecord
from nnplay.spec import DataSpec, ExperimentSpec, OptimizerSpec

FAMILIES = ("sgd", "adaptive")


def _bounds(field: str) -> tuple[float, float]:
    """The (lower, upper) bounds the spec puts on an optimiser field."""
    low, high = -math.inf, math.inf
    for m in OptimizerSpec.model_fields[field].metadata:
        low = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else low
        high = next((getattr(m, k) for k in ("le", "lt") if getattr(m, k, None) is not None), high)
    return low, high


def gaps(record: object) -> list[str]:
    """What a record leaves out or gets wrong on its own (empty: complete)."""
    out = []
    name = getattr(record, "name", "")
    if isinstance(record, DatasetRecord):
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
            out.append(f"{record!r}: name must be lower-case words joined by '-' (a link's)")
    elif not name or not name.isidentifier():
        out.append(f"{record!r}: name must be a torch class name")
    if len(getattr(record, "note", "")) < 30:
        out.append(f"{name}: note must say in a sentence what it is")
    if isinstance(record, ActivationRecord):
        if record.kind not in ("relu", "saturating", "other"):
            out.append(f"{name}: unknown kind {record.kind!r}")
        if (record.kind == "saturating") != (record.bounds is not None):
            out.append(f"{name}: a saturating activation (and only one) gives its output bounds")
        for p in record.params:
            if not (p.low <= p.default <= p.high and p.step > 0 and p.label):
                out.append(f"{name}.{p.name}: default outside its range, or no step or label")
    elif isinstance(record, LossRecord):
        if not record.fits:
            out.append(f"{name}: fits no task")
        info = record.classification
        if info is not None and (info.task != "classification"
                                 or info.output not in models.OUTPUT_MODULES
                                 or info.target not in train.TARGETS):
            out.append(f"{name}: classification info names no known output or target")
    elif isinstance(record, OptimizerRecord):
        if record.family not in FAMILIES:
            out.append(f"{name}: unknown family {record.family!r}")
        low, high = _bounds("lr")
        if not low <= record.typical_lr <= high:
            out.append(f"{name}: typical_lr outside the spec's learning-rate bounds")
        for key in record.settings:
            if key not in concepts.OPTIMIZER_SETTINGS or key not in OptimizerSpec.model_fields:
                out.append(f"{name}: setting {key!r} has no record or no OptimizerSpec field")
    elif isinstance(record, DatasetRecord):
        out += _dataset_gaps(record)
    else:
        out.append(f"{record!r} is not a record")
    return out


def _dataset_gaps(r: DatasetRecord) -> list[str]:
    """What a dataset record leaves out or gets wrong on its own."""
    out, name = [], r.name
    if not r.label or r.kind not in get_args(concepts.DataKind) or \
            r.source not in get_args(concepts.Source):
        out.append(f"{name}: no label, or an unknown kind or source")
    if not set(r.settings) <= set(concepts.DATASET_SETTINGS):
        out.append(f"{name}: reads settings no DataSpec field holds")
    if r.task == "classification" and not 2 <= r.classes <= r.max_classes <= 10:
        out.append(f"{name}: classes must be 2 to max_classes (at most 10)")
    if r.task == "regression" and (r.classes or r.max_classes):
        out.append(f"{name}: a regression set has no classes")
    needs = {"generated": {"noise", "n_samples", "train_fraction"},
             "sequence": {"noise", "n_samples", "train_fraction", "seq_len"},
             "upload": {"train_fraction", "file", "target"}, "torchvision": {"subset"},
             "bundled": {"subset"}}.get(r.source, set())
    if not needs <= set(r.settings):
        out.append(f"{name}: a {r.source} set reads {sorted(needs)}")
    if (r.source == "torchvision") != bool(r.torchvision):
        out.append(f"{name}: a torchvision set (and only one) names its torchvision class")
    if (r.source in ("torchvision", "bundled")) != (r.samples > 0):
        out.append(f"{name}: a fixed set (and only one) gives its size")
    sequence = r.kind in ("sequence", "tokens")
    if sequence and (r.source != "sequence" or not 0 < r.min_seq_len <= r.seq_len):
        out.append(f"{name}: a sequence task gives its default and least length")
    if not sequence and (r.source == "sequence" or r.seq_len or r.min_seq_len):
        out.append(f"{name}: only a sequence task has a sequence length")
    if r.memory and not sequence:
        out.append(f"{name}: only a sequence task can be a memory task")
    if r.per_step and "horizon" not in r.settings:
        out.append(f"{name}: a task with a target per step reads its horizon")
    if r.features < (0 if r.upload else 1):
        out.append(f"{name}: features must be the inputs of one sample")
    return out


ALL_RECORDS = [*concepts.ACTIVATIONS.values(), *concepts.LOSSES.values(),
               *concepts.OPTIMIZERS.values(), *concepts.DATASETS.values()]


@pytest.mark.parametrize("record", ALL_RECORDS, ids=lambda r: r.name)
def test_every_record_is_complete(record) -> None:
    assert gaps(record) == []


def test_tables_are_keyed_by_their_records_names() -> None:
    for table in (concepts.ACTIVATIONS, concepts.LOSSES, concepts.OPTIMIZERS, concepts.DATASETS):
        assert all(key == record.name for key, record in table.items())


@pytest.mark.parametrize("broken", [
    replace(concepts.ACTIVATIONS["Tanh"], note=""),
    replace(concepts.ACTIVATIONS["Tanh"], bounds=None),
    replace(concepts.ACTIVATIONS["ReLU"], bounds=(0.0, 1.0)),
    replace(concepts.ACTIVATIONS["ReLU"], kind="dead"),
    replace(concepts.LOSSES["MSELoss"], classification=None, regression=False),
    replace(concepts.OPTIMIZERS["SGD"], settings=("momentum", "dampening")),
    replace(concepts.OPTIMIZERS["SGD"], typical_lr=100.0),
    replace(concepts.OPTIMIZERS["SGD"], name=""),
    replace(concepts.DATASETS["spiral"], name="Spiral arms"),
    replace(concepts.DATASETS["spiral"], note="arms"),
    replace(concepts.DATASETS["spiral"], settings=("noise", "n_samples")),
    replace(concepts.DATASETS["spiral"], settings=(*concepts.DATASETS["spiral"].settings, "lr")),
    replace(concepts.DATASETS["spiral"], max_classes=1),
    replace(concepts.DATASETS["sine"], classes=2),
    replace(concepts.DATASETS["mnist"], torchvision=""),
    replace(concepts.DATASETS["mnist"], samples=0),
    replace(concepts.DATASETS["parity"], seq_len=0),
    replace(concepts.DATASETS["parity"], min_seq_len=20),
    replace(concepts.DATASETS["spiral"], memory=True),
    replace(concepts.DATASETS["sine-forecast"], settings=("per_step",)),
], ids=lambda r: r.name or "no name")
def test_an_incomplete_record_is_caught(broken) -> None:
    assert gaps(broken)


def test_optimizer_settings_fit_the_spec() -> None:
    used = {key for r in concepts.OPTIMIZERS.values() for key in r.settings}
    assert used == set(concepts.OPTIMIZER_SETTINGS), "a setting no optimiser takes"
    for key, setting in concepts.OPTIMIZER_SETTINGS.items():
        field = OptimizerSpec.model_fields[key]
        assert field.default == setting.default, key
        if setting.widget == "checkbox":
            assert isinstance(setting.default, bool), key
            continue
        low, high = _bounds(key)
        assert low <= setting.low <= setting.default <= setting.high <= high, key
        OptimizerSpec(**{key: setting.high})  # the widget's top is a valid value


# --- the spec, the widgets' other readers and the torch-side tables agree with the records ---


def test_spec_names_come_from_the_records() -> None:
    assert spec.ACTIVATIONS == tuple(concepts.ACTIVATIONS)
    assert spec.OPTIMIZERS == tuple(concepts.OPTIMIZERS)
    assert get_args(spec.LossSpec.model_fields["name"].annotation) == tuple(concepts.LOSSES)
    assert set(spec.LOSSES) == {n for n, r in concepts.LOSSES.items() if r.classification}
    assert set(spec.REGRESSION_LOSSES) == {n for n, r in concepts.LOSSES.items() if r.regression}
    for name, record in concepts.LOSSES.items():
        for task in record.fits:
            spec_ = ExperimentSpec().with_changes(
                {"loss.name": name, "data.name": "sine" if task == "regression" else "circle"})
            assert spec_.loss.name == name


def test_activation_modules_match_the_records() -> None:
    assert tuple(models.ACTIVATION_MODULES) == tuple(concepts.ACTIVATIONS)  # none missing, extra
    assert models.ACTIVATION_KINDS == {n: r.kind for n, r in concepts.ACTIVATIONS.items()}
    assert activations.NOTES == {n: r.note for n, r in concepts.ACTIVATIONS.items()}
    x = torch.tensor([-50.0, -1.0, 0.0, 1.0, 50.0])
    for name, record in concepts.ACTIVATIONS.items():
        module = models.ACTIVATION_MODULES[name]()
        assert type(module).__name__ == name and isinstance(module, nn.Module)
        # each slider's keyword is one torch takes, and its default is torch's default
        for p in record.params:
            assert getattr(module, p.name) == pytest.approx(p.default), (name, p.name)
            activations.module(name, {p.name: p.high})
        y = module(x)
        if record.bounds is not None:
            assert (y[0].item(), y[-1].item()) == pytest.approx(record.bounds, abs=1e-6)
            assert instruments.BOUNDS[name] == record.bounds
        if record.kind == "relu":  # dead units are read as never positive: so it is for x < 0
            assert y[0].item() <= 0 < y[-1].item()
    assert set(instruments.BOUNDS) == {n for n, r in concepts.ACTIVATIONS.items() if r.bounds}
    assert set(doctor.SATURATING) == {n for n, r in concepts.ACTIVATIONS.items()
                                      if r.kind == "saturating"}
    by_class = {cls: name for name, cls in models.ACTIVATION_MODULES.items()}
    assert set(fused.ACTIVATIONS) <= set(by_class)  # the fused path covers only records


def test_loss_modules_match_the_records() -> None:
    assert tuple(train.LOSS_MODULES) == tuple(concepts.LOSSES)  # none missing, none extra
    for name in concepts.LOSSES:
        assert type(train.LOSS_MODULES[name]()).__name__ == name


def test_optimizer_builders_match_the_records() -> None:
    assert tuple(train.OPTIMIZER_BUILDERS) == tuple(concepts.OPTIMIZERS)  # none missing, extra
    assert doctor.TYPICAL_LR == {n: r.typical_lr for n, r in concepts.OPTIMIZERS.items()}
    weights = [nn.Parameter(torch.zeros(2))]

    def group(opt: OptimizerSpec) -> dict:
        built = train.OPTIMIZER_BUILDERS[opt.name](weights, opt)
        assert type(built).__name__ == opt.name
        return {k: v for k, v in built.param_groups[0].items() if k != "params"}

    for name, record in concepts.OPTIMIZERS.items():
        base = OptimizerSpec(name=name, momentum=0.5 if "momentum" in record.settings else 0.0)
        for key, value in (("lr", 0.123), ("weight_decay", 0.01)):
            assert group(base.model_copy(update={key: value})) != group(base), (name, key)
        for key in record.settings:  # each setting of its own reaches torch
            s = concepts.OPTIMIZER_SETTINGS[key]
            value = (not s.default) if s.widget == "checkbox" else (s.low + s.high) / 2
            changed = spec.parse({"optimizer": base.model_dump() | {key: value}}).optimizer
            assert group(changed) != group(base), (name, key)


def test_race_and_surface_links_carry_every_optimizer_setting() -> None:
    settings = tuple(k for k in OptimizerSpec.model_fields if k != "name")
    assert tuple(k for k in race.Contender.model_fields if k != "label") == ("name", *settings)
    assert surfaces.OPTIMIZER_FIELDS == settings


def test_records_import_nothing_heavy() -> None:
    code = ("import sys, nnplay.concepts, nnplay.spec; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', "
            "'streamlit') or (m.startswith('nnplay.') and m not in ('nnplay.concepts', "
            "'nnplay.spec', 'nnplay.drawn'))))")  # drawn: the drawings' text, pure Python
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dataset_settings_fit_the_spec() -> None:
    fields = DataSpec.model_fields
    assert spec.DATASETS is concepts.DATASETS
    assert get_args(fields["name"].annotation) == tuple(concepts.DATASETS)
    assert set(concepts.DATA_SETTINGS) <= set(concepts.DATASET_SETTINGS) <= set(fields)
    for key, setting in concepts.DATA_SETTINGS.items():
        low, high = (next(getattr(m, k) for m in fields[key].metadata if hasattr(m, k))
                     for k in ("ge", "le"))
        assert (fields[key].default, low, high) == (setting.default, setting.low, setting.high)
        assert setting.low <= setting.default <= setting.high and setting.step > 0, key
        assert type(setting.default) is type(setting.low) is type(setting.step), key  # int/float


def test_dataset_builders_match_the_records() -> None:
    import torchvision.datasets

    assert tuple(datasets.BUILDERS) == tuple(concepts.DATASETS)  # none missing, none extra
    assert set(datasets.SOURCES) == set(get_args(concepts.Source))
    by_source = {s: {n for n, r in concepts.DATASETS.items() if r.source == s}
                 for s in get_args(concepts.Source)}
    assert set(datasets.GENERATORS) == by_source["generated"]
    assert set(sequences.BUILDERS) == by_source["sequence"]
    assert set(codegen.DATA_CODE) == set(concepts.DATASETS) - by_source["upload"] | {"csv"}
    for name in by_source["torchvision"]:
        cls = getattr(torchvision.datasets, concepts.DATASETS[name].torchvision)
        assert datasets._raw_files(cls), name  # an MNIST-style class, read from its raw files


BUILT = [n for n, r in concepts.DATASETS.items() if r.source not in ("torchvision", "upload")]


@pytest.mark.parametrize("name", BUILT)
def test_a_built_dataset_is_what_its_record_says(name: str) -> None:
    """Shape, task and classes as the record gives them; every setting it says it reads
    changes the data, and every one it does not leaves the very same Dataset."""
    record = concepts.DATASETS[name]
    small = ({"n_samples": 120} if "n_samples" in record.settings else
             {"points": "AAABACADAE.zzzyzxzwzv"} if "points" in record.settings else  # 10: split
             {"subset": 300})
    base = DataSpec(name=name, **small)
    ds = datasets.build(base, seed=0)
    assert (ds.task, ds.n_classes, ds.in_features) == (record.task, record.classes,
                                                      record.features)
    assert ds.kind == record.kind
    if record.samples and "subset" not in small:
        assert len(ds.x_train) == round(record.samples * base.train_fraction)
    changes = {"noise": 0.4, "n_samples": 200, "train_fraction": 0.8, "subset": 200,
               "seq_len": record.seq_len + 3, "horizon": 3, "per_step": True,
               "points": "AAABACADAEAF.zzzyzxzwzv"}
    for key, value in changes.items():
        if key in record.settings:  # validated: a value the dataset takes
            got = datasets.build(DataSpec.model_validate(base.model_dump() | {key: value}), 0)
            assert any(a.shape != b.shape or not torch.equal(a, b) for a, b in zip(
                (ds.x_train, ds.y_train), (got.x_train, got.y_train))), (name, key)
        else:  # any value, even one validation would refuse: the dataset never reads it
            got = datasets.build(base.model_copy(update={key: value}), seed=0)
            assert got is ds, (name, key)  # the cache's key leaves it out


NEW_ACTIVATION = """
from dataclasses import replace
from nnplay import concepts
concepts.ACTIVATIONS["Mish"] = replace(concepts.ACTIVATIONS["SiLU"], name="Mish")
from nnplay import spec, urls
layers = [{"type": "linear", "units": 4}, {"type": "activation", "name": "Mish"}]
s = spec.parse({"model": {"layers": layers}})
back, warnings, _ = urls.parse(urls.to_params(s))
assert back == s and not warnings, warnings
print("spec and link take it")
import nnplay.models
"""


def test_a_new_record_reaches_the_spec_and_the_link_and_asks_for_its_module() -> None:
    """The recipe, run: one record and the spec and URL accept the name; until models has its
    module, importing the torch side fails (a test, not a user, finds the gap)."""
    out = subprocess.run([sys.executable, "-c", NEW_ACTIVATION], capture_output=True, text=True)
    assert "spec and link take it" in out.stdout, out.stderr
    assert out.returncode != 0 and "ACTIVATION_MODULES) == ACTIVATIONS" in out.stderr


NEW_DATASET = '''
from dataclasses import replace
import numpy as np
from nnplay import concepts
concepts.DATASETS["ring"] = replace(concepts.DATASETS["circle"], name="ring", label="Ring")


def gen_ring(n, noise, classes, rng):
    """Class 1 on a ring of radius 0.8, class 0 at the centre."""
    y = np.arange(n) % 2
    angle = rng.uniform(0.0, 2 * np.pi, n)
    r = 0.8 * y + rng.normal(0.0, 0.1 + noise, n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1).astype(np.float32), y


from nnplay import codegen, data, spec, urls
s = spec.ExperimentSpec().with_changes({"data.name": "ring", "train.epochs": 2})
back, warnings, _ = urls.parse(urls.to_params(s))
assert back == s and not warnings, warnings
print("spec and link take it")
try:
    data.build(s.data, s.seed)
except KeyError:
    print("no generator yet")
data.GENERATORS["ring"] = gen_ring
ds = data.build(s.data, s.seed)
assert ds.kind == "2d" and ds.n_classes == 2 and len(ds.x_train) == 500
code = codegen.script(s)
assert "def gen_ring(n, noise, classes, rng):" in code and "Ring:" in code
print("built and exported")
'''


def test_a_new_dataset_is_one_record_and_its_generator(tmp_path) -> None:
    """The recipe, run: one record and the spec and the link accept the name; with its generator
    registered, data builds it and codegen exports it (the generator's own source)."""
    script = tmp_path / "ring.py"  # a file, so that codegen can read the generator's source
    script.write_text(NEW_DATASET)
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=os.environ | {"PYTHONPATH": root})
    assert out.stdout.split("\n")[:3] == ["spec and link take it", "no generator yet",
                                          "built and exported"], out.stderr
