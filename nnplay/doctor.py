"""The training doctor: rules over the metrics a run records, each a small function with named
thresholds and a fixed id, that say in plain words what went wrong and which change fixes it.

Rules read a snapshot as `Run.snapshot()` returns it (or `Recorder.snapshot()` for a run
trained without a page): step losses, evaluations, activation statistics, gradient norms and,
for recurrent models, the influence of each time step on the output. No torch here: the page
thread may call `diagnose` on every refresh. A remedy is a dict of dotted-path changes for
`ExperimentSpec.with_changes` (a layer stack is one path, "model.layers"). A diagnosis also says
from which step on the run was in trouble (`since`): a remedy a branch can make (a setting, not
the layers) goes on from the last keyframe before it (nnplay.remedies); any other is applied as
a fresh run with the same seed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnplay import concepts

MIN_STEPS = 30  # step losses needed before a rule about the loss's course may fire
MIN_EVALS = 5  # evaluations needed before a rule about train against test loss may fire
LIVE_SHARE = 0.25  # share of a live run's steps done before it is called too slow or too small
# (a network often sits on a plateau for its first steps)
START_SHARE = 0.05  # "where it started": the mean of this share of the first step losses
START_MAX = 10  # ... but of no more than this many steps
END_SHARE = 0.1  # "where it ended": the mean of this share of the last step losses

DIVERGED_END_RATIO = 1.5  # the loss ends at least this many times where it started
BLOWUP_RATIO = 10.0  # ... or blew up this far at some point and stayed above its start
BLOWUP_WINDOW = 5  # steps averaged when looking for the blow-up, so one bad batch is not one
LR_DOWN = 10.0  # divergence's remedy divides the learning rate by this

FLAT_CHANGE = 0.05  # lr_too_low: the loss moved less than this share of its start
LR_UP = 10.0  # lr_too_low's remedy multiplies the learning rate by this
LR_MAX = 10.0  # ... up to the spec's bound

DEAD_SHARE = 0.5  # dead_relu: over half of a ReLU layer's units never active (LeakyReLU, ELU
# and the like pass a gradient below zero, so their units cannot die)
TYPICAL_LR = {n: r.typical_lr for n, r in concepts.OPTIMIZERS.items()}  # a usual starting rate
SATURATING = tuple(n for n, r in concepts.ACTIVATIONS.items() if r.kind == "saturating")
HIGH_LR = 5.0  # a rate this many times the usual one is the likely cause of dead or saturated
# units, and lowering it the remedy; otherwise the remedy changes the activation
RECENT_SAMPLES = 3  # activation samples averaged for "now"

SATURATED_LAYER = 0.5  # saturation: over half of a tanh/sigmoid layer's units saturated

DEPTH_RATIO = 1e-2  # vanishing (depth): first layer's gradient norm this far below the last's
TIME_RATIO = 0.1  # vanishing (time): early steps' influence this far below the last steps'
TIME_SHARE = 0.25  # "early" and "late": the first and last quarter of each sequence
GATELESS = ("RNN",)  # cells whose gradients fade through time; an LSTM or GRU is the remedy

OVERFIT_RISE = 0.2  # overfitting: test loss this share above its best ...
OVERFIT_MIN_RISE = 0.02  # ... and by at least this much, while the train loss kept falling
SMOOTH_EVALS = 3  # evaluations averaged to read the test loss's trend through its noise

HIGH_SHARE = 0.5  # underfitting: the train loss is still above this share of its start ...
PLATEAU_CHANGE = 0.05  # ... and fell less than this share over the last third of the run
UNDERFIT_WIDTH = 32  # underfitting's remedy: two hidden layers at least this wide

# Which diagnosis leads when several fire: the lowest number. A diverged run makes every other
# reading meaningless; dead or vanishing units explain a flat loss; a rate too low explains
# underfitting; overfitting and underfitting are what is left once training itself works.
PRIORITY: dict[str, int] = {
    "divergence": 1, "dead_relu": 2, "vanishing_gradients": 3, "saturation": 4,
    "lr_too_low": 5, "overfitting": 6, "underfitting": 7,
}  # fmt: skip
TITLES: dict[str, str] = {
    "divergence": "Divergence", "dead_relu": "Dead ReLU units",
    "vanishing_gradients": "Vanishing gradients", "saturation": "Saturated units",
    "lr_too_low": "Learning rate too low", "overfitting": "Overfitting",
    "underfitting": "Underfitting",
}  # fmt: skip
HEALTHY = "Nothing needs fixing: the loss is falling and no rule fires."


@dataclass(frozen=True)
class Remedy:
    """A change to the experiment, as dotted-path changes applied to a fresh run (same seed)."""

    label: str  # what the button says: "Lower the learning rate to 1"
    changes: dict[str, object] = field(default_factory=dict)
    fix: str = ""  # the same as a branch's setting: "the learning rate at 1" ("": none)


@dataclass(frozen=True)
class Diagnosis:
    """One rule that fired: its id, what it saw (with the numbers), how urgent, the fix."""

    id: str
    text: str
    remedy: Remedy
    since: int | None = None  # the last step whose state was still sound (None: not known)

    @property
    def priority(self) -> int:
        return PRIORITY[self.id]

    @property
    def title(self) -> str:
        return TITLES[self.id]


# --- reading a snapshot --------------------------------------------------------------------------


def _losses(snap: dict) -> np.ndarray:
    """The finite step losses."""
    loss = np.asarray(snap.get("steps", {}).get("loss", []), dtype=float)
    return loss[np.isfinite(loss)]


def _start_end(loss: np.ndarray) -> tuple[float, float]:
    """Step loss at the start (the first step's, before any update, unless the first few
    average lower) and the mean at the end of the run so far."""
    k = max(1, min(START_MAX, int(len(loss) * START_SHARE)))
    m = max(1, int(len(loss) * END_SHARE))
    return min(float(loss[0]), float(loss[:k].mean())), float(loss[-m:].mean())


def _evals(snap: dict, key: str) -> np.ndarray:
    values = snap.get("evals", {}).get(key) or []
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _smooth(values: np.ndarray, k: int = SMOOTH_EVALS) -> np.ndarray:
    """Trailing mean over k values (the first k-1 average what there is)."""
    c = np.cumsum(np.insert(values, 0, 0.0))
    n = np.arange(1, len(values) + 1)
    lo = np.maximum(n - k, 0)
    return (c[n] - c[lo]) / (n - lo)


def _spec(snap: dict) -> dict:
    return snap.get("spec") or {}


def _lr(snap: dict) -> float:
    return float(_spec(snap).get("optimizer", {}).get("lr", 0.01))


def _lower_lr(snap: dict) -> Remedy | None:
    """Lower the learning rate, when it is far above the optimiser's usual one."""
    opt = _spec(snap).get("optimizer", {})
    lr = _lr(snap)
    if lr < HIGH_LR * TYPICAL_LR.get(opt.get("name", ""), 0.01):
        return None
    return Remedy(f"Lower the learning rate to {lr / LR_DOWN:g}", {"optimizer.lr": lr / LR_DOWN},
                  f"the learning rate at {lr / LR_DOWN:g}")


