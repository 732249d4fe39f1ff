"""What the network view (2D data) and the first layer's tiles (image data) cost the server
for each live refresh: `python -m nnplay.viewcost`.

For the spiral preset and the fashion-mnist-ffnn preset (on generated FashionMNIST-format files)
it trains a real run for a few steps, then times, interleaved in alternating order, one refresh
of the Playground's live panel without the view and with it (the figures built and written as
the JSON the page's chart component sends), as the refreshing thread's CPU time. It also times
the training thread's share of a refresh: the view's pictures (one forward pass over the unit
grid, hooked per layer) or the tiles' copy of the first layer's weights.

With --pairs N it also trains the whole spiral preset N times with the view's pictures and N
times without, in interleaved pairs whose order alternates, and gives the ratio of the training
thread's CPU time and of the run's training time (with/without; the pictures are taken about once
a second, as for the page).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from nnplay import (
    bench,
    charts,
    figures,
    first_layer,
    instruments,
    keyframe_cost,
    network_chart,
    presets,
    runs,
    train,
    unitgrid,
)
from nnplay import data as datasets
from nnplay.spec import ExperimentSpec, loss_info

# (preset, training steps before the refresh is timed)
CASES: dict[str, tuple[str, int]] = {
    "spiral": ("spiral", 400),
    "fashion": ("fashion-mnist-ffnn", 60),
}
FASHION_TRAIN, FASHION_TEST = 10_000, 2_000  # generated images: the view's cost is per unit


def panel_json(snap: dict) -> list[str]:
    """One refresh of the live panel without the view: the progress line and every chart of
    charts.live_panel as JSON, as the page sends them."""
    out = [charts.progress_text(snap)]
    out += [figures.to_json(fig)
            for fig in charts.live_panel(snap).values() if fig is not None]
    return out


def view_json(snap: dict) -> list[str]:
    """The view's figures as the page draws them: the network and the close-up of its first
    hidden unit (2D data), or the first layer's tiles (image data)."""
    figs = [charts.weights_chart(snap)]
    network = snap.get("network")
    if network:
        column, row, _ = network_chart.node_list(network)[len(network["inputs"])]
        figs += [network_chart.network_chart(snap, selected=(column, row)),
                 network_chart.unit_chart(snap, column, row)]
    return [figures.to_json(fig) for fig in figs if fig is not None]


def _trained(spec: ExperimentSpec) -> dict:
    """The snapshot of a real run of spec, trained on this thread."""
    run = runs.Run(spec, owner="viewcost")
    run.execute(torch.device("cpu"), threads=1)
    if run.status != "finished":
        raise RuntimeError(f"the {spec.data.name} run ended {run.status}: {run.message}")
    return run.snapshot()


def _training_share(spec: ExperimentSpec) -> Callable[[], object]:
    """The training thread's work for the view at one refresh, on the spec's model and data."""
    ds, model, _ = train.prepare(spec, torch.device("cpu"))
    model.eval()
    if first_layer.applies(model, ds.kind, ds.image_shape):
        return lambda: first_layer.weight_tiles(model, ds.image_shape)
    output = loss_info(spec.loss.name, spec.task).output
    ctx = instruments.ViewContext(torch.cat([ds.x_train, ds.x_test]), output, ds.n_classes, ds)
    return lambda: unitgrid.network_view(model, ctx)


def _cpu_ms(fn: Callable[[], object]) -> float:
    start = time.thread_time()
    fn()
    return 1000 * (time.thread_time() - start)


def measure(case: str, repeats: int = 30, steps: int | None = None) -> dict:
    """Median CPU ms (and min, max) of a refresh without and with the view, interleaved; the
    view's extra ms (the medians' difference, and the median and least of each iteration's
    difference) and bytes; the training thread's ms for the view per refresh."""
    preset, default_steps = CASES[case]
    spec = presets.load(preset).spec.with_changes(
        {"train.max_steps": steps or default_steps, "train.device": "cpu"})
    snap = _trained(spec)
    share = _training_share(spec)
    variants = {"without": lambda: panel_json(snap),
                "with": lambda: panel_json(snap) + view_json(snap)}
    times: dict[str, list[float]] = {k: [] for k in (*variants, "training")}
    for fn in (*variants.values(), share):  # warm: first calls build caches
        fn()
    for i in range(repeats):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))
        for name in order:
            times[name].append(_cpu_ms(variants[name]))
        times["training"].append(_cpu_ms(share))
    stats = {k: {"min": min(v), "median": statistics.median(v), "max": max(v)}
             for k, v in times.items()}  # fmt: skip
    pairs = [w - o for w, o in zip(times["with"], times["without"])]  # the same iteration's
    size = {k: sum(len(t.encode()) for t in fn()) for k, fn in variants.items()}
    return {
        "case": case, "preset": preset, "steps": snap["progress"]["step"], "repeats": repeats,
        "ms": stats, "view_ms": stats["with"]["median"] - stats["without"]["median"],
        "view_ms_paired": statistics.median(pairs), "view_ms_least": min(pairs),
        "bytes": size, "view_bytes": size["with"] - size["without"],
        "server_ms_per_refresh": (stats["with"]["median"] - stats["without"]["median"]
                                  + stats["training"]["median"]),
    }  # fmt: skip


