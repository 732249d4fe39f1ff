"""The speed bench: the reference's FashionMNIST loop, a bare PyTorch loop and nnplay's engine,
side by side in one process on the same model, data and device; plus one live-page refresh.

Every variant is timed over its training steps only: from just before the first batch to just
after the last one (synchronised on a GPU), including the evaluations every 500 steps that all
three make. One-time set-up (reading the files, building the model, starting the run) and the
final evaluation are left out for all three alike.

Two cases for where the playground lives: `small`, the spiral preset's network trained by a bare
eager loop, by nnplay's core and by nnplay through the run manager with the live page redrawn
(interleaved the same way); and `class`, a whole class's runs started at once on one server.
"""

from __future__ import annotations

import base64
import json
import math
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnplay import charts, figures, presets, runs, train
from nnplay import data as datasets
from nnplay.store import Store, home

PRESET = "fashion-mnist-ffnn"
BATCH = 64
EVAL_EVERY = 500  # the reference evaluates every 500 gradient updates
REFRESH_SECONDS = 1.0  # the Playground's chart refresh (ui.REFRESH_SECONDS)
LIVE_STEPS = 100_000
WARMUP_STEPS = 30
SMALL_PRESET = "spiral"  # the small case's network, data and batch order
SMALL_THREADS = 1  # what the run manager gives each run of a class on a 2-core machine
CLASS_RUNS = 30
REQUIRED = {  # ratio -> the target it should reach
    "ratio_vs_bare": {"cpu": 0.95, "cuda": 0.95},
    "ratio_vs_reference": {"cpu": 2.0, "cuda": 10.0},
}


def browser_record_path() -> Path:
    """Where tests/browser/test_speed.py leaves its latest measurement."""
    return home() / "bench" / "browser.json"


# --- the reference's model, as the reference writes it -----------------------------------------


