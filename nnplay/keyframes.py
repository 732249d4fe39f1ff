"""Keyframes: a run's whole training state at a bounded set of steps, so that it can go on from
any of them exactly (weights, optimiser state, the shuffling and dropout generators, the position
in the epoch, the early-stopping counters and the setting changes made so far).

The training thread only copies tensors at a keyframe's step (device copies, no host sync); a
writer thread turns the copies into a plain state, serialises it and hands it to a sink (the run
store's files, or memory when the home folder cannot be written).
"""

from __future__ import annotations

import json
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

from nnplay import background

MAX_KEYFRAMES = 64  # per run, besides the final step: enough to scrub smoothly, log-spaced
RUN_BYTES = 64 * 2**20  # per run: a FashionMNIST MLP's keyframe (~5 MB with Adam) gets 12
MEMORY_BYTES = 256 * 2**20  # all runs' keyframes held in memory when runs are not stored
MIN_KEYFRAMES = 2


def state_bytes(model: nn.Module, optimizer_slots: int = 2) -> int:
    """The size of one keyframe of model: its weights and as many optimiser moments (float32)."""
    return sum(p.numel() * p.element_size() for p in model.parameters()) * (1 + optimizer_slots)


def budget(size: int, run_bytes: int = RUN_BYTES, most: int = MAX_KEYFRAMES) -> int:
    """How many keyframes (besides the final one) a run whose keyframe is size bytes keeps."""
    return max(MIN_KEYFRAMES, min(most, run_bytes // max(size, 1)))


def schedule(total_steps: int, count: int) -> list[int]:
    """At most count steps in [0, total_steps), roughly log-spaced (denser early, where most
    changes): step 0 (the initial weights), then steps 1, 2, 3, ... thinning out geometrically."""
    if total_steps <= 0 or count <= 0:
        return []
    if total_steps <= count:
        return list(range(total_steps))
    steps = {0}
    n = count
    while len(steps) < count:  # rounding merges early steps; ask for more until count are left
        ratio = total_steps ** (1 / n)
        steps = {0} | {min(total_steps - 1, round(ratio**i)) for i in range(n)}
        n += 1
        if n > 4 * count:
            break
    return sorted(steps)[:count]


# --- what the training thread copies ----------------------------------------------------------


def _clone(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def copy_optimizer(optimizer: torch.optim.Optimizer, fused_step=None) -> dict:
    """The optimiser's state as copies on the device: its state_dict's state, or the fused
    step's flat moments (turned into the same form later, by plain_optimizer)."""
    if fused_step:
        return {"fused": {"kind": fused_step.kind, "steps": fused_step.steps,
                          "moment1": fused_step.moment1.clone(),
                          "moment2": fused_step.moment2.clone(),
                          "momentum": fused_step.optimizer.param_groups[0].get("momentum", 0.0),
                          "shapes": [tuple(p.shape) for p in fused_step.params]}}  # fmt: skip
    return {"state": _clone(optimizer.state_dict()["state"])}


def plain_optimizer(copied: dict) -> dict:
    """{param index: {name: tensor}}, as torch.optim's state_dict keeps it, from a copy."""
    if "fused" not in copied:
        return copied["state"]
    f = copied["fused"]
    state, start = {}, 0
    for i, shape in enumerate(f["shapes"]):
        n = math.prod(shape)
        view = slice(start, start + n)
        if f["kind"] == "Adam":
            state[i] = {"step": torch.tensor(float(f["steps"])),
                        "exp_avg": f["moment1"][view].view(shape).clone(),
                        "exp_avg_sq": f["moment2"][view].view(shape).clone()}  # fmt: skip
        elif f["steps"] and f["momentum"]:
            state[i] = {"momentum_buffer": f["moment1"][view].view(shape).clone()}
        start += n
    return state


def to_cpu(value: object) -> object:
    """value with every tensor on the CPU (the writer's host sync, off the training thread)."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value


def finish(copied: dict) -> dict:
    """A keyframe as stored: everything on the CPU (a fused step's moments stay flat until a
    run goes on from it: splitting them per parameter is restore's work, not the writer's)."""
    return to_cpu(copied)


MAGIC = b"NNKF1\n"  # a JSON header (its length first), then the tensors' raw bytes


def _encode(value: object, tensors: list[torch.Tensor]) -> object:
    if isinstance(value, torch.Tensor):
        tensors.append(value.detach().contiguous())
        return {"tensor": len(tensors) - 1, "dtype": str(value.dtype).removeprefix("torch."),
                "shape": list(value.shape)}  # fmt: skip
    if isinstance(value, dict):  # keys kept with their type (an optimiser's state: ints)
        return {"dict": [[k, _encode(v, tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [_encode(v, tensors) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"a keyframe cannot hold {type(value).__name__}")


def serialise(frame: dict) -> bytes:
    """A finished keyframe as bytes: a JSON header and the tensors' raw bytes (no pickle, so
    reading one back never runs code; ~10x quicker than torch.save for a small network)."""
    tensors: list[torch.Tensor] = []
    header = json.dumps(_encode(frame, tensors)).encode()
    return b"".join([MAGIC, len(header).to_bytes(8, "little"), header,
                     *(t.numpy().tobytes() for t in tensors)])


def deserialise(data: bytes) -> dict:
    """A keyframe from serialise()'s bytes."""
    if not data.startswith(MAGIC):
        raise ValueError("not a keyframe")
    start = len(MAGIC) + 8
    size = int.from_bytes(data[len(MAGIC):start], "little")
    header = json.loads(data[start:start + size])
    offset = [start + size]

    def decode(node: dict) -> object:
        if "tensor" in node:
            dtype = getattr(torch, node["dtype"])
            count = math.prod(node["shape"])
            n = count * torch.empty((), dtype=dtype).element_size()
            t = torch.frombuffer(bytearray(data[offset[0]:offset[0] + n]), dtype=dtype,
                                 count=count) if count else torch.empty(0, dtype=dtype)
            offset[0] += n
            return t.reshape(node["shape"])
        if "dict" in node:
            return {k: decode(v) for k, v in node["dict"]}
        if "list" in node:
            return [decode(v) for v in node["list"]]
        return node["value"]

    return decode(header)


def restore_optimizer(optimizer: torch.optim.Optimizer, frame: dict) -> bool:
    """Load the keyframe's optimiser state into optimizer (its settings stay the spec's);
    False when the keyframe's optimiser was another kind (a branch switched it: fresh state)."""
    if frame.get("optimizer_name") != type(optimizer).__name__:
        return False
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": plain_optimizer(frame["optimizer"]),
                               "param_groups": groups})
    return True


