"""What taking keyframes costs a run, measured side by side: the same run (same spec, seed and
work) with keyframes on and off, interleaved in pairs whose order alternates (on off, off on,
...), each started through a RunManager as the app starts it, its keyframes written to a store.

Three measures per pair: for runs one after the other, the process's CPU time from start until
the last keyframe is stored (the training thread and the writer thread both counted, so work
moved off the step's path is not hidden) and the wall time until the run ends; and for the two
runs trained at the same time (two slots, a torch thread each), each one's training time, so
that both see the same load from the rest of the machine. Usage:
python -m nnplay.keyframe_cost [--pairs 12] [--case spiral|fashion|both].
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch
from scipy import stats

from nnplay import bench, keyframes, presets
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store

FASHION_STEPS = 1500  # a shortened FashionMNIST run: its 8 keyframes sit closer than a full
# run's (9,380 steps), so the share measured is an upper bound for the full run


def case_spec(case: str) -> ExperimentSpec:
    """The spec measured: the spiral preset as it is, or fashion-mnist-ffnn shortened."""
    if case == "spiral":
        return presets.load("spiral").spec.with_changes({"train.device": "cpu"})
    return presets.load("fashion-mnist-ffnn").spec.with_changes(
        {"train.device": "cpu", "train.max_steps": FASHION_STEPS})


def one_run(manager: RunManager, spec: ExperimentSpec, keep: bool) -> dict:
    """One run with keyframes on or off: CPU and wall seconds, steps and keyframes kept."""
    manager.keep_keyframes = keep
    cpu, wall = time.process_time(), time.perf_counter()
    run = manager.start(spec, owner="cost")
    run.wait()
    wall = time.perf_counter() - wall
    keyframes.WRITER.drain()
    cpu = time.process_time() - cpu
    if run.status != "finished":
        raise bench.BenchError(f"the run ended {run.status}: {run.message}")
    out = {"cpu_s": cpu, "wall_s": wall, "steps": run.progress["step"],
           "keyframes": len(run.frames())}
    manager.delete(run.id, "cost")
    return out


def together(manager: RunManager, spec: ExperimentSpec, first: bool) -> dict[bool, float]:
    """Two runs at once, keyframes on in one and off in the other (first: the one started
    first), so both see the same load: each one's training time (first step to last flush)."""
    started = {}
    for keep in (first, not first):
        manager.keep_keyframes = keep
        started[keep] = manager.start(spec, owner=f"cost-{keep}")
    for run in started.values():
        run.wait()
    keyframes.WRITER.drain()
    out = {}
    for keep, run in started.items():
        if run.status != "finished":
            raise bench.BenchError(f"the run ended {run.status}: {run.message}")
        out[keep] = run.progress["elapsed_s"]
        manager.delete(run.id, f"cost-{keep}")
    return out


def paired(on: list[float], off: list[float]) -> dict:
    """on/off ratios of pairs: median, geometric mean and its 95 % interval (t over logs)."""
    logs = [math.log(a / b) for a, b in zip(on, off)]
    mean = statistics.fmean(logs)
    half = 0.0
    if len(logs) > 1:
        t = stats.t.ppf(0.975, len(logs) - 1)
        half = float(t) * statistics.stdev(logs) / math.sqrt(len(logs))
    return {"median": statistics.median(a / b for a, b in zip(on, off)),
            "mean": math.exp(mean), "low": math.exp(mean - half), "high": math.exp(mean + half)}


def measure(case: str, pairs: int) -> dict:
    """pairs interleaved on/off pairs of the case (after one warm-up run of each)."""
    spec = case_spec(case)
    torch.set_num_threads(1)
    runs: dict[bool, list[dict]] = {True: [], False: []}
    both: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="nnplay-kf-") as tmp:
        manager = RunManager(max_runs=2, threads=1, store=Store(Path(tmp)), limits=Limits())
        try:
            manager.speed()  # measured once, before any timing
            for keep in (True, False):  # warm-up: imports, the data cache, allocator
                one_run(manager, spec, keep)
            for i in range(pairs):
                for keep in ((True, False) if i % 2 == 0 else (False, True)):
                    runs[keep].append(one_run(manager, spec, keep))
                for keep, seconds in together(manager, spec, i % 2 == 0).items():
                    both[keep].append(seconds)
        finally:
            manager.close()
    on, off = runs[True], runs[False]
    return {"case": case, "pairs": pairs, "steps": on[0]["steps"],
            "keyframes": on[0]["keyframes"], "keyframes_off": off[0]["keyframes"],
            "cpu": paired([r["cpu_s"] for r in on], [r["cpu_s"] for r in off]),
            "wall": paired([r["wall_s"] for r in on], [r["wall_s"] for r in off]),
            "together": paired(both[True], both[False]),
            "cpu_s_off": statistics.median(r["cpu_s"] for r in off),
            "wall_s_off": statistics.median(r["wall_s"] for r in off)}


def report(r: dict) -> str:
    """The measurement as two lines of text."""
    lines = [f"{r['case']}: {r['steps']:,} steps, {r['keyframes']} keyframes kept (off: "
             f"{r['keyframes_off']}), {r['pairs']} interleaved pairs; without keyframes a run "
             f"took {r['cpu_s_off']:.2f} s CPU, {r['wall_s_off']:.2f} s wall (medians)"]
    for what in ("cpu", "wall", "together"):
        p = r[what]
        lines.append(f"  {what}: on/off median {p['median']:.4f}, geometric mean "
                     f"{p['mean']:.4f} (95 % interval {p['low']:.4f}-{p['high']:.4f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nnplay.keyframe_cost",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("spiral", "fashion", "both"), default="both")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print JSON, not text")
    args = parser.parse_args(argv)
    cases = ("spiral", "fashion") if args.case == "both" else (args.case,)
    for case in cases:
        if case == "fashion":
            with bench.fashion_files(60_000) as (root, described), bench.data_dir_set(root):
                result = measure(case, args.pairs) | {"data": described}
        else:
            result = measure(case, args.pairs)
        print(json.dumps(result) if args.json else report(result), flush=True)


if __name__ == "__main__":
    main()
