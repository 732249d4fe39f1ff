"""The activation explorer's math against closed forms and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnplay import activations
from nnplay.spec import ACTIVATIONS

X = np.linspace(-6, 6, 1201)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


CLOSED_FORM = {
    "ReLU": (lambda x, p: np.maximum(x, 0), lambda x, p: (x > 0).astype(float)),
    "LeakyReLU": (lambda x, p: np.where(x > 0, x, p["negative_slope"] * x),
                  lambda x, p: np.where(x > 0, 1.0, p["negative_slope"])),
    "ELU": (lambda x, p: np.where(x > 0, x, p["alpha"] * (np.exp(x) - 1)),
            lambda x, p: np.where(x > 0, 1.0, p["alpha"] * np.exp(x))),
    "Tanh": (lambda x, p: np.tanh(x), lambda x, p: 1 - np.tanh(x) ** 2),
    "Sigmoid": (lambda x, p: sigmoid(x), lambda x, p: sigmoid(x) * (1 - sigmoid(x))),
    "Softplus": (lambda x, p: np.log1p(np.exp(p["beta"] * x)) / p["beta"],
                 lambda x, p: sigmoid(p["beta"] * x)),
    "SiLU": (lambda x, p: x * sigmoid(x),
             lambda x, p: sigmoid(x) * (1 + x * (1 - sigmoid(x)))),
    "Identity": (lambda x, p: x, lambda x, p: np.ones_like(x)),
}  # fmt: skip
PARAMS = {"LeakyReLU": {"negative_slope": 0.2}, "ELU": {"alpha": 1.5}, "Softplus": {"beta": 3.0}}


@pytest.mark.parametrize("name", sorted(CLOSED_FORM))
def test_f_and_autograd_derivative_match_closed_forms(name):
    params = PARAMS.get(name)
    f, df = activations.curve(name, X, params)
    p = activations.defaults(name) | (params or {})
    want_f, want_df = CLOSED_FORM[name]
    assert np.allclose(f, want_f(X, p), atol=1e-6)
    off_kink = np.abs(X) > 1e-9  # the derivative at 0 of ReLU-like functions is a convention
    assert np.allclose(df[off_kink], want_df(X, p)[off_kink], atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_has_a_derivative_and_a_note(name):
    f, df = activations.curve(name, X)
    h = 1e-5
    fp, _ = activations.curve(name, X + h)
    fm, _ = activations.curve(name, X - h)
    smooth = np.abs(X) > 1e-3
    assert np.allclose(df[smooth], ((fp - fm) / (2 * h))[smooth], atol=1e-5)
    assert len(activations.NOTES[name]) > 40


def test_parameters_change_the_curve():
    _, slope_small = activations.curve("LeakyReLU", np.array([-1.0]), {"negative_slope": 0.01})
    _, slope_big = activations.curve("LeakyReLU", np.array([-1.0]), {"negative_slope": 0.5})
    assert slope_small[0] == pytest.approx(0.01) and slope_big[0] == pytest.approx(0.5)
    f, _ = activations.curve("ELU", np.array([-50.0]), {"alpha": 2.0})
    assert f[0] == pytest.approx(-2.0)


def test_flat_regions():
    _, d = activations.curve("Sigmoid", X)
    regions = activations.flat_regions(X, d)
    edge = math.log((1 + math.sqrt(0.8)) / (1 - math.sqrt(0.8)))  # s(1-s) = 0.05
    assert len(regions) == 2
    assert regions[0][0] == -6 and regions[0][1] == pytest.approx(-edge, abs=0.02)
    assert regions[1][1] == 6 and regions[1][0] == pytest.approx(edge, abs=0.02)
    _, d = activations.curve("ReLU", X)
    assert activations.flat_regions(X, d) == [(-6.0, 0.0)]
    _, d = activations.curve("Identity", X)
    assert activations.flat_regions(X, d) == []
    _, d = activations.curve("LeakyReLU", X, {"negative_slope": 0.1})
    assert activations.flat_regions(X, d) == []


def test_softmax_and_temperature():
    v = [2.0, 1.0, 0.1]
    p = activations.softmax(v)
    assert p.sum() == pytest.approx(1) and list(np.argsort(-p)) == [0, 1, 2]
    assert np.allclose(activations.softmax(np.array(v) + 100), p)
    cold, hot = activations.softmax(v, 0.05), activations.softmax(v, 100.0)
    assert cold[0] > 0.999 and np.allclose(hot, 1 / 3, atol=0.01)
    with pytest.raises(ValueError):
        activations.softmax(v, 0.0)


def test_parse_vector():
    assert activations.parse_vector("2, 1, 0.1") == [2.0, 1.0, 0.1]
    assert activations.parse_vector(" -1  3e2 ") == [-1.0, 300.0]
    for bad, words in (("1", "2 to 12"), ("1, x", "'x' is not"), ("1, inf", "out of range"),
                       ("1,nan", "out of range"), (",".join(["1"] * 13), "2 to 12")):
        with pytest.raises(ValueError, match=words):
            activations.parse_vector(bad)


@given(st.text(max_size=80))
def test_parse_vector_never_fails_otherwise(text):
    try:
        values = activations.parse_vector(text)
    except ValueError as e:
        assert str(e).endswith(".")
    else:
        assert 2 <= len(values) <= 12 and all(math.isfinite(v) for v in values)
