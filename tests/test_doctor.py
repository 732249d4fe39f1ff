"""The training doctor's rules on synthetic metric histories: each fires on the trouble it names
and stays quiet on a healthy history; remedies are changes a spec accepts."""

from __future__ import annotations

import numpy as np
import pytest

from nnplay import doctor
from nnplay.spec import ExperimentSpec

RNG = np.random.default_rng(0)
STEPS = 400


def falling(start: float = 0.7, end: float = 0.05, n: int = STEPS, noise: float = 0.05):
    """A healthy loss curve: exponential fall with multiplicative batch noise."""
    curve = end + (start - end) * np.exp(-np.linspace(0, 6, n))
    return curve * (1 + noise * RNG.standard_normal(n))


def spec_dict(**changes) -> dict:
    return ExperimentSpec().with_changes(changes).model_dump() if changes else \
        ExperimentSpec().model_dump()


def snap(loss=None, train=None, test=None, stats=None, grads=None, saliency=None,
         spec: dict | None = None, status: str = "finished") -> dict:
    """A snapshot laid out as Run.snapshot() lays it out, from the parts a test cares about."""
    loss = falling() if loss is None else np.asarray(loss, dtype=float)
    n_eval = 40
    train = np.linspace(0.68, 0.05, n_eval) if train is None else np.asarray(train, float)
    test = train + 0.02 if test is None else np.asarray(test, float)
    names, kinds, dead, sat = [], [], [], []
    for name, kind, d, s in stats or [("relu2 (ReLU)", "relu", 0.2, np.nan),
                                      ("relu4 (ReLU)", "relu", 0.3, np.nan)]:
        names.append(name)
        kinds.append(kind)
        dead.append(d)
        sat.append(s)
    samples = 10
    acts = {"names": names, "kinds": kinds, "step": list(range(samples)),
            "dead": np.tile(dead, (samples, 1)), "saturated": np.tile(sat, (samples, 1)),
            "mean": np.zeros((samples, len(names))), "std": np.ones((samples, len(names)))}
    grads = [0.5, 0.4, 0.3] if grads is None else grads
    view = None if saliency is None else {"kind": "sequence", "saliency": saliency}
    return {
        "status": status, "message": "", "spec": spec or spec_dict(),
        "steps": {"loss": loss},
        "evals": {"step": list(range(10, 10 * n_eval + 1, 10)), "train_loss": list(train),
                  "test_loss": list(test)},
        "activations": acts,
        "grads": {"names": [f"fc{i}" for i in range(len(grads))],
                  "norm": np.tile(grads, (samples, 1)) * (1 + 0.1 * RNG.random((samples, 1)))},
        "view": view,
    }  # fmt: skip


def test_a_healthy_run_needs_nothing() -> None:
    assert doctor.diagnose(snap()) == []
    assert doctor.ids(snap()) == []


def test_too_little_history_says_nothing() -> None:
    s = snap(loss=[0.7] * 5, train=[0.7, 0.7], test=[0.7, 0.7])
    assert doctor.ids(s) == []


# --- divergence --------------------------------------------------------------------------------


def test_divergence_fires_when_the_loss_ends_far_above_its_start() -> None:
    loss = np.concatenate([[0.69], RNG.uniform(4, 8, STEPS - 1)])
    found = doctor.divergence(snap(loss=loss, spec=spec_dict(**{"optimizer.lr": 10.0})))
    assert found is not None and found.id == "divergence"
    assert "0.69" in found.text and "diverged" in found.text
    assert found.remedy.changes == {"optimizer.lr": 1.0}


def test_divergence_fires_on_a_blow_up_that_stays_up() -> None:
    loss = np.concatenate([falling(0.7, 0.5, 100), [30.0] * 20, [0.9] * 280])
    found = doctor.divergence(snap(loss=loss))
    assert found is not None and "blew up" in found.text


def test_divergence_fires_on_nan() -> None:
    assert doctor.divergence(snap(loss=[0.7, 0.8], status="diverged")) is not None


