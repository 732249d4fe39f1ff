"""Sequences: RNN, LSTM, GRU and an LSTMCell stepped by hand on sequence tasks, trained live,
with hidden states and gates made visible."""

import streamlit as st

import ui
import ui.branch
import ui.serving
from nnplay import charts, comparisons, escape, presets, recurrent, sequences
from nnplay.spec import CELL_LABELS, CELLS, DATASETS

TASKS = [name for name, info in DATASETS.items() if info.seq_len]
PRESETS = tuple(n for n in presets.names() if presets.load(n).page == "Sequences")
DEFAULT = "sentiment-bilstm"
R = "model.recurrent."

st.title("Sequences")
ui.page_spec("sequences", lambda: presets.load(DEFAULT).spec)
ui.hide_controls(ui.hidden())
wanted = st.session_state.pop("open_preset", None)  # a card in the Class presets gallery
if wanted in PRESETS:
    ui.load_spec(presets.load(wanted).spec)
    st.session_state["seq.preset"] = wanted
ui.open_link("Sequences")  # a shared link (?preset=NAME or settings), before any widget is drawn

# --- presets ---
link_slot = ui.preset_picker("Sequences", PRESETS)

spec = ui.current_spec()
ui.ensure_widget_state(spec)


def task_changed() -> None:
    """A new task starts from its own default length and one target after the last step."""
    info = DATASETS[st.session_state["data.name"]]
    st.session_state["data.seq_len"] = info.seq_len
    st.session_state["data.horizon"] = 1
    st.session_state["data.per_step"] = False


def data_tab() -> None:
    ui.data_widgets(names=TASKS)
    info = DATASETS[st.session_state["data.name"]]
    if st.session_state.get("seq.task") != st.session_state["data.name"]:
        if st.session_state.get("seq.task") is not None:
            task_changed()
        st.session_state["seq.task"] = st.session_state["data.name"]
    if not st.session_state.get("data.seq_len"):
        st.session_state["data.seq_len"] = info.seq_len
    ui.data_setting("seq_len", low=info.min_seq_len)
    if "horizon" in info.settings:
        ui.data_setting("horizon")


def model_tab() -> None:
    info = DATASETS[st.session_state["data.name"]]
    st.selectbox("Cell", CELLS, key=R + "cell", format_func=CELL_LABELS.get)
    cell = st.session_state[R + "cell"]
    recurrent_cell = cell != "BagOfWords"
    c1, c2 = st.columns(2)
    c1.number_input("hidden_size", 1, 512, step=1, key=R + "hidden_size",
                    disabled=not recurrent_cell)
    c2.number_input("num_layers", 1, 4, step=1, key=R + "num_layers",
                    disabled=not recurrent_cell)
    if st.session_state[R + "num_layers"] == 1:
        st.session_state[R + "dropout"] = 0.0
    st.slider("Dropout between layers", *ui.serving.WIDGET_RANGES[R + "dropout"], step=0.05,
              key=R + "dropout",
              disabled=st.session_state[R + "num_layers"] == 1 or not recurrent_cell,
              help="nn.LSTM's dropout: on each layer's output but the last (needs 2+ layers).")
    c1, c2 = st.columns(2)
    c1.checkbox("bidirectional", key=R + "bidirectional", disabled=not recurrent_cell)
    c2.checkbox("batch_first", key=R + "batch_first",
                help="Input as (batch, seq_len, features); off: (seq_len, batch, features).")
    if info.kind == "tokens":
        st.number_input("Embedding size (nn.Embedding)", 1, 256, step=1,
                        key=R + "embedding_dim")
    if info.per_step:
        st.radio("The head reads", [False, True], key="data.per_step", horizontal=True,
                 format_func=lambda every: "every step (seq2seq)" if every else "the last step")
    st.caption("The head: layers after the recurrent output, then the output layer.")
    ui.layer_editor()