class FeedForwardNN(nn.Module):
    """The reference's feed-forward template: hidden layers in an nn.ModuleList, log_softmax out."""

    def __init__(self, input_size: int, num_classes: int, num_hidden: int, hidden_dim: int,
                 dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.nonlinearity = nn.ReLU()
        self.hidden_layers = nn.ModuleList([nn.Linear(input_size, hidden_dim)])
        for _ in range(num_hidden - 1):
            self.hidden_layers.append(nn.Linear(hidden_dim, hidden_dim))
        self.output_projection = nn.Linear(hidden_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for hidden_layer in self.hidden_layers:
            x = self.nonlinearity(self.dropout(hidden_layer(x)))
        return F.log_softmax(self.output_projection(x), dim=-1)


def reference_model(device: torch.device, seed: int) -> tuple[nn.Module, torch.optim.Optimizer]:
    """FeedForwardNN(784 -> 2x512, dropout 0.2 -> 10) and SGD(lr 0.1, momentum 0.9)."""
    torch.manual_seed(seed)
    model = FeedForwardNN(784, 10, num_hidden=2, hidden_dim=512, dropout=0.2).to(device)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- the variants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What every variant shares: the files, the device, the step count and the thread count."""

    root: Path  # holds FashionMNIST/raw
    home: Path  # a scratch NNPLAY_HOME for the nnplay run's store
    device: torch.device
    steps: int
    threads: int  # torch intra-op threads, the same for all three
    seed: int = 0


def reference_loop(s: Setup) -> float:
    """a. The reference's loop: torchvision FashionMNIST + ToTensor + DataLoader(64, shuffle).

    Evaluation is the reference's evaluate_net (test DataLoader, eval mode, and like the
    reference no torch.no_grad()) without its per-batch print.
    """
    import torchvision
    from torch.utils.data import DataLoader
    from torchvision.datasets import FashionMNIST

    to_tensor = torchvision.transforms.ToTensor()
    train_dataset = FashionMNIST(root=str(s.root), train=True, transform=to_tensor)
    test_dataset = FashionMNIST(root=str(s.root), train=False, transform=to_tensor)
    train_dataloader = DataLoader(dataset=train_dataset, batch_size=BATCH, shuffle=True)
    test_dataloader = DataLoader(dataset=test_dataset, batch_size=BATCH)
    model, optimizer = reference_model(s.device, s.seed)
    nll_criterion = nn.NLLLoss()

    def evaluate_net() -> None:
        model.eval()
        num_correct, total_examples, total_test_loss = 0, 0, 0
        for test_images, test_labels in test_dataloader:
            test_images = test_images.view(-1, 784).to(s.device)
            test_labels = test_labels.to(s.device)
            predicted = model(test_images)
            total_test_loss += nll_criterion(predicted, test_labels) * test_labels.size(0)
            _, predicted_labels = torch.max(predicted.data, 1)
            total_examples += test_labels.size(0)
            num_correct += torch.sum(predicted_labels == test_labels)
        model.train()

    num_iter = 0
    _sync(s.device)
    start = time.perf_counter()
    while num_iter < s.steps:
        for images, labels in train_dataloader:
            reshaped_images = images.view(-1, 784).to(s.device)
            labels = labels.to(s.device)
            predicted = model(reshaped_images)
            batch_loss = nll_criterion(predicted, labels)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            num_iter += 1
            if num_iter % EVAL_EVERY == 0 and num_iter < s.steps:
                evaluate_net()
            if num_iter >= s.steps:
                break
    _sync(s.device)
    return s.steps * BATCH / (time.perf_counter() - start)


def bare_loop(s: Setup) -> float:
    """b. The same model and optimiser on tensors preloaded to the device, batches by index."""
    from torchvision.datasets import FashionMNIST

    sets = [FashionMNIST(root=str(s.root), train=t) for t in (True, False)]
    xs = [(d.data.view(len(d.data), -1).float() / 255).to(s.device) for d in sets]  # (N, 784)
    ys = [d.targets.to(s.device) for d in sets]
    model, optimizer = reference_model(s.device, s.seed)
    criterion = nn.NLLLoss()
    order = torch.Generator().manual_seed(s.seed)

    @torch.no_grad()
    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        model.eval()
        out = torch.cat([model(xs[1][i:i + train.EVAL_CHUNK])
                         for i in range(0, len(xs[1]), train.EVAL_CHUNK)])
        model.train()
        return criterion(out, ys[1]), (out.argmax(1) == ys[1]).float().mean()

    x, y = xs[0], ys[0]
    step = 0
    _sync(s.device)
    start = time.perf_counter()
    while step < s.steps:
        perm = torch.randperm(len(x), generator=order).to(s.device)
        for i in range(0, len(x), BATCH):
            idx = perm[i:i + BATCH]
            loss = criterion(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % EVAL_EVERY == 0 and step < s.steps:
                evaluate()
            if step >= s.steps:
                break
    _sync(s.device)
    return s.steps * BATCH / (time.perf_counter() - start)


def render(snap: dict) -> list[str]:
    """One refresh of the Playground's live panel (charts.live_panel, as the page draws it):
    the progress line and every chart as the JSON Streamlit sends."""
    text = [charts.progress_text(snap)]
    for fig in charts.live_panel(snap).values():
        if fig is not None:  # what the page's chart component sends (ui.chart)
            text.append(figures.to_json(fig))
    return text


def nnplay_run(s: Setup) -> float:
    """c. The fashion-mnist-ffnn preset started through a RunManager as the Playground starts it,
    with its live panel redrawn from snapshots once a second while it trains."""
    spec = presets.load(PRESET).spec.with_changes(
        {"train.max_steps": s.steps, "train.device": s.device.type})
    manager = runs.RunManager(store=Store(s.home), threads=s.threads)  # as ui.manager()
    try:
        run = manager.start(spec, owner="bench")
        while not run.wait(REFRESH_SECONDS):
            render(run.snapshot())
        snap = run.snapshot()
    finally:
        manager.close()
    if snap["status"] != "finished":
        raise BenchError(f"the nnplay run ended {snap['status']}: {snap['message']}")
    progress = snap["progress"]  # elapsed_s runs from the first step to the last flush
    return progress["step"] * BATCH / progress["elapsed_s"]


VARIANTS: dict[str, tuple[str, Callable[[Setup], float]]] = {
    "reference": ("a. reference loop (torchvision + DataLoader)", reference_loop),
    "bare": ("b. bare loop (preloaded tensors)", bare_loop),
    "nnplay": ("c. nnplay (run manager, live charts)", nnplay_run),
}


class BenchError(RuntimeError):
    """The bench cannot run as asked; the message is one sentence."""


def in_thread(variant: Callable[[Setup], float], s: Setup) -> float:
    """Run a variant in a fresh thread with s.threads torch threads, as the app runs training.

    The main thread never trains: a second OpenMP team alive in another thread (the main one,
    or the one waiting on the nnplay run) slowed a worker thread's team by up to 30 % on a
    2-core machine, which would have charged nnplay (always in a worker) for it.
    """
    # nnplay's run manager starts the training thread itself, with s.threads
    return _on_thread(variant, s, None if variant is nnplay_run else s.threads)


def _on_thread(variant: Callable, s: object, threads: int | None) -> float:
    """variant(s) in a fresh thread with `threads` torch threads (None: as it is); its result,
    or its exception re-raised here."""
    out: list = []

    def target() -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            out.append(variant(s))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            out.append(e)

    thread = threading.Thread(target=target, name="bench")
    thread.start()
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


# --- the live page -----------------------------------------------------------------------------


def live_run(steps: int = LIVE_STEPS, steps_per_flush: int = 75) -> runs.Run:
    """A Run of the spiral preset whose history holds `steps` steps, as a long run leaves it.

    One real step supplies the info, the data points and a real decision boundary; the rest of
    the history is synthetic: a flush every `steps_per_flush` steps (a quarter second at ~300
    steps/s) with activation and gradient samples, and the preset's evaluation schedule.
    """
    spec = presets.load("spiral").spec.with_changes({"train.max_steps": 1, "train.device": "cpu"})
    run = runs.Run(spec, owner="bench")
    run.execute(torch.device("cpu"))
    if run.status != "finished":
        raise BenchError(f"the spiral run ended {run.status}: {run.message}")
    rng = np.random.default_rng(0)
    acts = run.act_stats[-1] if run.act_stats else np.zeros((0, 4))
    grads = run.grad_norms[-1] if run.grad_norms else np.zeros(0)
    hist = {"stats": acts, "hist": run.hist}
    every = max(math.ceil(steps / 200), run.info["eval_every"])  # train.Plan's auto schedule
    done = 1
    while done < steps:
        n = min(steps_per_flush, steps - done)
        step = np.arange(done + 1, done + n + 1)
        loss = 0.7 * np.exp(-step / 20_000) + 0.05 * rng.random(n)
        progress = dict(run.progress, step=done + n, total_steps=steps)
        run.on_flush({
            "step": step.tolist(), "loss": loss.tolist(),
            "penalty": [0.0] * n, "l1": [0.0] * n, "l2": [0.0] * n,
            "progress": progress, "view": None,
            "activations": hist | {"stats": acts * (1 + 0.01 * rng.standard_normal(acts.shape))},
            "grads": grads * (1 + 0.1 * rng.standard_normal(grads.shape)),
        })  # fmt: skip
        for s in range(done + every - done % every, done + n + 1, every):
            run.on_eval({"step": s, "epoch": 1 + s // run.info["steps_per_epoch"],
                         "train_loss": float(loss[-1]), "test_loss": float(loss[-1]) + 0.02,
                         "train_acc": 0.9, "test_acc": 0.88})  # fmt: skip
        done += n
    return run


def trace_points(fig_json: str) -> int:
    """The most points any x/y trace of a figure's JSON carries."""
    counts = [0]
    for trace in json.loads(fig_json).get("data", []):
        if trace.get("type", "scatter") in ("scatter", "scattergl"):
            counts.append(max(_length(trace.get("x")), _length(trace.get("y"))))
    return max(counts)


def _length(values: object) -> int:
    """Elements in a trace array: a JSON list, or plotly's typed array {"dtype", "bdata"}."""
    if isinstance(values, dict) and "bdata" in values:
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values) if isinstance(values, list) else 0


