"""Exported code: each script, run on its own, prints the evaluations the app records."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import torch
from torch import nn

from nnplay import codegen, data, presets, train
from nnplay.__main__ import main as cli
from nnplay.spec import DATASETS, LOSSES, OPTIMIZERS, REGRESSION_LOSSES, ExperimentSpec, parse

TOLERANCE = 1e-5
DROPOUT_STACK = [
    {"type": "linear", "units": 16}, {"type": "dropout", "p": 0.3},
    {"type": "activation", "name": "LeakyReLU"}, {"type": "linear", "units": 8},
    {"type": "activation", "name": "ELU"}, {"type": "dropout", "p": 0.1},
]  # fmt: skip

# name: (preset, changes). Short runs, but long enough to cross epochs and several evaluations.
CASES: dict[str, tuple[str, dict]] = {
    "spiral": ("spiral", {"train.max_steps": 90}),
    "xor-bce-logits": ("xor", {"loss.name": "BCEWithLogitsLoss", "train.max_steps": 60}),
    "xor-bce-sigmoid": ("xor", {"loss.name": "BCELoss", "optimizer.name": "Adagrad",
                                "train.max_steps": 40}),
    "circle-mse-nesterov": ("circle", {"loss.name": "MSELoss", "optimizer.name": "SGD",
                                       "optimizer.momentum": 0.9, "optimizer.nesterov": True,
                                       "train.max_steps": 40}),
    "gauss-kl-adamw": ("spiral", {"data.name": "gauss", "data.classes": 4,
                                  "loss.name": "KLDivLoss", "optimizer.name": "AdamW",
                                  "optimizer.weight_decay": 0.05, "train.max_steps": 40}),
    "dropout-l1-l2": ("xor", {"loss.name": "NLLLoss", "model.layers": DROPOUT_STACK,
                              "train.l1": 0.001, "train.l2": 0.01, "optimizer.name": "RMSprop",
                              "optimizer.momentum": 0.5, "train.max_steps": 70}),
    "digits-mlp": ("digits-mlp", {"train.max_steps": 60}),
    "digits-subset": ("digits-mlp", {"data.classes": 5, "data.subset": 300, "seed": 3,
                                     "train.max_steps": 30}),
    "sine-huber-early-stop": ("sine-regression", {"loss.name": "HuberLoss", "train.patience": 2,
                                                  "train.eval_every": 5,
                                                  "train.max_steps": 150}),
    "fashion-files": ("fashion-mnist-ffnn", {"data.subset": 400, "data.classes": 4,
                                             "train.batch_size": 32, "train.eval_every": 0,
                                             "optimizer.name": "Adadelta",
                                             "train.max_steps": 25}),
    # recurrent models: packed batches of padded sentences, stacked layers with dropout between
    # them (drawn from the run's generator in the app, from torch's global RNG in the script),
    # time-major layers, the LSTM stepped by hand, the bag of words, and forecasts at every step
    "sentiment-bilstm": ("sentiment-bilstm", {"train.max_steps": 40, "train.eval_every": 10}),
    "parity-gru-stacked": ("parity-gru", {"model.recurrent.num_layers": 2,
                                          "model.recurrent.dropout": 0.3,
                                          "model.layers": DROPOUT_STACK[:3],
                                          "train.max_steps": 40, "train.eval_every": 10}),
    "parity-lstm-time-major": ("parity-gru", {"model.recurrent.cell": "LSTM",
                                              "model.recurrent.batch_first": False,
                                              "train.max_steps": 30, "train.eval_every": 10}),
    "sentiment-lstmcell": ("sentiment-bilstm", {"model.recurrent.cell": "LSTMCell",
                                                "model.recurrent.num_layers": 2,
                                                "model.recurrent.dropout": 0.2,
                                                "train.max_steps": 20, "train.eval_every": 10}),
    "sentiment-bag-of-words": ("sentiment-bilstm", {"model.recurrent.cell": "BagOfWords",
                                                    "model.recurrent.bidirectional": False,
                                                    "train.max_steps": 30,
                                                    "train.eval_every": 10}),
    "sine-per-step-time-major": ("sine-lstm", {"data.per_step": True,
                                               "model.recurrent.batch_first": False,
                                               "train.max_steps": 30, "train.eval_every": 10}),
    "adding-rnn": ("vanishing-rnn", {"train.max_steps": 30, "train.eval_every": 10}),
}

# Runs each script given on the command line as __main__, one after another, in one process:
# each script is still standalone code, but torch is imported once for all of them.
RUNNER = """
import runpy, sys
for path in sys.argv[1:]:
    print("### " + path, flush=True)
    runpy.run_path(path, run_name="__main__")
"""


def spec_for(name: str) -> ExperimentSpec:
    preset, changes = CASES[name]
    return presets.load(preset).spec.with_changes({"train.device": "cpu", **changes})


def evaluations(stdout: str) -> dict[str, list[dict[str, float]]]:
    """The `step=... test_loss=...` lines of each script, by script name."""
    out: dict[str, list[dict[str, float]]] = {}
    current = ""
    for line in stdout.splitlines():
        if line.startswith("### "):
            current = Path(line[4:]).stem
            out[current] = []
        elif line.startswith("step="):
            out[current].append({k: float(v) for k, v in (kv.split("=") for kv in line.split())})
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, list[dict[str, float]]]:
    """Every case's script, written to a folder outside the repo and run there."""
    folder = tmp_path_factory.mktemp("exported")
    data.write_idx_files(folder / "data", "fashion-mnist", 600, 200, seed=1)
    paths = []
    for name in CASES:
        path = folder / f"{name}.py"
        path.write_text(codegen.script(spec_for(name)))
        paths.append(str(path))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", RUNNER, *paths], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return evaluations(done.stdout)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The same FashionMNIST-format files the scripts read, for the app."""
    root = tmp_path_factory.mktemp("appdata") / "data"
    data.write_idx_files(root, "fashion-mnist", 600, 200, seed=1)
    return root


