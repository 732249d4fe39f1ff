"""Stored runs: SQLite (WAL) under NNPLAY_HOME for specs, statuses and full metric histories,
checkpoint files beside it (a state_dict, with the spec as JSON next to it) and keyframes (the
whole training state at some steps, keyframes/<run id>/<step>.kf).

Writes from training threads go to an in-memory pending list; one writer thread commits it every
FLUSH_SECONDS in a single transaction, so storing costs the training loop almost nothing. Reads
open their own short-lived connections; WAL lets them run while the writer commits.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from nnplay import settings

FLUSH_SECONDS = 1.0
ACTIVE = ("queued", "running", "paused")

# A step row's values after its run id: the columns of steps, and the keys of a training
# chunk and of a run's steps. The penalty is the whole L1 + L2 term; l1 and l2 its parts.
STEP_KEYS = ("step", "loss", "penalty", "l1", "l2")
STEP_COLUMNS = {"l1": "REAL", "l2": "REAL"}  # added to a store made before they existed

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    server TEXT NOT NULL DEFAULT '',
    info TEXT NOT NULL DEFAULT '{}',
    record TEXT,
    final TEXT,
    checkpoint TEXT
);
CREATE TABLE IF NOT EXISTS steps (run_id TEXT NOT NULL, step INTEGER NOT NULL, loss REAL,
                                  penalty REAL, l1 REAL, l2 REAL);
CREATE INDEX IF NOT EXISTS steps_run ON steps (run_id, step);
CREATE TABLE IF NOT EXISTS evals (run_id TEXT NOT NULL, step INTEGER NOT NULL,
                                  record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS evals_run ON evals (run_id, step);
CREATE TABLE IF NOT EXISTS samples (run_id TEXT NOT NULL, step INTEGER NOT NULL,
                                    kind TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_run ON samples (run_id, kind, step);
CREATE TABLE IF NOT EXISTS opened (owner TEXT NOT NULL, run_id TEXT NOT NULL, opened REAL,
                                   PRIMARY KEY (owner, run_id));
"""