def live_page(repeats: int = 5, steps: int = LIVE_STEPS) -> dict:
    """Server-side time and size of one live-panel refresh for a run with `steps` steps.

    The time is the refreshing thread's CPU time (the work it does, however busy the machine),
    with the wall-clock median beside it.
    """
    run = live_run(steps)
    cpu, wall, sent = [], [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        sent = render(run.snapshot())
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return {
        "steps": steps, "charts": len(sent) - 1, "repeats": repeats,
        "ms_min": 1000 * min(cpu), "ms_median": 1000 * statistics.median(cpu),
        "ms_max": 1000 * max(cpu), "wall_ms_median": 1000 * statistics.median(wall),
        "bytes": sum(len(t.encode()) for t in sent),
        "max_points_per_trace": max(trace_points(t) for t in sent[1:]),
    }  # fmt: skip


# --- small networks and a class at once ------------------------------------------------------


@dataclass(frozen=True)
class Small:
    """The small case's setup: the spiral preset for `steps` steps, and a scratch store."""

    home: Path
    steps: int
    seed: int = 0
    device: str = "cpu"

    def spec(self, seed: int | None = None):
        return presets.load(SMALL_PRESET).spec.with_changes(
            {"train.max_steps": self.steps, "train.device": self.device,
             "seed": self.seed if seed is None else seed})


def small_bare(s: Small) -> float:
    """b. A bare eager loop: nnplay's model and data for the spec (the same initial weights and
    points), trained by plain nn.CrossEntropyLoss and torch.optim.Adam, batches by index in the
    same order; no evaluation, no instruments. Steps/s."""
    spec = s.spec()
    ds, model, device = train.prepare(spec)
    o = spec.optimizer
    optimizer = torch.optim.Adam(model.parameters(), lr=o.lr, betas=(o.beta1, o.beta2))
    criterion = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(spec.seed)
    x, y, bs = ds.x_train, ds.y_train, spec.train.batch_size
    step = 0
    _sync(device)
    start = time.perf_counter()
    while step < s.steps:
        perm = torch.randperm(len(x), generator=order).to(device)
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            loss = criterion(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step >= s.steps:
                break
    _sync(device)
    return s.steps / (time.perf_counter() - start)


class _Elapsed(train.Callback):
    """The last progress a fit reported: elapsed_s runs from its first step to its last flush."""

    progress: dict = {}

    def on_flush(self, chunk: dict) -> None:
        self.progress = chunk["progress"]


def small_core(s: Small) -> float:
    """c. nnplay's core: train.run_spec with every instrument, no page. Steps/s."""
    elapsed = _Elapsed()
    result = train.run_spec(s.spec(), [elapsed])
    if result.status != "finished":
        raise BenchError(f"the spiral run ended {result.status}: {result.message}")
    return elapsed.progress["step"] / elapsed.progress["elapsed_s"]


def small_nnplay(s: Small) -> float:
    """d. nnplay through a RunManager with a store, as the Playground starts it, its live
    panel redrawn from snapshots once a second. Steps/s."""
    manager = runs.RunManager(store=Store(s.home), threads=SMALL_THREADS)
    try:
        run = manager.start(s.spec(), owner="bench")
        while not run.wait(REFRESH_SECONDS):
            render(run.snapshot())
        snap = run.snapshot()
    finally:
        manager.close()
    if snap["status"] != "finished":
        raise BenchError(f"the spiral run ended {snap['status']}: {snap['message']}")
    return snap["progress"]["step"] / snap["progress"]["elapsed_s"]


SMALL_VARIANTS: dict[str, tuple[str, Callable[[Small], float]]] = {
    "bare": ("b. bare eager loop (same model, data, batches)", small_bare),
    "core": ("c. nnplay core (train.run_spec)", small_core),
    "nnplay": ("d. nnplay (run manager, live charts)", small_nnplay),
}


def small_case(s: Small, repeats: int) -> dict:
    """Every small variant `repeats` times, interleaved in rotating order, each in a fresh
    thread with SMALL_THREADS torch threads."""
    samples: dict[str, list[float]] = {name: [] for name in SMALL_VARIANTS}
    warm = Small(s.home, min(s.steps, WARMUP_STEPS), s.seed, s.device)
    names = list(SMALL_VARIANTS)
    for name in names:
        _threaded(SMALL_VARIANTS[name][1], warm)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(_threaded(SMALL_VARIANTS[name][1], s))
    med = {name: statistics.median(v) for name, v in samples.items()}
    return {"preset": SMALL_PRESET, "steps": s.steps, "threads": SMALL_THREADS,
            "repeats": repeats, "steps_per_s": {k: spread(v) for k, v in samples.items()},
            "ratio_core_vs_bare": med["core"] / med["bare"],
            "ratio_vs_bare": med["nnplay"] / med["bare"]}  # fmt: skip


def _threaded(variant: Callable[[Small], float], s: Small) -> float:
    """A small variant in its own thread with SMALL_THREADS torch threads, as a run trains."""
    return _on_thread(variant, s, SMALL_THREADS)


def class_case(s: Small, n_runs: int) -> dict:
    """n_runs spiral runs (seeds 0..n_runs-1) started at once through one RunManager with a
    store, as a class pressing Train together; meanwhile one live page redraws once a second.

    Finish times are seconds from the first start; the redraw's time is its thread's CPU time.
    The clock starts once the manager is ready (its worker processes' server, which a server
    starts with its run manager, is up); how long that took is `boot_s`.
    """
    manager = runs.RunManager(store=Store(s.home), keep_finished=n_runs)
    finished: dict[int, float] = {}
    refresh: list[float] = []
    try:
        boot = time.monotonic()
        manager.ready()
        boot_s = time.monotonic() - boot
        start = time.monotonic()
        started = [manager.start(s.spec(seed), owner=f"student-{seed}") for seed in range(n_runs)]
        launch_s = time.monotonic() - start

        def note(seed: int, run: runs.Run) -> None:
            run.wait()
            finished[seed] = time.monotonic() - start

        waiters = [threading.Thread(target=note, args=(i, r), daemon=True)
                   for i, r in enumerate(started)]  # fmt: skip
        for w in waiters:
            w.start()
        while len(finished) < n_runs:
            watched = next((r for r in started if not r.done), started[-1])
            cpu = time.thread_time()
            render(watched.snapshot())
            refresh.append(time.thread_time() - cpu)
            started[-1].wait(REFRESH_SECONDS)
        for w in waiters:
            w.join()
        bad = [r for r in started if r.status != "finished"]
        if bad:
            raise BenchError(f"a class run ended {bad[0].status}: {bad[0].message}")
    finally:
        manager.close()
    times = sorted(finished.values())
    return {
        "runs": n_runs, "steps": s.steps, "max_runs": manager.max_runs,
        "threads": manager.threads, "executor": manager.executor, "boot_s": boot_s,
        "launch_s": launch_s,
        "first_s": times[0], "median_s": statistics.median(times),
        "p90_s": times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)],
        "last_s": times[-1], "steps_per_s": n_runs * s.steps / times[-1],
        "refresh_ms": 1000 * statistics.median(refresh) if refresh else None,
        "refreshes": len(refresh),
    }  # fmt: skip