def _far_enough(snap: dict) -> bool:
    """A finished run, or a live one past LIVE_SHARE of its steps."""
    if snap.get("status") not in ("queued", "running", "paused"):
        return True
    progress = snap.get("progress") or {}
    return progress.get("step", 0) >= LIVE_SHARE * (progress.get("total_steps") or 0)


def _recent(snap: dict, stat: str) -> list[tuple[str, str, float]]:
    """(layer name, kind, value) of an activation statistic, averaged over the last samples."""
    acts = snap.get("activations") or {}
    values = np.asarray(acts.get(stat, []), dtype=float)
    if values.ndim != 2 or not len(values):
        return []
    now = np.nanmean(values[-RECENT_SAMPLES:], axis=0) if np.isfinite(
        values[-RECENT_SAMPLES:]).any() else values[-1]
    return [(n, k, float(v)) for n, k, v in zip(acts.get("names", []), acts.get("kinds", []), now)
            if math.isfinite(v)]


def _dead_layers(snap: dict) -> list[tuple[str, float]]:
    return [(n, v) for n, kind, v in _recent(snap, "dead")
            if n.endswith("(ReLU)") and v > DEAD_SHARE]


def _saturated_layers(snap: dict) -> list[tuple[str, float]]:
    return [(n, v) for n, kind, v in _recent(snap, "saturated")
            if kind == "saturating" and v > SATURATED_LAYER]