# --- the writer ----------------------------------------------------------------------------


Sink = Callable[[int, bytes], None]  # (step, serialised keyframe)


class Writer:
    """A daemon thread that finishes, serialises and stores keyframes copied by training
    threads, so that none of that work is on a training step's path. It ends after a second
    with nothing to do (a process exits only once such threads have, nnplay.background), and
    the next keyframe starts it again."""

    IDLE_SECONDS = 1.0

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, copied: dict, sink: Sink, on_error: Callable[[Exception], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # idle, or ended abruptly
                self._thread = background.start(self._loop, name="keyframe-writer")
            self._queue.put((copied, sink, on_error))

    def drain(self) -> None:
        """Block until every keyframe put so far is stored."""
        self._queue.join()

    def _loop(self) -> None:
        while True:
            try:
                copied, sink, on_error = self._queue.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # put() starts another under this lock
                        self._thread = None
                        return
                continue
            try:
                sink(copied["step"], serialise(finish(copied)))
            except Exception as e:  # noqa: BLE001 - a full disk loses a keyframe, not the run
                on_error(e)
            finally:
                self._queue.task_done()


WRITER = Writer()


class Memory:
    """Keyframes held in memory (a read-only home), at most max_bytes over all runs: past it,
    the runs whose keyframes arrived first lose theirs."""

    def __init__(self, max_bytes: int = MEMORY_BYTES):
        self.max_bytes = max_bytes
        self._runs: OrderedDict[str, dict[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, run_id: str, step: int, data: bytes) -> None:
        with self._lock:
            self._runs.setdefault(run_id, {})[step] = data
            self._runs.move_to_end(run_id)
            while self._used() > self.max_bytes and len(self._runs) > 1:
                self._runs.popitem(last=False)

    def _used(self) -> int:
        return sum(len(b) for frames in self._runs.values() for b in frames.values())

    def steps(self, run_id: str) -> list[int]:
        with self._lock:
            return sorted(self._runs.get(run_id, {}))

    def get(self, run_id: str, step: int) -> bytes | None:
        with self._lock:
            return self._runs.get(run_id, {}).get(step)

    def delete(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)


MEMORY = Memory()
