"""Every NNPLAY_* environment variable nnplay reads, in one table: its kind, default and what it
sets. A value that cannot be used is never taken as "off": the default stands, and one sentence
naming the variable and what it accepts goes to the log and to problems() (the page's panel)."""

from __future__ import annotations

import hmac
import logging
import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("nnplay")


@dataclass(frozen=True)
class Setting:
    """One variable: int, float, path or secret; its default; what it sets; its least value."""

    kind: str
    default: object
    what: str
    minimum: float = 1
    choices: tuple[str, ...] = ()  # a choice's values


SETTINGS: dict[str, Setting] = {
    "NNPLAY_HOME": Setting("path", "~/.nnplay", "where runs, checkpoints and uploads are kept"),
    "NNPLAY_DATA_DIR": Setting("path", "~/.cache/nnplay", "where downloaded datasets are kept"),
    "NNPLAY_ADMIN_TOKEN": Setting("secret", "", "the operator's secret: a browser that opens "
                                  "?admin=<it> once sees and can stop every run (off when unset)"),
    "NNPLAY_MAX_RUNS": Setting("int", 0, "runs trained at once (0: 4 per GPU, else one per CPU "
                               "core)", 0),
    "NNPLAY_EXECUTOR": Setting("choice", "process", "where CPU runs train: process (a worker "
                               "process each, so runs use every core) or thread (threads of the "
                               "server's process); GPU runs always train in threads",
                               choices=("process", "thread")),
    "NNPLAY_MAX_QUEUE": Setting("int", 150, "runs waiting for a slot, all browsers together"),
    "NNPLAY_MAX_RUN_SECONDS": Setting("float", 900.0, "seconds of training one run may take: "
                                      "estimated before it starts, enforced while it runs"),
    "NNPLAY_MAX_LAYERS": Setting("int", 16, "layers in a model"),
    "NNPLAY_MAX_WIDTH": Setting("int", 1024, "units in a layer"),
    "NNPLAY_MAX_SAMPLES": Setting("int", 60000, "training samples"),
    "NNPLAY_MAX_STEPS": Setting("int", 20000, "steps in a run"),
    "NNPLAY_MAX_EPOCHS": Setting("int", 500, "epochs"),
    "NNPLAY_MAX_SEQ_LEN": Setting("int", 200, "steps in a sequence"),
    "NNPLAY_MAX_SESSION_RUNS": Setting("int", 8, "runs at once per browser (a courtesy: a new "
                                       "cookie is a new browser)"),
    "NNPLAY_MAX_PAUSE_MINUTES": Setting("float", 10.0, "minutes a paused run keeps its slot "
                                        "while others wait"),
    "NNPLAY_MAX_UNWATCHED_MINUTES": Setting("float", 3.0, "minutes a paused run keeps its slot "
                                            "with no page showing it"),
    "NNPLAY_MAX_UPLOAD_MB": Setting("float", 20.0, "MB in an uploaded CSV"),
    "NNPLAY_MAX_COLUMNS": Setting("int", 1000, "columns in an uploaded CSV"),
    "NNPLAY_MAX_FEATURES": Setting("int", 4000, "input features of a CSV once text columns are "
                                   "one-hot encoded"),
    "NNPLAY_MAX_DATA_MB": Setting("float", 512.0, "MB of one dataset's arrays in memory (an "
                                  "encoded CSV; the cache of built datasets holds 4 times this)"),
    "NNPLAY_MAX_HOME_MB": Setting("float", 2048.0, "MB of checkpoints kept under NNPLAY_HOME; "
                                  "past it the oldest finished runs' checkpoints are pruned"),
    "NNPLAY_MAX_KEYFRAMES_MB": Setting("float", 1024.0, "MB of keyframes (runs' states at some "
                                       "steps, to scrub and branch) kept under NNPLAY_HOME; past "
                                       "it the oldest ended runs' keyframes are pruned"),
}  # fmt: skip