def test_divergence_quiet_on_a_falling_loss_and_a_spike_that_recovers() -> None:
    assert doctor.divergence(snap()) is None
    loss = np.concatenate([falling(0.7, 0.1, 200), [20.0] * 5, falling(0.3, 0.05, 195)])
    assert doctor.divergence(snap(loss=loss)) is None


def test_divergence_leads_and_silences_the_rest() -> None:
    loss = np.concatenate([[0.69], RNG.uniform(4, 8, STEPS - 1)])
    s = snap(loss=loss, stats=[("relu2 (ReLU)", "relu", 1.0, np.nan)])
    assert doctor.ids(s) == ["divergence"]


def test_verdict_turns_a_finished_diverged_run_into_diverged() -> None:
    loss = np.concatenate([[0.69], RNG.uniform(4, 8, STEPS - 1)])
    status, message = doctor.verdict("finished", "", snap(loss=loss))
    assert status == "diverged" and "diverged" in message and "Lower the learning rate" in message
    assert doctor.verdict("finished", "ok", snap()) == ("finished", "ok")
    assert doctor.verdict("stopped", "Stopped.", snap(loss=loss)) == ("stopped", "Stopped.")


# --- lr_too_low --------------------------------------------------------------------------------


def test_lr_too_low_fires_when_the_loss_barely_moves() -> None:
    loss = 0.69 * (1 + 0.03 * RNG.standard_normal(STEPS))
    found = doctor.lr_too_low(snap(loss=loss, spec=spec_dict(**{"optimizer.lr": 1e-4})))
    assert found is not None and "barely moved" in found.text
    assert found.remedy.changes == {"optimizer.lr": pytest.approx(1e-3)}


def test_lr_too_low_waits_for_a_quarter_of_a_live_run() -> None:
    s = snap(loss=[0.69] * 100, status="running")
    assert doctor.lr_too_low(s | {"progress": {"step": 100, "total_steps": 1000}}) is None
    assert doctor.lr_too_low(s | {"progress": {"step": 300, "total_steps": 1000}}) is not None


def test_lr_too_low_quiet_when_the_loss_falls_or_units_are_dead() -> None:
    assert doctor.lr_too_low(snap()) is None
    flat = [0.69] * STEPS
    assert doctor.lr_too_low(snap(loss=flat, stats=[("relu2 (ReLU)", "relu", 0.9, np.nan)])) \
        is None  # dead units explain a flat loss


# --- dead_relu ---------------------------------------------------------------------------------


def test_dead_relu_fires_over_half_dead() -> None:
    s = snap(stats=[("relu2 (ReLU)", "relu", 0.2, np.nan), ("relu4 (ReLU)", "relu", 0.8, np.nan)])
    found = doctor.dead_relu(s)
    assert found is not None and "80%" in found.text and "relu4" in found.text
    layers = found.remedy.changes["model.layers"]
    assert [x["name"] for x in layers if x["type"] == "activation"] == ["LeakyReLU"] * 2


def test_dead_relu_at_a_high_rate_lowers_the_rate() -> None:
    s = snap(stats=[("relu2 (ReLU)", "relu", 1.0, np.nan)],
             spec=spec_dict(**{"optimizer.name": "SGD", "optimizer.lr": 2.0}))
    assert doctor.dead_relu(s).remedy.changes == {"optimizer.lr": pytest.approx(0.2)}


def test_dead_relu_quiet_under_half_and_for_leaky_units() -> None:
    assert doctor.dead_relu(snap()) is None
    assert doctor.dead_relu(snap(stats=[("act (LeakyReLU)", "relu", 0.9, np.nan)])) is None


# --- vanishing_gradients -------------------------------------------------------------------------

SIGMOIDS = {"model.layers": [{"type": "linear", "units": 16},
                             {"type": "activation", "name": "Sigmoid"}] * 4}


