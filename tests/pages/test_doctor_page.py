"""The doctor panel under AppTest: a pathological preset gets its diagnosis beside the charts,
and the remedy button starts the fix: a branch from the last keyframe before the trouble when it
is a setting (a diverged run's learning rate), else a fresh run with the change applied."""

from __future__ import annotations

import ui
from nnplay import doctor as nnplay_doctor
from nnplay import keyframes, remedies


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def ended(at) -> bool:
    shown = texts(at.success) + texts(at.error)
    return any(s in t for t in shown for s in ("Finished", "diverged"))


def test_diverged_run_gets_a_diagnosis_and_the_remedy_branches(app, poll):
    at = app.run()
    at.selectbox(key="preset").set_value("lr-too-high").run()
    at.button(key="load_preset").click().run()
    assert at.session_state["optimizer.lr"] == 10.0
    at.button(key="train").click().run()
    poll(at, ended)
    assert not at.exception
    assert any("diverged" in e and "Lower the learning rate to 1" in e for e in texts(at.error))
    doctor = [m for m in texts(at.markdown) if "Training doctor" in m]
    assert doctor and "doctor: Divergence." in doctor[0] and "where it started" in doctor[0]
    first = at.session_state["run_id"]
    parent = ui.manager().get(first)
    keyframes.WRITER.drain()
    lead = nnplay_doctor.diagnose(parent.snapshot())[0]
    offer = remedies.offer(lead, parent.frames())
    assert offer is not None and offer.step <= lead.since
    button = at.button(key="doctor.remedy")
    assert button.label == f"Branch from step {offer.step:,} with the learning rate at 1"
    button.click().run()
    assert not at.exception
    child = at.session_state["run_id"]
    assert child != first  # a branch of the diverged run, from the keyframe offered
    run = ui.manager().get(child)
    assert run.origin["parent"] == first and run.origin["step"] == offer.step
    assert run.spec.optimizer.lr == 1.0 and run.spec == parent.spec.with_changes(
        {"optimizer.lr": 1.0})
    assert at.session_state["optimizer.lr"] == 1.0  # the settings show the remedy
    assert any(f"goes on from step {offer.step:,} as a branch" in t for t in texts(at.info))
    poll(at, lambda a: any("Finished" in t for t in texts(a.success)))
    assert min(run.steps["step"]) == offer.step + 1
    doctor = [m for m in texts(at.markdown) if "Training doctor" in m]
    assert doctor and "Nothing needs fixing" in doctor[0]


def test_dead_relus_gets_its_diagnosis_and_a_remedy_button(app, poll):
    at = app.run()
    at.selectbox(key="preset").set_value("dead-relus").run()
    at.button(key="load_preset").click().run()
    at.button(key="train").click().run()
    poll(at, ended)
    assert any("Dead ReLU units" in m for m in texts(at.markdown))
    assert any(b.key == "doctor.remedy" for b in at.button)


def test_sequences_page_names_vanishing_gradients_through_time(app, poll):
    app.run()  # st.navigation registers the pages on the first run
    at = app.switch_page("views/2_Sequences.py").run()
    at.selectbox(key="seq.preset").set_value("vanishing-rnn").run()
    at.button(key="seq.load_preset").click().run()
    at.number_input(key="train.epochs").set_value(2).run()
    at.button(key="train").click().run()
    poll(at, ended, timeout=300)
    assert not at.exception
    doctor = [m for m in texts(at.markdown) if "Training doctor" in m]
    assert doctor and "Vanishing gradients" in doctor[0] and "plain RNN" in doctor[0], doctor
    first = at.session_state["run_id"]
    at.button(key="doctor.remedy").click().run()
    assert not at.exception and at.session_state["run_id"] != first
    assert at.session_state["model.recurrent.cell"] == "LSTM"
    at.button(key="stop").click().run()
