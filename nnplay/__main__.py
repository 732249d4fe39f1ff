"""The command line: python -m nnplay {train, presets, ...}. Commands are a registry."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from nnplay import presets
from nnplay.spec import (
    ExperimentSpec,
    SettingChange,
    SpecError,
    coerce,
    parse,
    parse_change,
)

Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}


def command(name: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register a subcommand: configure adds its arguments, the decorated function runs it."""

    def register(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (configure, fn)
        return fn

    return register


def spec_arguments(parser: argparse.ArgumentParser) -> None:
    """--preset / --spec and --set key=value, shared by every command that takes a spec."""
    parser.add_argument("--preset", help="a preset name (python -m nnplay presets lists them)")
    parser.add_argument("--spec", help="a spec JSON file (instead of --preset)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change one setting, e.g. optimizer.lr=0.1 (repeatable)")
    parser.add_argument("--steps", type=int, help="stop after this many steps")
    parser.add_argument("--change", action="append", default=[], metavar="STEP:KEY=VALUE",
                        help="change a setting from step STEP on, as a run changed live, e.g. "
                             "1500:optimizer.lr=0.001 (repeatable; lr, momentum, weight decay, "
                             "L1, L2)")


def spec_from(args: argparse.Namespace) -> ExperimentSpec:
    """The spec the arguments describe; SpecError with a readable message otherwise."""
    if args.spec:
        spec = parse(Path(args.spec).read_text())
    elif args.preset:
        spec = presets.load(args.preset).spec
    else:
        spec = ExperimentSpec()
    changes: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"--set needs KEY=VALUE, got '{item}'")
        changes[key.strip()] = coerce(value.strip())
    if args.steps is not None:
        changes["train.max_steps"] = args.steps
    return spec.with_changes(changes) if changes else spec


def changes_from(args: argparse.Namespace, spec: ExperimentSpec) -> list[SettingChange]:
    """The --change arguments as the run's setting changes, checked against spec."""
    return [parse_change(text, spec) for text in args.change]


def _clean(value: object) -> object:
    """JSON has no NaN: non-finite floats become null."""
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _line(record: dict) -> str:
    return json.dumps({k: _clean(v) for k, v in record.items()})


@command("train", spec_arguments)
def train_command(args: argparse.Namespace) -> int:
    """Train without a browser; print one JSON line per evaluation, then a summary line."""
    spec = spec_from(args)  # a typo is reported before torch is loaded
    from nnplay import doctor, train

    class Printer(train.Callback):
        def on_eval(self, record: dict) -> None:
            print(_line({k: v for k, v in record.items() if k != "view"}), flush=True)

    recorder = doctor.Recorder(spec.model_dump())
    result = train.run_spec(spec, [Printer(), recorder], changes=changes_from(args, spec))
    snap = recorder.snapshot()
    status, message = doctor.verdict(result.status, result.message, snap)
    summary = {"status": status} | (result.record or {}) | result.extra
    if message:
        summary["message"] = message
    summary["diagnoses"] = doctor.ids(snap | {"status": status})
    print(_line(summary), flush=True)
    return 0 if status == "finished" else 1


@command("presets", lambda parser: None)
def presets_command(args: argparse.Namespace) -> int:
    """List the presets: name, page and teaching goal (then the optimiser-path presets)."""
    from nnplay import surfaces

    for p in [*presets.all_presets(), *surfaces.all_presets()]:
        print(f"{p.name:24} {p.page:12} {p.goal}")
    return 0


@command("code", spec_arguments)
def code_command(args: argparse.Namespace) -> int:
    """Print the standalone PyTorch script for an experiment (python -m nnplay code > run.py)."""
    from nnplay import codegen

    spec = spec_from(args)
    title = ""
    if args.preset and not args.spec:
        preset = presets.load(args.preset)
        title = f"{preset.title}\n\n{preset.goal}"
    print(codegen.script(spec, title, changes_from(args, spec)), end="")
    return 0


def race_arguments(parser: argparse.ArgumentParser) -> None:
    """The base experiment's arguments, the contenders, the target loss and a CSV path."""
    spec_arguments(parser)
    parser.add_argument("--contender", action="append", default=[], metavar="KEY=VALUE,...",
                        help="one optimiser, e.g. name=SGD,lr=0.1,momentum=0.9 (2 to 6 of them; "
                        "default: the preset's race, else SGD against Adam)")
    parser.add_argument("--target", type=float, help="test loss for the 'steps to' column")
    parser.add_argument("--csv", help="also write the ranking to this CSV file")


def _contender(text: str) -> dict[str, object]:
    """'name=SGD,lr=0.1' -> {"name": "SGD", "lr": 0.1}."""
    fields: dict[str, object] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"--contender needs KEY=VALUE pairs separated by commas, got '{item}'")
        fields[key.strip()] = coerce(value.strip())
    return fields


@command("race", race_arguments)
def race_command(args: argparse.Namespace) -> int:
    """Race optimisers from one initial state on the same batches; print the ranking."""
    from nnplay import race

    base = spec_from(args)
    if args.contender:
        setup = {"contenders": [_contender(c) for c in args.contender]}
    else:
        setup = (presets.load(args.preset).race if args.preset and not args.spec else None) or {}
    spec = race.parse_race({"base": base.model_dump(), **setup})
    table = race.ranking(race.run_race(spec), args.target)
    print(table.to_string(index=False), flush=True)
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0 if (table["status"] == "finished").all() else 1


def bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--steps", type=int, default=1000, help="training steps per variant")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each variant")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    parser.add_argument("--train-samples", type=int,
                        help="use generated files with this many training images")
    parser.add_argument("--live-steps", type=int, default=100_000,
                        help="steps in the live-page case (0: skip it)")
    parser.add_argument("--small-steps", type=int,
                        help="steps of the small and class cases (default: the spiral preset's "
                             "own; 0: skip both)")
    parser.add_argument("--class-runs", type=int, default=30,
                        help="runs started at once in the class case (0: skip it)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


@command("bench", bench_arguments)
def bench_command(args: argparse.Namespace) -> int:
    """Samples/s of the reference's loop, a bare loop and nnplay, side by side; the live page."""
    from nnplay import bench

    if min(args.steps, args.repeats) < 1 or (args.train_samples or 1) < 1:
        raise SpecError("--steps, --repeats and --train-samples must be at least 1")
    if min(args.small_steps or 0, args.class_runs) < 0:
        raise SpecError("--small-steps and --class-runs must be 0 or more")
    try:
        result = bench.run_bench(args.device, args.steps, args.repeats, args.threads,
                                 args.train_samples, args.live_steps,
                                 small_steps=args.small_steps, class_runs=args.class_runs)
    except bench.BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(bench.clean(result)) if args.json else bench.report(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnplay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (configure, fn) in COMMANDS.items():
        p = sub.add_parser(name, help=(fn.__doc__ or "").splitlines()[0])
        configure(p)
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except (SpecError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a dataset or device this machine lacks: one sentence, no traceback
        if type(e).__name__ not in ("DataUnavailable", "DeviceUnavailable"):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