def _layers(snap: dict) -> list[dict]:
    return list(_spec(snap).get("model", {}).get("layers", []))


def _swap_activations(snap: dict, old: tuple[str, ...], new: str) -> dict[str, object]:
    """A layer-stack change replacing activations named in old by new."""
    layers = [dict(x, name=new) if x.get("type") == "activation" and x.get("name") in old
              else dict(x) for x in _layers(snap)]
    return {"model.layers": layers}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# --- the rules -----------------------------------------------------------------------------------


def divergence(snap: dict) -> Diagnosis | None:
    """The loss became NaN, ended far above where it started, or blew up and stayed up."""
    lr = _lr(snap)
    lower = max(lr / LR_DOWN, 1e-5)
    remedy = Remedy(f"Lower the learning rate to {lower:g}", {"optimizer.lr": lower},
                    f"the learning rate at {lower:g}")
    loss = _losses(snap)
    seen = _blown_up(loss)
    if seen is None and snap.get("status") == "diverged":  # NaN or infinite: the loop stopped
        return Diagnosis("divergence", "The loss became NaN or infinite: training diverged. "
                         f"The learning rate ({lr:g}) is probably too high.", remedy,
                         _last_low(snap))
    if seen is None:
        return None
    return Diagnosis("divergence", f"{seen}: training diverged. The learning rate ({lr:g}) is "
                     "too high for this model and data.", remedy, _last_low(snap))


def _loss_steps(snap: dict) -> tuple[np.ndarray, np.ndarray]:
    """(step, loss) of the finite step losses; a loss at step s was measured with the state
    after s - 1 updates (a snapshot without steps counts from 1)."""
    steps = snap.get("steps", {})
    loss = np.asarray(steps.get("loss", []), dtype=float)
    step = np.asarray(steps.get("step", []), dtype=float)
    if len(step) != len(loss):
        step = np.arange(1, len(loss) + 1, dtype=float)
    keep = np.isfinite(loss)
    return step[keep], loss[keep]


def _last_low(snap: dict) -> int:
    """The last step whose state was sound before the loss blew up: the state that measured
    the lowest loss before the peak (of the loss averaged over BLOWUP_WINDOW steps); 0 with no
    finite loss."""
    step, loss = _loss_steps(snap)
    if not len(loss):
        return 0
    peak = int(np.argmax(_smooth(loss, BLOWUP_WINDOW)))
    low = int(np.argmin(loss[:peak + 1]))
    return max(0, int(step[low]) - 1)


def _last_sound(snap: dict, stat: str, name: str, share: float) -> int:
    """The last sampled step at which layer name's statistic stat was at most share, before
    the samples above it that end the run so far (0: above it from the first sample on)."""
    acts = snap.get("activations") or {}
    names = list(acts.get("names", []))
    values = np.asarray(acts.get(stat, []), dtype=float)
    steps = list(acts.get("step", []))
    if name not in names or values.ndim != 2 or len(steps) != len(values):
        return 0
    column = values[:, names.index(name)]
    sound = np.flatnonzero(~(column > share))
    return int(steps[sound[-1]]) if len(sound) else 0


def _blown_up(loss: np.ndarray) -> str | None:
    """What shows that the loss diverged, as the start of a sentence; None when it did not."""
    if len(loss) < MIN_STEPS:
        return None
    start, end = _start_end(loss)
    peak = float(_smooth(loss, BLOWUP_WINDOW).max())
    if start <= 0:
        return None
    if end >= DIVERGED_END_RATIO * start:
        return (f"The training loss ended at {end:.3g}, {end / start:.1f}× where it started "
                f"({start:.3g})")
    if peak >= BLOWUP_RATIO * start and end > start:
        return (f"The training loss blew up to {peak:.3g} ({peak / start:.0f}× its start of "
                f"{start:.3g}) and stayed up at {end:.3g}")
    return None