@pytest.mark.parametrize("name", list(CASES))
def test_script_reproduces_the_app(name, exported, data_dir, monkeypatch) -> None:
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(data_dir))
    torch.set_num_threads(1)
    result = train.run_spec(spec_for(name))
    assert result.status == "finished", result.message
    app, script = result.history, exported[name]
    assert len(script) == len(app) >= 2
    for mine, theirs in zip(script, app):
        assert int(mine["step"]) == theirs["step"] and int(mine["epoch"]) == theirs["epoch"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            if key in theirs:
                assert abs(mine[key] - theirs[key]) <= TOLERANCE, (key, mine, theirs)
            else:
                assert key not in mine


def test_early_stop_case_stops_early() -> None:
    """The patience case must really stop early, or it tests nothing about patience."""
    result = train.run_spec(spec_for("sine-huber-early-stop"))
    assert result.history[-1]["step"] < 150 and "early" in result.message


def test_scripts_need_only_torch_and_the_dataset_package() -> None:
    needs = {"digits-mlp": "sklearn", "digits-subset": "sklearn", "fashion-files": "torchvision"}
    for name in CASES:
        text = codegen.script(spec_for(name))
        imports = {line.split()[1].split(".")[0] for line in text.splitlines()
                   if line.startswith(("import ", "from "))}  # fmt: skip
        allowed = {"math", "collections", "numpy", "torch", needs.get(name, "torch")}
        assert imports <= allowed, (name, imports)
        for idiom in ("class Net(nn.Module)", "def forward(self, x", "optimizer.zero_grad()",
                      "loss.backward()", "optimizer.step()", "model.eval()", "torch.no_grad()"):
            assert idiom in text, (name, idiom)
    assert "torch.norm(weights, 1)" in codegen.script(spec_for("dropout-l1-l2"))
    assert "nn.Dropout(p=0.3)" in codegen.script(spec_for("dropout-l1-l2"))


def test_scripts_pass_ruff(tmp_path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    for name in CASES:
        (tmp_path / f"{name.replace('-', '_')}.py").write_text(codegen.script(spec_for(name)))
    done = subprocess.run([ruff, "check", "--isolated", "--line-length", "100",
                           "--select", "E,F,W", str(tmp_path)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_code_builds_what_the_app_builds(name) -> None:
    spec = ExperimentSpec().with_changes({
        "optimizer.name": name, "optimizer.lr": 0.2, "optimizer.weight_decay": 0.01,
        "optimizer.momentum": 0.5 if name in ("SGD", "RMSprop") else 0.0,
        "optimizer.beta1": 0.8, "optimizer.beta2": 0.99,
    })  # fmt: skip
    model = nn.Linear(2, 1)
    code = codegen.optimizer_code(spec)
    mine = eval(code, {"torch": torch, "model": model})  # our generated code, not user input
    theirs = train.OPTIMIZER_BUILDERS[name](model.parameters(), spec.optimizer)
    assert type(mine) is type(theirs) and mine.defaults == theirs.defaults, code


@pytest.mark.parametrize("name", list(LOSSES) + list(REGRESSION_LOSSES))
def test_loss_code_builds_what_the_app_builds(name) -> None:
    theirs = train.LOSS_MODULES[name]()
    mine = eval(codegen.module_code(theirs), {"nn": nn})
    assert type(mine) is type(theirs) and vars(mine) == vars(theirs)


def test_cli_prints_the_script_for_a_preset() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli(["code", "--preset", "xor", "--set", "optimizer.lr=0.1", "--steps", "30"])
    text = out.getvalue()
    assert code == 0
    assert text.startswith('"""' + presets.load("xor").title)
    assert "lr=0.1)" in text and "MAX_STEPS = 30" in text
    compile(text, "xor.py", "exec")


def test_cli_bad_setting_is_a_sentence(capsys) -> None:
    assert cli(["code", "--preset", "xor", "--set", "optimizer.lr=99"]) == 2
    assert "optimizer.lr" in capsys.readouterr().err


def test_every_dataset_exports_or_says_why() -> None:
    for name in DATASETS:
        if name in codegen.DATA_CODE:
            continue
        spec = json.loads(ExperimentSpec().to_json())
        spec["data"]["name"] = name
        try:
            spec = parse(spec)
        except ValueError:
            continue  # needs more settings than a name (an upload, a recurrent model)
        with pytest.raises(codegen.CodegenError, match="Code export"):
            codegen.script(spec)


def test_sequence_tasks_export_through_their_records_source() -> None:
    from nnplay import sequences

    tasks = {name for name, r in DATASETS.items() if r.source == "sequence"}
    assert tasks == set(codegen.SEQUENCE_CODE) == set(sequences.BUILDERS)
    for name in tasks:  # DATA_CODE's entry comes from the record's source, not a list by hand
        assert codegen.DATA_CODE[name].func is codegen.SOURCE_CODE["sequence"]