settings, stage = ui.stage_columns()
with settings:
    data, model, training = st.tabs(["Data", "Model", "Training"])
    with data:
        data_tab()
    with model:
        model_tab()
    with training:
        ui.training_widgets(spec)

new_spec, problem = ui.spec_from_widgets()
if problem:
    settings.error(f"This setup cannot run: {problem}. The last valid setup is kept.")
else:
    st.session_state["spec"] = spec = new_spec
with link_slot:
    ui.share_link(ui.write_link(spec))

with model:
    with st.expander("print(model) and the shapes of one batch", expanded=True):
        if spec.model.recurrent is None:  # a Playground link opened here
            st.info("This setup has no recurrent layer; choose a cell under Model.")
        else:
            text, shapes = recurrent.example_shapes(spec)
            st.code(text, language="text")
            st.caption("One forward pass on the first training batch: `output, (h_n, c_n) = "
                       "rnn(input)` (a GRU or RNN returns h_n alone).")  # fmt: skip
            st.dataframe(shapes, hide_index=True, key="seq.shapes")

with stage:
    ui.run_controls(None if problem else spec)
    live_run = ui.active_run()  # a paused or ended run: its keyframes on a slider
    shown_step = None if problem else ui.branch.controls(
        live_run, "seq.branch", ui.branch.page_settings(spec), ui.branch.HINT)

big = ui.scale()


def example_picker(view: dict) -> int:
    """Which test example the hidden-state and gate charts show."""
    inputs = (view or {}).get("inputs") or []
    if not inputs:
        return 0
    names = sequences.example_names(inputs)
    if st.session_state.get("seq.example", 0) >= len(names):
        st.session_state["seq.example"] = 0
    return st.selectbox("Example", range(len(names)), key="seq.example",
                        format_func=lambda i: f"{i + 1}: {names[i]}")


def draw(snap: dict) -> None:
    """The live panel: losses, predictions against the truth, and one example's insides."""
    ui.status_line(snap)
    left, right = ui.chart_columns(2)
    with left:
        ui.figure(charts.loss_chart(snap, scale=big), "seq.loss")
    with right:
        if snap["task"] == "classification":
            ui.figure(charts.accuracy_chart(snap, scale=big), "seq.accuracy")
        else:
            ui.figure(charts.prediction_chart(snap, scale=big), "seq.prediction")
    ui.doctor_panel(snap)
    view = snap["view"] if snap["view"] and snap["view"].get("kind") == "sequence" else None
    with st.container():  # a slot of its own, drawn or not, so the charts keep their places
        example = example_picker(view)
    left, right = ui.chart_columns(2)
    with left:
        ui.figure(charts.hidden_state_chart(snap, example, scale=big), "seq.hidden")
    with right:
        ui.figure(charts.saliency_chart(snap, example, scale=big), "seq.saliency")
        st.caption("When gradients vanish through time, the early steps stop mattering.")
    ui.figure(charts.gate_chart(snap, example, scale=big), "seq.gates")
    left, right = ui.chart_columns(2)
    with left:
        if view is not None and view.get("rollout") is not None:
            ui.figure(charts.forecast_chart(snap, example, scale=big), "seq.forecast")
        elif snap["task"] == "classification":
            ui.figure(charts.prediction_chart(snap, scale=big), "seq.prediction")
    with right:
        ui.figure(charts.grad_norm_chart(snap, scale=big), "seq.grads")
        st.caption("Gradient norm per layer over training: vanishing gradients shrink toward "
                   "the first layers, exploding ones blow up (log scale).")


with stage:
    ui.live(ui.branch.drawn(draw, live_run, shown_step))  # at a keyframe: its model's insides


# --- try it: type a sentence -------------------------------------------------------------------