# --- the whole bench ---------------------------------------------------------------------------


@contextmanager
def fashion_files(train_samples: int | None) -> Iterator[tuple[Path, str]]:
    """(root, description): the real FashionMNIST files if present, else generated ones."""
    from torchvision.datasets import FashionMNIST

    real = datasets.data_dir()
    raw = real / "FashionMNIST" / "raw"
    present = all((raw / f).is_file() for f in datasets._raw_files(FashionMNIST))
    if train_samples is None and present:
        yield real, f"FashionMNIST files in {raw}"
        return
    n_train = train_samples or 60_000
    n_test = max(n_train // 6, BATCH)
    with tempfile.TemporaryDirectory(prefix="nnplay-bench-") as tmp:
        datasets.write_idx_files(Path(tmp), "fashion-mnist", n_train, n_test)
        yield Path(tmp), (f"generated FashionMNIST-format files ({n_train:,} train, "
                          f"{n_test:,} test images, 28x28 uint8)")


@contextmanager
def data_dir_set(root: Path) -> Iterator[None]:
    """NNPLAY_DATA_DIR pointed at root for the nnplay run, restored afterwards."""
    old = os.environ.get("NNPLAY_DATA_DIR")
    os.environ["NNPLAY_DATA_DIR"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NNPLAY_DATA_DIR", None)
        else:
            os.environ["NNPLAY_DATA_DIR"] = old


def spread(values: list[float]) -> dict:
    """The min, median and max of repeated measurements, with the measurements."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "runs": values}


def run_bench(device: str = "auto", steps: int = 1000, repeats: int = 3,
              threads: int | None = None, train_samples: int | None = None,
              live_steps: int = LIVE_STEPS, seed: int = 0, small_steps: int | None = None,
              class_runs: int = CLASS_RUNS) -> dict:
    """Every variant `repeats` times, interleaved in rotating order (a b c, b c a, c a b, ...),
    the live-page case, and the small and class cases (small_steps 0 or class_runs 0 skips
    them; small_steps None: the spiral preset's own length)."""
    dev = train.resolve_device(device)
    threads = threads or torch.get_num_threads()
    result: dict = {"device": train.device_label(dev), "device_type": dev.type,
                    "threads": threads, "steps": steps, "repeats": repeats, "batch_size": BATCH}
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with fashion_files(train_samples) as (root, described), data_dir_set(root), \
            tempfile.TemporaryDirectory(prefix="nnplay-bench-home-") as home:
        result["data"] = described
        warm = Setup(root, Path(home), dev, min(steps, WARMUP_STEPS), threads, seed)
        for _, fn in VARIANTS.values():
            in_thread(fn, warm)  # first-call costs (imports, kernels) paid outside the timing
        setup = Setup(root, Path(home), dev, steps, threads, seed)
        names = list(VARIANTS)
        for r in range(repeats):  # a b c, b c a, c a b, ...: no variant always follows another
            for name in names[r % len(names):] + names[:r % len(names)]:
                samples[name].append(in_thread(VARIANTS[name][1], setup))
    result["samples_per_s"] = {name: spread(v) for name, v in samples.items()}
    med = {name: statistics.median(v) for name, v in samples.items()}
    result["ratio_vs_reference"] = med["nnplay"] / med["reference"]
    result["ratio_vs_bare"] = med["nnplay"] / med["bare"]
    result["targets"] = {k: v.get(dev.type, v["cuda"]) for k, v in REQUIRED.items()}
    result["live_page"] = live_page(steps=live_steps) if live_steps else None
    result["browser"] = browser_record()
    if small_steps is None:  # the preset's own length
        spec = presets.load(SMALL_PRESET).spec
        ds = datasets.build(spec.data, spec.seed)
        small_steps = train.Plan.of(spec, len(ds.x_train), len(ds.x_test)).total_steps
    with tempfile.TemporaryDirectory(prefix="nnplay-bench-small-") as home:
        small = Small(Path(home), small_steps, seed, dev.type)
        result["small"] = small_case(small, repeats) if small_steps else None
        result["class"] = class_case(small, class_runs) if small_steps and class_runs else None
    return result


def browser_record() -> dict | None:
    """The latest Train-to-first-point measurement of tests/browser/test_speed.py, if any."""
    path = browser_record_path()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def report(r: dict) -> str:
    """The bench's result as the table the README shows."""
    lines = [
        f"nnplay bench · {r['device']} · {r['threads']} torch threads each · "
        f"{r['steps']:,} steps x {r['repeats']} repeats, interleaved in rotating order · batch "
        f"{r['batch_size']}",
        f"data: {r['data']}",
        "",
    ]
    lines += _table("samples/s", VARIANTS, r["samples_per_s"])
    lines.append("")
    for key, label in (("ratio_vs_reference", "c/a, nnplay vs the reference loop"),
                       ("ratio_vs_bare", "c/b, nnplay vs the bare loop")):
        target = r["targets"][key]
        verdict = "meets" if r[key] >= target else "MISSES"
        lines.append(f"{label}: {r[key]:.3f} (median over median; {verdict} the target "
                     f">= {target:g})")
    live = r.get("live_page")
    if live:
        lines.append(
            f"live page, a run with {live['steps']:,} steps: one refresh ({live['charts']} charts)"
            f" takes {live['ms_median']:.0f} ms of server CPU (min {live['ms_min']:.0f}, max "
            f"{live['ms_max']:.0f}; {live['wall_ms_median']:.0f} ms wall), sends "
            f"{live['bytes'] / 1000:,.0f} kB, at most "
            f"{live['max_points_per_trace']:,} points per trace")
    b = r.get("browser")
    if b:
        lines.append(
            f"browser ({b.get('when', '?')}, {b.get('preset', '?')} on {b.get('device', '?')}): "
            f"Train to the first loss point {b['first_point_s']:.2f} s"
            + (f" ({b['first_point_again_s']:.2f} s the next time)"
               if "first_point_again_s" in b else "")
            + f"; one refresh "
            f"{b['refresh_bytes'] / 1000:,.0f} kB over the websocket")
    else:
        lines.append("browser: no measurement yet; run pytest tests/browser/test_speed.py")
    return "\n".join(lines + small_report(r.get("small")) + class_report(r.get("class")))


def _table(unit: str, variants: dict, rates: dict) -> list[str]:
    """A Markdown table of each variant's min, median and max rate."""
    w = max(len(label) for label, _ in variants.values())
    lines = [f"| {unit:{w}} | {'min':>9} | {'median':>9} | {'max':>9} |",
             f"| {'-' * w} | {'-' * 9}:| {'-' * 9}:| {'-' * 9}:|"]
    for name, (label, _) in variants.items():
        v = rates[name]
        lines.append(f"| {label:{w}} | {v['min']:9,.0f} | {v['median']:9,.0f} "
                     f"| {v['max']:9,.0f} |")
    return lines


def small_report(small: dict | None) -> list[str]:
    """The small case's table and ratios."""
    if not small:
        return []
    lines = [
        "",
        f"small: the {small['preset']} preset's network, {small['steps']:,} steps x "
        f"{small['repeats']} repeats, interleaved, {small['threads']} torch thread each",
        "",
    ]
    lines += _table("steps/s", SMALL_VARIANTS, small["steps_per_s"])
    verdict = "meets" if small["ratio_vs_bare"] >= 1.0 else "MISSES"
    lines += ["", f"c/b, nnplay core vs the bare eager loop: {small['ratio_core_vs_bare']:.2f}",
              f"d/b, nnplay with the live page vs the bare eager loop: "
              f"{small['ratio_vs_bare']:.2f} ({verdict} the target >= 1; moonshot 3)"]
    return lines


EXECUTED_IN = {"thread": "threads of one process", "process": "worker processes"}


def class_report(c: dict | None) -> list[str]:
    """The class case in three lines."""
    if not c:
        return []
    refresh = "no redraw" if c["refresh_ms"] is None else \
        f"{c['refresh_ms']:.0f} ms of server CPU per redraw (median of {c['refreshes']})"
    return [
        "",
        f"class: {c['runs']} spiral runs of {c['steps']:,} steps started at once through one "
        f"run manager ({c['max_runs']} at a time in {EXECUTED_IN[c['executor']]}, "
        f"{c['threads']} torch thread each; ready {c['boot_s']:.1f} s after it was made)",
        f"finished after: first {c['first_s']:.1f} s, median {c['median_s']:.1f} s, p90 "
        f"{c['p90_s']:.1f} s, last {c['last_s']:.1f} s; {c['steps_per_s']:,.0f} steps/s in all",
        f"a live page meanwhile: {refresh}",
    ]


def clean(value: object) -> object:
    """A result with non-finite floats as null, so it is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value