def _timed_run(spec: ExperimentSpec, view: bool) -> tuple[float, float]:
    """(thread CPU s, training s) of one run of spec on this thread, with or without the
    network view's pictures."""
    applies = unitgrid.applies
    if not view:
        unitgrid.applies = lambda *args, **kwargs: False
    try:
        run = runs.Run(spec, owner="viewcost")
        start = time.thread_time()
        run.execute(torch.device("cpu"), threads=1)
        cpu = time.thread_time() - start
    finally:
        unitgrid.applies = applies
    if run.status != "finished":
        raise RuntimeError(f"the run ended {run.status}: {run.message}")
    if view != bool(run.snapshot().get("network")):
        raise RuntimeError("the view was not switched as asked")
    return cpu, run.progress["elapsed_s"]


def training_pairs(pairs: int) -> dict:
    """The spiral preset trained with and without the view in interleaved pairs: with/without
    ratios of the training thread's CPU time and of the training time."""
    spec = presets.load("spiral").spec.with_changes({"train.device": "cpu"})
    for view in (True, False):  # warm-up: imports, caches
        _timed_run(spec, view)
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(pairs):
        for view in ((True, False) if i % 2 == 0 else (False, True)):
            times[view].append(_timed_run(spec, view))
    on, off = times[True], times[False]
    return {"pairs": pairs,
            "cpu": keyframe_cost.paired([c for c, _ in on], [c for c, _ in off]),
            "training": keyframe_cost.paired([t for _, t in on], [t for _, t in off]),
            "training_s_off": statistics.median(t for _, t in off)}


def describe_pairs(r: dict) -> str:
    """The training pairs as lines of text."""
    lines = [f"spiral trained with and without the view, {r['pairs']} interleaved pairs "
             f"(without: {r['training_s_off']:.2f} s of training, median):"]
    for what in ("cpu", "training"):
        p = r[what]
        lines.append(f"  {what}: with/without median {p['median']:.4f}, geometric mean "
                     f"{p['mean']:.4f} (95 % interval {p['low']:.4f}-{p['high']:.4f})")
    return "\n".join(lines)


@contextmanager
def generated_fashion(n_train: int, n_test: int) -> Iterator[Path]:
    """NNPLAY_DATA_DIR pointed at generated FashionMNIST-format files, restored afterwards."""
    with tempfile.TemporaryDirectory(prefix="nnplay-viewcost-") as tmp:
        datasets.write_idx_files(Path(tmp), "fashion-mnist", n_train, n_test)
        with bench.data_dir_set(Path(tmp)):
            yield Path(tmp)


def report(r: dict) -> str:
    """One case as a few lines of text."""
    ms = r["ms"]
    line = "  {}: {median:.1f} ms (min {min:.1f}, max {max:.1f})".format
    return "\n".join([
        f"{r['case']} ({r['preset']}, {r['steps']} steps, {r['repeats']} interleaved repeats):",
        line("refresh without the view", **ms["without"]) + f", {r['bytes']['without']:,} B",
        line("refresh with the view", **ms["with"]) + f", {r['bytes']['with']:,} B",
        line("training thread, the view's pictures per refresh", **ms["training"]),
        f"  the view per refresh: {r['view_ms']:.1f} ms on the page's thread + "
        f"{ms['training']['median']:.1f} ms in training = {r['server_ms_per_refresh']:.1f} ms "
        f"of server CPU, {r['view_bytes']:,} B more sent",
        f"  the view's page-thread ms, refresh by refresh: median {r['view_ms_paired']:.1f}, "
        f"least {r['view_ms_least']:.1f}",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Measure both cases (or those named) and print them, or one JSON object with --json."""
    parser = argparse.ArgumentParser(prog="python -m nnplay.viewcost", description=__doc__)
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"of {', '.join(CASES)} (all)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=0,
                        help="also train spiral with and without the view, this many pairs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"{unknown[0]!r} is not a case; choose from {', '.join(CASES)}")
    torch.set_num_threads(1)  # what the run manager gives a run on a 2-core machine
    results = []
    for case in args.cases or list(CASES):
        if case == "fashion":
            with generated_fashion(FASHION_TRAIN, FASHION_TEST):
                results.append(measure(case, args.repeats))
        else:
            results.append(measure(case, args.repeats))
    print(json.dumps(results) if args.json else "\n".join(map(report, results)), flush=True)
    if args.pairs:
        pairs = training_pairs(args.pairs)
        print(json.dumps(pairs) if args.json else describe_pairs(pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