def test_vanishing_through_depth() -> None:
    sig = [("s", "saturating", np.nan, 0.0)]
    found = doctor.vanishing_gradients(snap(grads=[1e-6, 1e-4, 1e-2, 0.2], stats=sig,
                                            spec=spec_dict(**SIGMOIDS)))
    assert found is not None and "orders of magnitude" in found.text
    layers = found.remedy.changes["model.layers"]
    assert {x["name"] for x in layers if x["type"] == "activation"} == {"ReLU"}


def test_no_vanishing_when_norms_are_close_or_units_dead() -> None:
    assert doctor.vanishing_gradients(snap(grads=[0.1, 0.3, 0.3])) is None
    dead = [("relu2 (ReLU)", "relu", 1.0, np.nan)]
    assert doctor.vanishing_gradients(snap(grads=[0.0, 0.0, 0.2], stats=dead)) is None


def rnn_spec(cell: str) -> dict:
    return ExperimentSpec.model_validate({
        "data": {"name": "adding"}, "loss": {"name": "MSELoss"},
        "model": {"layers": [], "recurrent": {"cell": cell}}}).model_dump()


def test_vanishing_through_time_in_a_plain_rnn() -> None:
    fading = [np.geomspace(1e-3, 1.0, 40) for _ in range(4)]
    found = doctor.vanishing_gradients(snap(saliency=fading, spec=rnn_spec("RNN"), stats=[],
                                            grads=[0.1, 0.3]))
    assert found is not None and "influence" in found.text
    assert found.remedy.changes == {"model.recurrent.cell": "LSTM"}
    early = snap(loss=[0.2] * 10, saliency=fading, spec=rnn_spec("RNN"), stats=[])
    assert doctor.vanishing_gradients(early) is None  # ten steps in: too soon to say


def test_no_vanishing_through_time_for_an_lstm_or_even_influence() -> None:
    fading = [np.geomspace(1e-3, 1.0, 40)]
    assert doctor.vanishing_gradients(snap(saliency=fading, spec=rnn_spec("LSTM"), stats=[])) \
        is None
    even = [np.full(40, 0.3)]
    assert doctor.vanishing_gradients(snap(saliency=even, spec=rnn_spec("RNN"), stats=[])) is None


# --- saturation --------------------------------------------------------------------------------


def test_saturation_fires_and_stays_quiet() -> None:
    found = doctor.saturation(snap(stats=[("tanh2 (Tanh)", "saturating", np.nan, 0.9)]))
    assert found is not None and "90%" in found.text
    assert doctor.saturation(snap(stats=[("tanh2 (Tanh)", "saturating", np.nan, 0.2)])) is None


def test_saturation_at_a_high_rate_lowers_it() -> None:
    s = snap(stats=[("s (Sigmoid)", "saturating", np.nan, 0.8)],
             spec=spec_dict(**{"optimizer.lr": 0.3}))
    assert doctor.saturation(s).remedy.changes == {"optimizer.lr": pytest.approx(0.03)}


# --- overfitting and underfitting --------------------------------------------------------------


def test_overfitting_fires_when_test_rises_as_train_falls() -> None:
    train = np.geomspace(0.6, 0.005, 40)
    test = np.concatenate([np.linspace(0.6, 0.12, 12), np.linspace(0.13, 0.45, 28)])
    found = doctor.overfitting(snap(train=train, test=test))
    assert found is not None and "memorising" in found.text
    assert found.remedy.changes == {"train.l2": 0.01}


def test_overfitting_quiet_when_both_fall_or_both_spike() -> None:
    assert doctor.overfitting(snap()) is None
    spike = np.concatenate([np.linspace(0.6, 0.03, 30), np.linspace(0.3, 0.16, 10)])
    assert doctor.overfitting(snap(train=spike - 0.01, test=spike)) is None