def lr_too_low(snap: dict) -> Diagnosis | None:
    """The loss barely moves, though no unit is dead or saturated."""
    loss = _losses(snap)
    if len(loss) < MIN_STEPS or _dead_layers(snap) or _saturated_layers(snap) or \
            not _far_enough(snap):
        return None
    start, end = _start_end(loss)
    if start <= 0 or abs(start - end) >= FLAT_CHANGE * start:
        return None
    lr = _lr(snap)
    new = min(lr * LR_UP, LR_MAX)
    above = _parent_lr(snap)
    why = ""
    if above is not None and lr < above <= new:  # not back up to the rate it came down from
        new = float(f"{math.sqrt(lr * above):.2g}")
        why = (f" Its parent's rate ({above:g}) was too high, so the fix lies between the "
               f"two.")
    return Diagnosis("lr_too_low", f"In {len(loss):,} steps the training loss has barely moved, "
                     f"from {start:.3g} to {end:.3g} ({_pct(abs(start - end) / start)}): the "
                     f"learning rate ({lr:g}) is too low to make progress.{why}",
                     Remedy(f"Raise the learning rate to {new:g}", {"optimizer.lr": new},
                            f"the learning rate at {new:g}"), 0)


def _parent_lr(snap: dict) -> float | None:
    """A branch's parent's learning rate (None: the run is not a branch)."""
    origin = snap.get("origin") or {}
    try:
        return float(json.loads(origin["spec"])["optimizer"]["lr"])
    except (KeyError, TypeError, ValueError):
        return None


def dead_relu(snap: dict) -> Diagnosis | None:
    """Over half of a ReLU layer's units never activate on the sampled inputs."""
    dead = _dead_layers(snap)
    if not dead:
        return None
    name, share = max(dead, key=lambda d: d[1])
    more = f" (and {len(dead) - 1} more layer{'s' * (len(dead) > 2)})" if len(dead) > 1 else ""
    text = (f"{_pct(share)} of the units of {name}{more} never activate on any sampled input: "
            "they output 0 and pass no gradient back, so they have stopped learning.")
    remedy = _lower_lr(snap)
    if remedy is not None:
        text += f" A learning rate this high ({_lr(snap):g}) pushes them below zero for good."
    else:
        text += " LeakyReLU keeps a small slope below zero, so its units cannot die."
        remedy = Remedy("Use LeakyReLU instead of ReLU",
                        _swap_activations(snap, ("ReLU",), "LeakyReLU"))
    return Diagnosis("dead_relu", text, remedy, _last_sound(snap, "dead", name, DEAD_SHARE))


def _influence_ratio(snap: dict) -> float | None:
    """Mean influence of the first quarter of time steps over that of the last quarter."""
    view = snap.get("view") or {}
    rows = [np.asarray(r, dtype=float) for r in view.get("saliency") or [] if len(r) >= 4]
    ratios = []
    for r in rows:
        q = max(1, int(len(r) * TIME_SHARE))
        late = r[-q:].mean()
        if late > 0:
            ratios.append(r[:q].mean() / late)
    return float(np.mean(ratios)) if ratios else None


