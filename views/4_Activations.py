"""Activations: f(x) and f'(x) for each activation the Playground offers, and softmax."""

import numpy as np
import streamlit as st

import ui
from nnplay import activations, charts
from nnplay.spec import ACTIVATIONS

st.title("Activations")
st.caption("Each curve is computed by PyTorch: f(x) by the torch.nn module, f′(x) by autograd. "
           "Grey bands mark where f′(x) is near zero: a unit whose inputs sit there passes "
           "almost no gradient back and stops learning.")  # fmt: skip
ui.hide_controls(ui.hidden())
big = ui.scale()

controls, chart = st.columns([1, 2.4], gap="large")
with controls:
    name = st.selectbox("Activation", ACTIVATIONS, key="act.name",
                        index=ACTIVATIONS.index("Sigmoid"))
    params = {}
    for p in activations.PARAMS.get(name, ()):
        params[p.name] = st.slider(p.label, p.low, p.high, p.default, step=p.step,
                                   key=f"act.{name}.{p.name}", help=f"torch.nn.{name}({p.name}=…)")
    span = st.slider("x range", 1.0, 20.0, 6.0, step=0.5, key="act.range",
                     help="Plot x from −range to +range.")
    near = st.select_slider("Shade where |f′(x)| is below", (0.001, 0.01, 0.05, 0.1, 0.2),
                            value=activations.NEAR_ZERO, key="act.near")
    args = ", ".join(f"{k}={v:g}" for k, v in params.items())
    st.code(f"nn.{name}({args})", language="python")
    st.markdown(activations.NOTES[name])

x = np.linspace(-span, span, 801)
f, df = activations.curve(name, x, params)
flat = activations.flat_regions(x, df, near)
with chart:
    ui.figure(charts.activation_curve_chart(name, x, f, df, flat, scale=big), "act.curve")
    share = float(np.mean(np.abs(df) < near))
    peak = float(np.max(np.abs(df)))
    st.caption(f"Largest |f′(x)|: **{peak:.3g}** · share of this range with |f′(x)| < {near:g}: "
               f"**{share:.0%}**")  # fmt: skip

st.divider()
st.subheader("Softmax")
st.markdown("Softmax turns a vector of scores (logits) into probabilities: "
            "softmax(z)ᵢ = exp(zᵢ / T) / Σⱼ exp(zⱼ / T). A low temperature T sharpens it towards "
            "the largest score (argmax); a high one flattens it towards uniform. "
            "`nn.CrossEntropyLoss` applies it (as log-softmax) for you, so a classifier's last "
            "layer outputs raw scores.")  # fmt: skip
left, right = st.columns([1, 2.4], gap="large")
with left:
    text = st.text_input("Scores z (comma-separated)", "2, 1, 0.1", key="softmax.z")
    temperature = st.select_slider("Temperature T", (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
                                   value=1.0, key="softmax.t")
try:
    z = activations.parse_vector(text)
except ValueError as e:
    left.error(str(e))
else:
    probs = activations.softmax(z, temperature)
    with right:
        ui.figure(charts.softmax_chart(z, probs, temperature, scale=big), "softmax.chart")
    left.caption(f"Largest probability: **{probs.max():.1%}**; the probabilities sum to 1.")