ACCEPTS = {"int": "a whole number", "float": "a number", "path": "a folder path",
           "secret": "a secret of at least 16 characters"}  # fmt: skip
_INT = re.compile(r"\+?\d+")  # no sign, underscores or exponent: 1_000 is a typo, not 1000
_FLOAT = re.compile(r"\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_reported: set[tuple[str, str]] = set()
_report_lock = threading.Lock()


def accepts(name: str) -> str:
    """What a variable accepts, in words: 'a whole number of at least 1'."""
    s = SETTINGS[name]
    if s.kind in ("int", "float"):
        return f"{ACCEPTS[s.kind]} of at least {s.minimum:g}"
    if s.kind == "choice":
        return "one of " + " or ".join(s.choices)
    return ACCEPTS[s.kind]


def default(name: str) -> object:
    """A variable's default, as value() gives it (a path expanded)."""
    s = SETTINGS[name]
    return Path(str(s.default)).expanduser() if s.kind == "path" else s.default


def _parse(s: Setting, raw: str) -> object | None:
    """raw as the setting's kind, or None when it is not one."""
    if s.kind == "path":
        return Path(raw).expanduser()
    if s.kind == "secret":
        return raw if len(raw) >= 16 else None
    if s.kind == "choice":
        return raw if raw in s.choices else None
    if not (_INT if s.kind == "int" else _FLOAT).fullmatch(raw):
        return None  # nan, inf, -1, 1_0, 'lots'
    number = int(raw) if s.kind == "int" else float(raw)
    return number if math.isfinite(number) and number >= s.minimum else None


def problem(name: str, raw: str) -> str:
    """The sentence for a value that cannot be used."""
    s = SETTINGS[name]
    if s.kind == "secret":
        return f"{name} is shorter than 16 characters, so it is ignored and the operator's " \
               f"view stays off; set a longer secret."
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    return (f"{name}={shown!r} is not {accepts(name)}, so the default "
            f"({default(name)}) is used.")


def value(name: str, env: Mapping[str, str] | None = None) -> object:
    """A variable's value from env (the process's environment by default), else its default;
    an unusable value is reported once in the log."""
    env = os.environ if env is None else env
    raw = str(env.get(name, "")).strip()
    if not raw:
        return default(name)
    parsed = _parse(SETTINGS[name], raw)
    if parsed is None:
        with _report_lock:
            first = (name, raw) not in _reported
            _reported.add((name, raw))
        if first:
            log.warning(problem(name, raw))
        return default(name)
    return parsed


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """One sentence for each NNPLAY_ variable set to a value nnplay cannot use or unknown."""
    env = os.environ if env is None else env
    out = []
    for name in sorted(k for k in env if k.startswith("NNPLAY_")):
        raw = str(env[name]).strip()
        if name not in SETTINGS:
            out.append(f"{name} is not a setting nnplay knows, so it changes nothing.")
        elif raw and _parse(SETTINGS[name], raw) is None:
            out.append(problem(name, raw))
    return out


def home(env: Mapping[str, str] | None = None) -> Path:
    """Where nnplay keeps runs and uploads: NNPLAY_HOME, else ~/.nnplay."""
    return value("NNPLAY_HOME", env)  # type: ignore[return-value]


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where downloaded datasets live: NNPLAY_DATA_DIR, else ~/.cache/nnplay."""
    return value("NNPLAY_DATA_DIR", env)  # type: ignore[return-value]


def admin_token(env: Mapping[str, str] | None = None) -> str:
    """The operator's secret; empty when it is off."""
    return str(value("NNPLAY_ADMIN_TOKEN", env))


def is_operator(given: object, env: Mapping[str, str] | None = None) -> bool:
    """Whether given is the operator's secret (never, when none is set)."""
    token = admin_token(env)
    return bool(token) and hmac.compare_digest(str(given).encode(), token.encode())