def test_underfitting_fires_on_high_flat_losses() -> None:
    loss = np.concatenate([falling(0.77, 0.66, 100), 0.66 * (1 + 0.02 * RNG.standard_normal(300))])
    train = np.concatenate([np.linspace(0.75, 0.67, 10), np.full(30, 0.666)])
    found = doctor.underfitting(snap(loss=loss, train=train, test=train - 0.005))
    assert found is not None and "too small" in found.text
    fixed = ExperimentSpec().with_changes(found.remedy.changes)
    assert len(fixed.model.layers) == 4


def test_underfitting_quiet_while_falling_or_low() -> None:
    assert doctor.underfitting(snap()) is None
    train = np.concatenate([np.linspace(0.7, 0.1, 10), np.full(30, 0.1)])  # flat but low
    assert doctor.underfitting(snap(train=train)) is None


# --- together ----------------------------------------------------------------------------------


def test_several_rules_lead_by_priority() -> None:
    flat = 0.69 * (1 + 0.01 * RNG.standard_normal(STEPS))
    s = snap(loss=flat, stats=[("relu2 (ReLU)", "relu", 1.0, np.nan)],
             train=np.concatenate([np.linspace(0.75, 0.68, 10), np.full(30, 0.68)]))
    found = doctor.diagnose(s)
    assert [d.id for d in found][0] == "dead_relu"
    assert [d.priority for d in found] == sorted(d.priority for d in found)
    assert all(d.title and d.text for d in found)


@pytest.mark.parametrize("rule", list(doctor.RULES))
def test_every_remedy_is_a_valid_change(rule: str) -> None:
    cases = {
        "divergence": snap(loss=np.r_[0.69, RNG.uniform(4, 8, STEPS - 1)]),
        "lr_too_low": snap(loss=[0.69] * STEPS),
        "dead_relu": snap(stats=[("relu2 (ReLU)", "relu", 0.9, np.nan)]),
        "vanishing_gradients": snap(grads=[1e-7, 1e-3, 0.3], stats=[]),
        "saturation": snap(stats=[("t (Tanh)", "saturating", np.nan, 0.9)],
                           spec=spec_dict(**SIGMOIDS)),
        "overfitting": snap(train=np.geomspace(0.6, 0.005, 40),
                            test=np.r_[np.linspace(0.6, 0.1, 12), np.linspace(0.1, 0.5, 28)]),
        "underfitting": snap(loss=np.r_[falling(0.77, 0.66, 100), [0.66] * 300],
                             train=np.r_[np.linspace(0.75, 0.67, 10), np.full(30, 0.666)]),
    }
    found = doctor.RULES[rule](cases[rule])
    assert found is not None and found.id == rule
    spec = ExperimentSpec.model_validate(cases[rule]["spec"])
    assert spec.with_changes(found.remedy.changes) != spec


def test_recorder_lays_out_a_snapshot() -> None:
    rec = doctor.Recorder(spec_dict())
    rec.on_start({"activation_names": ["relu2 (ReLU)"], "activation_kinds": ["relu"],
                  "grad_names": ["fc1", "out"]})
    for i in range(40):
        rec.on_flush({"loss": [0.7 - 0.01 * i] * 10, "view": None,
                      "activations": {"stats": np.array([[0.1, 1.0, 0.9, np.nan]])},
                      "grads": np.array([0.3, 0.4])})
    rec.on_eval({"step": 10, "train_loss": 0.5, "test_loss": 0.5, "view": {"x": 1}})
    rec.on_end("finished", "", None)
    s = rec.snapshot()
    assert s["activations"]["dead"].shape == (40, 1) and s["grads"]["norm"].shape == (40, 2)
    assert s["evals"]["train_loss"] == [0.5] and "view" not in s["evals"]
    assert doctor.ids(s) == ["dead_relu"]


def test_the_recorder_has_every_hook_a_training_callback_has() -> None:
    from nnplay import train

    hooks = {n for n in vars(train.Callback) if n.startswith("on_")}
    assert hooks <= set(vars(doctor.Recorder)), hooks - set(vars(doctor.Recorder))