def vanishing_gradients(snap: dict) -> Diagnosis | None:
    """Through time: early steps barely move a plain RNN's output. Through depth: the first
    layer's gradient norm is orders of magnitude below the last layer's."""
    rec = _spec(snap).get("model", {}).get("recurrent")
    if rec is not None:
        ratio = _influence_ratio(snap)
        if rec.get("cell") not in GATELESS or ratio is None or ratio >= TIME_RATIO or \
                len(_losses(snap)) < MIN_STEPS:  # an untrained RNN forgets too: let it learn
            return None
        share = f"1/{1 / ratio:.0f} of" if ratio >= 1e-3 else "less than a thousandth of"
        return Diagnosis("vanishing_gradients", "The first quarter of each sequence has "
                         f"{share} the influence of the last quarter on the output: the "
                         f"gradient fades through time in a plain {rec.get('cell')}, so it cannot "
                         "learn what lies far back.",
                         Remedy("Switch the cell to an LSTM", {"model.recurrent.cell": "LSTM"}))
    grads = snap.get("grads") or {}
    norm = np.asarray(grads.get("norm", []), dtype=float)
    if norm.ndim != 2 or len(norm) < RECENT_SAMPLES or norm.shape[1] < 3 or _dead_layers(snap):
        return None
    typical = np.median(norm[len(norm) // 10:], axis=0)  # past the first moments
    first, last = float(typical[0]), float(typical[-1])
    if last <= 0 or first >= DEPTH_RATIO * last:
        return None
    names = grads.get("names") or ["first", "last"]
    if any(x.get("name") in SATURATING for x in _layers(snap)):
        remedy = Remedy("Use ReLU instead of Sigmoid and Tanh",
                        _swap_activations(snap, SATURATING, "ReLU"))
    else:  # a deep stack of non-saturating units: make it shallower
        keep = max(1, sum(x.get("type") == "linear" for x in _layers(snap)) // 2)
        remedy = Remedy(f"Keep only the first {keep} hidden layer{'s' * (keep > 1)}",
                        {"model.layers": _first_blocks(_layers(snap), keep)})
    orders = math.log10(last / first) if first > 0 else float("inf")
    return Diagnosis("vanishing_gradients", f"The gradient reaching the first layer ({names[0]}, "
                     f"{first:.2g}) is {orders:.0f} orders of magnitude below the last layer's "
                     f"({names[-1]}, {last:.2g}): through {len(typical)} layers it has faded, so "
                     "the early layers barely learn.", remedy)


def _first_blocks(layers: list[dict], n: int) -> list[dict]:
    """The stack up to (not including) its n+1-th linear layer."""
    out, seen = [], 0
    for x in layers:
        seen += x.get("type") == "linear"
        if seen > n:
            break
        out.append(dict(x))
    return out


def saturation(snap: dict) -> Diagnosis | None:
    """Over half of a tanh or sigmoid layer's units sit at their bounds, where the slope is 0."""
    hit = _saturated_layers(snap)
    if not hit:
        return None
    name, share = max(hit, key=lambda d: d[1])
    more = f" (and {len(hit) - 1} more layer{'s' * (len(hit) > 2)})" if len(hit) > 1 else ""
    text = (f"{_pct(share)} of the units of {name}{more} are saturated: their outputs sit at "
            "the flat ends of the curve, where the gradient is nearly 0, so they learn very "
            "slowly.")
    remedy = _lower_lr(snap)
    if remedy is not None:
        text += f" Steps this large (learning rate {_lr(snap):g}) drove their inputs there."
    else:
        remedy = Remedy("Use ReLU instead of Sigmoid and Tanh",
                        _swap_activations(snap, SATURATING, "ReLU"))
    return Diagnosis("saturation", text, remedy,
                     _last_sound(snap, "saturated", name, SATURATED_LAYER))


def overfitting(snap: dict) -> Diagnosis | None:
    """The test loss has risen from its best while the train loss kept falling."""
    train, test = _evals(snap, "train_loss"), _evals(snap, "test_loss")
    if len(test) < MIN_EVALS or not (np.isfinite(train).all() and np.isfinite(test).all()):
        return None
    st, sr = _smooth(test), _smooth(train)
    best = int(np.argmin(st))
    rise = st[-1] - st[best]
    if rise < max(OVERFIT_RISE * st[best], OVERFIT_MIN_RISE) or sr[-1] >= sr[best]:
        return None
    step = _evals(snap, "step")[best]
    spec = _spec(snap)
    changes: dict[str, object] = {"train.l2": 0.01} if not spec.get("train", {}).get("l2") \
        else {"train.patience": 10}
    label, fix = ("Add an L2 penalty of 0.01", "an L2 penalty of 0.01") if "train.l2" in \
        changes else ("Stop early (patience 10 evaluations)", "early stopping (patience 10)")
    return Diagnosis("overfitting", f"The test loss was lowest ({st[best]:.3g}) at step "
                     f"{step:,.0f} and has risen to {st[-1]:.3g}, while the train loss kept "
                     f"falling ({sr[best]:.3g} → {sr[-1]:.3g}): the network is memorising the "
                     "training set.", Remedy(label, changes, fix),
                     int(step) if np.isfinite(step) else None)


def underfitting(snap: dict) -> Diagnosis | None:
    """Both losses are still high and have stopped falling."""
    loss = _losses(snap)
    train, test = _evals(snap, "train_loss"), _evals(snap, "test_loss")
    if len(loss) < MIN_STEPS or len(train) < MIN_EVALS or not np.isfinite(train).all() or \
            not _far_enough(snap):
        return None
    start, _ = _start_end(loss)
    st = _smooth(train)
    then, now = float(st[2 * len(st) // 3 - 1]), float(st[-1])
    if start <= 0 or now < HIGH_SHARE * start or then - now >= PLATEAU_CHANGE * then:
        return None
    if abs(start - now) < FLAT_CHANGE * start:
        return None  # it never moved: that is lr_too_low's
    test_now = float(_smooth(test)[-1])
    width = max([x.get("units", 0) for x in _layers(snap)] + [UNDERFIT_WIDTH])
    layers = [{"type": "linear", "units": width}, {"type": "activation", "name": "ReLU"}] * 2
    return Diagnosis("underfitting", f"The train loss is still {now:.3g} ({_pct(now / start)} "
                     f"of where it started) and test loss {test_now:.3g}, and neither has fallen "
                     "over the last third of the run: the model is too small or too simple for "
                     "this data.", Remedy(f"Use two hidden ReLU layers of {width}",
                                          {"model.layers": layers}))


RULES: dict[str, Callable[[dict], Diagnosis | None]] = {
    "divergence": divergence, "lr_too_low": lr_too_low, "dead_relu": dead_relu,
    "vanishing_gradients": vanishing_gradients, "saturation": saturation,
    "overfitting": overfitting, "underfitting": underfitting,
}  # fmt: skip
assert set(RULES) == set(PRIORITY) == set(TITLES)


def diagnose(snap: dict) -> list[Diagnosis]:
    """Every rule that fires on the snapshot, the one to act on first leading."""
    found = [d for rule in RULES.values() if (d := rule(snap)) is not None]
    if any(d.id == "divergence" for d in found):  # after a blow-up the others read noise
        found = [d for d in found if d.id == "divergence"]
    return sorted(found, key=lambda d: d.priority)


def ids(snap: dict) -> list[str]:
    """The ids of the diagnoses, leading one first ([] for a healthy run)."""
    return [d.id for d in diagnose(snap)]


def verdict(status: str, message: str, snap: dict) -> tuple[str, str]:
    """A finished run whose loss diverged ends as 'diverged' with the doctor's sentence."""
    if status != "finished":
        return status, message
    found = divergence(snap | {"status": status})
    if found is None:
        return status, message
    return "diverged", f"{found.text} {found.remedy.label}."


# --- recording a run without a page ----------------------------------------------------------


class Recorder:
    """A training callback (train.Callback's hooks) that keeps what the rules read, for a run
    trained without a page (the CLI, scripts); snapshot() has Run.snapshot()'s layout."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.info: dict = {}
        self.loss: list[float] = []
        self.evals: list[dict] = []
        self.acts: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.view: dict | None = None
        self.changes: list = []  # settings changed mid-run (spec.SettingChange)
        self.status, self.message = "running", ""

    def on_start(self, info: dict) -> None:
        self.info = info

    def on_epoch(self, epoch: int, order: object) -> None:
        """Nothing to keep."""

    def on_flush(self, chunk: dict) -> None:
        self.loss.extend(chunk["loss"])
        if chunk["activations"] is not None:
            self.acts.append(chunk["activations"]["stats"])
        if chunk["grads"] is not None:
            self.grads.append(chunk["grads"])
        if chunk["view"] is not None:
            self.view = chunk["view"]

    def on_eval(self, record: dict) -> None:
        self.evals.append({k: v for k, v in record.items() if k != "view"})

    def on_change(self, change: object) -> None:
        self.changes.append(change)

    def on_keyframe(self, copied: dict) -> None:
        """Keyframes are the run manager's to keep; a headless run asks for none."""

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        self.status, self.message = status, message

    def snapshot(self) -> dict:
        """The recorded metrics, laid out as Run.snapshot() lays them out."""
        names = list(self.info.get("activation_names", []))
        acts = np.asarray(self.acts, dtype=float).reshape(-1, len(names), 4) if names else \
            np.zeros((0, 0, 4))
        keys = sorted({k for r in self.evals for k in r})
        return {
            "status": self.status, "message": self.message, "spec": self.spec,
            "steps": {"loss": np.asarray(self.loss, dtype=float)},
            "evals": {k: [r.get(k) for r in self.evals] for k in keys},
            "activations": {"names": names, "kinds": list(self.info.get("activation_kinds", [])),
                            "mean": acts[:, :, 0], "std": acts[:, :, 1],
                            "dead": acts[:, :, 2], "saturated": acts[:, :, 3]},
            "grads": {"names": list(self.info.get("grad_names", [])),
                      "norm": np.asarray(self.grads, dtype=float).reshape(len(self.grads), -1)},
            "view": self.view,
        }  # fmt: skip