def try_it() -> None:
    """A typed sentence through the trained sentiment model: prediction and hidden state."""
    run = ui.active_run()
    ready = run is not None and run.done and run.status in ("finished", "stopped") and \
        DATASETS[run.spec.data.name].kind == "tokens"  # fmt: skip
    if not ready:
        st.caption("Train a sentiment model (the **Sentiment with a bidirectional LSTM** "
                   "preset), then type a sentence here.")
        return
    text = st.text_input("Your sentence", key="tryit.text",
                         placeholder="the film was not good but great")
    if not st.button("Read it", key="tryit.go", type="primary") or not text.strip():
        return
    state = ui.manager().store.load_state_dict(run.id) if ui.manager().store else None
    if state is None:
        st.error("This run's weights were not saved, so it cannot read sentences; train again.")
        return
    got = recurrent.try_sentence(run.spec, state, text)
    if got["unknown"]:
        unknown = escape.markdown(", ".join(got["unknown"]))
        st.warning(f"Not in the vocabulary, left out: {unknown}.")
    if got["probs"] is None:
        st.error("None of these words are in the built-in vocabulary, so there is nothing to "
                 "read. Try words like: the movie was not very good but fun.")
        return
    best = int(got["probs"].argmax())
    st.success(f"Prediction: **{got['classes'][best]}** ({got['probs'][best]:.0%}) for "
               f"“{escape.markdown(' '.join(got['words']))}”", icon=":material/psychology:")
    directions = 2 if run.spec.model.recurrent.bidirectional else 1
    ui.figure(charts.state_heatmap(got["hidden"], got["words"], "hidden state per word",
                                   big, directions=directions), "tryit.hidden")


with stage, st.expander("Try it: type a sentence", expanded=True,
                        icon=":material/keyboard:"):
    try_it()


# --- compare models ----------------------------------------------------------------------------

def compare() -> None:
    """Bag of words vs LSTM vs bidirectional LSTM on the negation subset (sentiment), or a plain
    RNN vs LSTM vs GRU as sequences grow (parity, adding): a group started all or none."""
    offer = comparisons.offered(spec)
    if offer is None:
        st.caption(comparisons.offered_for())
    else:
        lengths = ()
        if offer.lengths:
            st.multiselect("Sequence lengths", comparisons.LENGTHS,
                           default=comparisons.DEFAULT_LENGTHS, key="cmp.lengths")
            lengths = st.session_state["cmp.lengths"]
        st.caption(offer.note.format(runs=len(offer.variants(lengths))))
        if st.button(offer.button, key="cmp.start",
                     disabled=bool(problem) or (offer.lengths and not lengths)):
            group, refused = comparisons.start(ui.manager(), spec, offer, lengths, ui.owner())
            st.session_state["cmp.runs"] = group
            if refused:
                st.session_state["cmp.error"] = refused
    if "cmp.error" in st.session_state:
        st.error(st.session_state.pop("cmp.error"))
    group = st.session_state.get("cmp.runs", [])
    if not group:
        return

    def group_done() -> bool:
        return comparisons.done(ui.manager(), group)

    def draw_group() -> None:
        if group[0]["kind"] == "subset":
            rows = comparisons.rows(ui.manager(), group, ("test_acc", "test_acc_negation"))
            ui.figure(charts.model_bars(rows, {"test_acc": "all test sentences",
                                               "test_acc_negation": "negation subset"},
                                        "test accuracy by model", big), "cmp.bars")
        else:
            key, name = comparisons.metric(spec)
            ui.figure(charts.length_chart(comparisons.rows(ui.manager(), group, (key,)), key,
                                          name, big, percent=key == "test_acc"),
                      "cmp.lengths.chart")
        st.caption("Finished." if group_done() else "Training… (the chart fills in as runs "
                   "finish their evaluations)")

    ui.poll(group_done, draw_group)


with stage, st.expander("Compare models", icon=":material/compare_arrows:"):
    compare()

with stage, st.expander("PyTorch code", icon=":material/code:"):
    ui.code_panel(spec)