def _add_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Add the columns a store made by an older nnplay lacks."""
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, kind in columns.items():
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def open_store(root: Path | str | None = None) -> tuple[Store | None, str]:
    """A Store, or None and one sentence when its folder cannot be written (a read-only or
    full disk): runs then train without being kept."""
    try:
        return Store(root), ""
    except (OSError, sqlite3.Error) as e:
        where = root if root is not None else home()
        return None, (f"Runs are not being kept on this server: its folder {where} cannot be "
                      f"written ({e.__class__.__name__}: {e}), so they train as usual but are "
                      f"gone when the server restarts.")


def home() -> Path:
    """Where nnplay keeps runs and uploads: $NNPLAY_HOME, else ~/.nnplay."""
    return settings.home()


# --- JSON that keeps numpy arrays (and NaN) --------------------------------------------------


def _default(obj: object) -> object:
    if isinstance(obj, np.ndarray):
        return {"__array__": obj.tolist(), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    if hasattr(obj, "detach"):  # a tensor left in a view: store its values
        return _default(obj.detach().cpu().numpy())
    raise TypeError(f"cannot store {type(obj).__name__}")


def _hook(obj: dict) -> object:
    if "__array__" in obj:
        return np.asarray(obj["__array__"], dtype=obj["dtype"]).reshape(obj["shape"])
    return obj


def dumps(obj: object) -> str:
    """JSON text for obj, with numpy arrays tagged so loads() gives them back."""
    return json.dumps(obj, default=_default)


def loads(text: str | None) -> object:
    return None if text is None else json.loads(text, object_hook=_hook)


# --- the store -------------------------------------------------------------------------------


class Store:
    """One SQLite file of runs and a folder of checkpoints; safe to use from many threads."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True)
        self.checkpoints = self.root / "checkpoints"
        self.checkpoints.mkdir(exist_ok=True)
        self.keyframes = self.root / "keyframes"
        self.keyframes.mkdir(exist_ok=True)
        self.path = self.root / "runs.sqlite"
        self.server = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _add_columns(db, "steps", STEP_COLUMNS)
            _add_columns(db, "runs", {"origin": "TEXT"})  # a branch's parent, step and curve
        self._pending: list[tuple[str, tuple]] = []
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer_db = self._connect()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    # --- batched writes ---
    def _queue(self, sql: str, *rows: tuple) -> None:
        if self._closed:
            return
        with self._pending_lock:
            self._pending.extend((sql, row) for row in rows)

    def flush(self) -> None:
        """Commit everything pending now, in one transaction."""
        with self._write_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, []
            if not pending or self._writer_db is None:
                return
            db = self._writer_db
            try:
                with db:
                    i = 0
                    while i < len(pending):  # consecutive rows of one statement: one executemany
                        j = i
                        while j < len(pending) and pending[j][0] == pending[i][0]:
                            j += 1
                        db.executemany(pending[i][0], [row for _, row in pending[i:j]])
                        i = j
            except sqlite3.Error:  # e.g. the disk is full: keep every row for the next try
                with self._pending_lock:
                    self._pending[:0] = pending
                raise

    def _try_flush(self) -> bool:
        """flush(), or leave the rows pending for the writer's next try when the disk is full
        or locked; False then."""
        try:
            self.flush()
        except sqlite3.Error:
            return False
        return True

    def _write_loop(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except sqlite3.Error:
                time.sleep(FLUSH_SECONDS)  # a locked or full disk: keep the rows, try again

    def close(self) -> None:
        """Commit what is pending and stop the writer; later writes are dropped."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=10)
        with self._write_lock:
            self._writer_db.close()
            self._writer_db = None

    # --- a run's life ---
    def create(self, run_id: str, spec_json: str, owner: str, created: float,
               status: str = "queued") -> None:
        """Record a new run now, not batched, so a link to it works at once; sqlite3.Error (and
        nothing left pending) when the disk is full."""
        self._try_flush()
        with self._write_lock:
            if self._writer_db is None:
                return
            with self._writer_db as db:
                db.execute("INSERT OR REPLACE INTO runs (id, owner, spec, status, created, "
                           "server) VALUES (?, ?, ?, ?, ?, ?)",
                           (run_id, owner, spec_json, status, created, self.server))

    def set_origin(self, run_id: str, origin: dict) -> None:
        """What a branch keeps of its parent (branch.origin)."""
        self._queue("UPDATE runs SET origin = ? WHERE id = ?", (dumps(origin), run_id))

    def started(self, run_id: str, info: dict) -> None:
        self._queue("UPDATE runs SET status = 'running', started = ?, info = ? WHERE id = ?",
                    (time.time(), dumps(info), run_id))

    def status(self, run_id: str, status: str) -> None:
        self._queue("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))

    def steps(self, run_id: str, *columns: list) -> None:
        """A flush's step rows: one list per STEP_KEYS entry, in that order (those left out are
        NULL)."""
        n = len(columns[0])
        columns += ([None] * n,) * (len(STEP_KEYS) - len(columns))
        self._queue(f"INSERT INTO steps (run_id, {', '.join(STEP_KEYS)}) "
                    f"VALUES (?{', ?' * len(STEP_KEYS)})",
                    *zip([run_id] * len(columns[0]), *columns))

    def sample(self, run_id: str, step: int, kind: str, value: object) -> None:
        """An instrument sample (activation statistics, gradient norms) at a step."""
        self._queue("INSERT INTO samples VALUES (?, ?, ?, ?)", (run_id, step, kind, dumps(value)))

    def evaluation(self, run_id: str, record: dict) -> None:
        self._queue("INSERT INTO evals VALUES (?, ?, ?)", (run_id, record["step"], dumps(record)))

    def finish(self, run_id: str, status: str, message: str, record: dict | None,
               final: dict, checkpoint: str | None) -> None:
        """The end of a run: status, last evaluation, last views; committed before returning."""
        self._queue("UPDATE runs SET status = ?, message = ?, record = ?, final = ?, "
                    "checkpoint = ?, ended = ? WHERE id = ?",
                    (status, message, dumps(record), dumps(final), checkpoint, time.time(),
                     run_id))
        self._try_flush()  # on a full disk the writer keeps trying, so the end is not lost

    def save_checkpoint(self, run_id: str, state_dict: dict, spec_json: str) -> str:
        """torch.save the weights as <id>.pt with the spec beside it as <id>.json."""
        import torch

        path = self.checkpoints / f"{run_id}.pt"
        tmp = path.with_suffix(".tmp")
        torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, tmp)
        tmp.replace(path)
        path.with_suffix(".json").write_text(spec_json)
        return path.name

    # --- keyframes: keyframes/<id>/<step>.kf beside the checkpoints, one file each ---
    def keyframe_dir(self, run_id: str) -> Path:
        return self.keyframes / run_id

    def save_keyframe(self, run_id: str, step: int, data: bytes) -> None:
        """Write one keyframe's bytes (keyframes.serialise) atomically."""
        folder = self.keyframe_dir(run_id)
        folder.mkdir(exist_ok=True)
        path = folder / f"{int(step)}.kf"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def keyframe_steps(self, run_id: str) -> list[int]:
        """The steps the run has keyframes for, in order."""
        folder = self.keyframe_dir(run_id)
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.kf") if p.stem.isdigit())

    def load_keyframe(self, run_id: str, step: int) -> bytes | None:
        path = self.keyframe_dir(run_id) / f"{int(step)}.kf"
        return path.read_bytes() if path.is_file() else None

    def delete_keyframes(self, run_id: str) -> None:
        shutil.rmtree(self.keyframe_dir(run_id), ignore_errors=True)

    def prune_keyframes(self, max_bytes: float) -> list[str]:
        """Delete the keyframes of the oldest ended runs until all runs' keyframes take at most
        max_bytes (a running run's are never touched); the ids whose keyframes went."""
        sizes = {d.name: sum(f.stat().st_size for f in d.glob("*.kf"))
                 for d in self.keyframes.iterdir() if d.is_dir()}
        used = sum(sizes.values())
        pruned: list[str] = []
        if used <= max_bytes:
            return pruned
        with self._read() as db:
            ended = [r["id"] for r in db.execute(
                f"SELECT id FROM runs WHERE status NOT IN {ACTIVE} ORDER BY created")]
        for run_id in ended:
            if run_id in sizes:
                self.delete_keyframes(run_id)
                pruned.append(run_id)
                used -= sizes[run_id]
                if used <= max_bytes:
                    break
        return pruned

    def prune(self, max_bytes: float) -> list[str]:
        """Delete the checkpoints of the oldest finished runs until the home folder holds at
        most max_bytes (a running run's are never touched); the ids pruned."""
        def used() -> int:
            files = [*self.checkpoints.iterdir(), *self.root.glob("runs.sqlite*")]
            return sum(f.stat().st_size for f in files if f.is_file())

        pruned: list[str] = []
        if used() <= max_bytes:
            return pruned
        with self._read() as db:
            rows = db.execute(f"SELECT id FROM runs WHERE checkpoint IS NOT NULL AND status NOT "
                              f"IN {ACTIVE} ORDER BY created").fetchall()
        for row in rows:
            for suffix in (".pt", ".json"):
                (self.checkpoints / f"{row['id']}{suffix}").unlink(missing_ok=True)
            self._queue("UPDATE runs SET checkpoint = NULL WHERE id = ?", (row["id"],))
            pruned.append(row["id"])
            if used() <= max_bytes:
                break
        self._try_flush()
        return pruned

    def checkpoint_path(self, run_id: str) -> Path | None:
        """The run's .pt file, if it has one."""
        row = self.run(run_id)
        if row is None or not row["checkpoint"]:
            return None
        path = self.checkpoints / row["checkpoint"]
        return path if path.is_file() else None

    def load_state_dict(self, run_id: str) -> dict | None:
        """The run's weights, read with weights_only=True (never unpickles code)."""
        import torch

        path = self.checkpoint_path(run_id)
        return None if path is None else torch.load(path, map_location="cpu", weights_only=True)

    def rename(self, run_id: str, name: str) -> None:
        self._queue("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))
        self._try_flush()

    def delete(self, run_id: str) -> None:
        """Forget a run: its rows and its checkpoint files."""
        for table, key in (("steps", "run_id"), ("evals", "run_id"), ("samples", "run_id"),
                           ("opened", "run_id"), ("runs", "id")):  # fmt: skip
            self._queue(f"DELETE FROM {table} WHERE {key} = ?", (run_id,))
        self._try_flush()
        for suffix in (".pt", ".json"):
            (self.checkpoints / f"{run_id}{suffix}").unlink(missing_ok=True)
        self.delete_keyframes(run_id)

    def open_for(self, owner: str, run_id: str) -> None:
        """List another owner's run for owner too (they opened its link)."""
        self._queue("INSERT OR IGNORE INTO opened VALUES (?, ?, ?)", (owner, run_id, time.time()))
        self._try_flush()

    def unlist(self, owner: str, run_id: str) -> None:
        self._queue("DELETE FROM opened WHERE owner = ? AND run_id = ?", (owner, run_id))
        self._try_flush()

    def interrupt_orphans(self) -> int:
        """Mark runs left active by a server that is gone as interrupted; returns how many."""
        host, pid, _ = self.server.split(":")
        with self._read() as db:
            rows = db.execute(
                f"SELECT id, server FROM runs WHERE status IN {ACTIVE}").fetchall()
        gone = [r["id"] for r in rows if r["server"] != self.server
                and not _alive_elsewhere(r["server"], host, int(pid))]
        for run_id in gone:
            self._queue("UPDATE runs SET status = 'interrupted', message = ? WHERE id = ?",
                        ("Interrupted: the server restarted before this run ended.", run_id))
        self.flush()
        return len(gone)

    # --- reads ---
    def run(self, run_id: str) -> sqlite3.Row | None:
        with self._read() as db:
            return db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()

    def runs(self, owner: str) -> list[sqlite3.Row]:
        """owner's runs and the runs owner opened by link, newest first."""
        with self._read() as db:
            return db.execute(
                "SELECT * FROM runs WHERE owner = ? OR id IN "
                "(SELECT run_id FROM opened WHERE owner = ?) ORDER BY created DESC",
                (owner, owner),
            ).fetchall()

    def recent(self, limit: int = 500) -> list[sqlite3.Row]:
        """Every owner's runs, newest first (the operator's view)."""
        with self._read() as db:
            return db.execute("SELECT * FROM runs ORDER BY created DESC LIMIT ?",
                              (limit,)).fetchall()

    def history(self, run_id: str) -> dict:
        """Everything stored about a run's training: step losses, evaluations, samples."""
        with self._read() as db:
            steps = db.execute(f"SELECT {', '.join(STEP_KEYS)} FROM steps WHERE run_id = ? "
                               "ORDER BY step", (run_id,)).fetchall()
            evals = db.execute("SELECT record FROM evals WHERE run_id = ? ORDER BY step",
                               (run_id,)).fetchall()
            samples = db.execute("SELECT step, kind, value FROM samples WHERE run_id = ? "
                                 "ORDER BY step", (run_id,)).fetchall()
        nan = float("nan")
        out: dict = {
            "step": [r[0] for r in steps],
            **{key: [nan if r[i] is None else r[i] for r in steps]  # None: a run stored
               for i, key in enumerate(STEP_KEYS[1:], 1)},  # before its column existed
            "evals": [loads(r[0]) for r in evals],
            "samples": {},
        }
        for step, kind, value in samples:
            out["samples"].setdefault(kind, []).append((step, loads(value)))
        return out

    def test_losses(self, run_ids: list[str]) -> dict[str, list[float]]:
        """Each run's test loss per evaluation (for sparklines)."""
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        out: dict[str, list[float]] = {r: [] for r in run_ids}
        with self._read() as db:
            for run_id, text in db.execute(
                f"SELECT run_id, record FROM evals WHERE run_id IN ({marks}) ORDER BY step",
                run_ids,
            ):
                value = json.loads(text).get("test_loss")
                out[run_id].append(float("nan") if value is None else value)
        return out


def _alive_elsewhere(server: str, host: str, my_pid: int) -> bool:
    """True when server names another live process on this host (a second nnplay server)."""
    try:
        their_host, pid_text, _ = server.split(":")
        pid = int(pid_text)
    except ValueError:
        return False
    if their_host != host:
        return False  # a server on another host (or this one, renamed) is not running here
    if pid == my_pid:
        return False  # an earlier manager of this process (it was closed)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
