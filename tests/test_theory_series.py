"""ReLU series (DC paper eqs. 6–9): coefficients, evaluation, scale, convergence, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import binom

from netspectra import NetspectraError
from netspectra.theory import (
    relu_series,
    relu_series_coefficients,
    rrmse_percent,
    tone_signal,
)
from netspectra.theory.series import series_scale

TABLE_I = [1, 0.5, -0.125, 0.0625, -0.039, 0.027, -0.02, 0.016]  # DC paper, first version


def test_recurrence_equals_closed_form():
    n = np.arange(40)
    np.testing.assert_allclose(relu_series_coefficients(40), binom(0.5, n), rtol=1e-13)


def test_table_i_to_printed_precision():
    c = relu_series_coefficients(8)
    np.testing.assert_allclose(c, TABLE_I, atol=5.1e-4)
    assert c[4] == -5 / 128 and c[7] == 33 / 2048


def test_no_overflow_at_1000_terms():
    c = relu_series_coefficients(1000)
    assert np.all(np.isfinite(c)) and abs(c[-1]) < 1e-5
    # |C(1/2, n)| ~ n^(-3/2) / (2 sqrt(pi))
    assert abs(c[-1]) * 999**1.5 * 2 * np.sqrt(np.pi) == pytest.approx(1, rel=2e-3)
    x = np.linspace(-3, 3, 1001)
    y = relu_series(x, 1000)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y - np.maximum(x, 0))) < 0.05


def test_horner_equals_power_sum_for_few_terms():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    a = series_scale(x)
    m = x**2 / a - 1
    c = relu_series_coefficients(12)
    naive = x / 2 + np.sqrt(a) / 2 * sum(ck * m**k for k, ck in enumerate(c))
    np.testing.assert_allclose(relu_series(x, 12), naive, rtol=1e-12, atol=1e-12)


def test_one_term_is_x_over_2_plus_sqrt_a_over_2():
    x = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(relu_series(x, 1), x / 2 + np.sqrt(2.0) / 2)


@settings(deadline=None, max_examples=25)
@given(
    amps=st.lists(st.floats(0.1, 5), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_series_converges_to_relu(amps, seed):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 2001)
    x = tone_signal(amps, rng.integers(1, 20, len(amps)), rng.uniform(0, 6.3, len(amps)), t=t)
    exact = np.maximum(x, 0)
    errors = [rrmse_percent(relu_series(x, n), exact) for n in (10, 100, 1000)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1.0
    # Pointwise, the error is at most the tail at the zero crossing: ~ sqrt(A/(pi N)).
    bound = np.sqrt(series_scale(x) / (np.pi * 1000))
    assert np.max(np.abs(relu_series(x, 1000) - exact)) <= bound


@settings(deadline=None, max_examples=25)
@given(st.floats(0.05, 3), st.floats(0.05, 3), st.floats(-2, 2), st.floats(-2, 2))
def test_linear_part_is_linear(a1, a2, b1, b2):
    # The odd part of the model is exactly x/2 + x/2 ... i.e. model(x) - model(-x) = x,
    # linear in x, whatever the even (series) part does.
    t = np.linspace(0, 1, 257)
    x1, x2 = a1 * np.cos(2 * np.pi * 3 * t), a2 * np.sin(2 * np.pi * 5 * t)
    x = b1 * x1 + b2 * x2
    odd = relu_series(x, 30) - relu_series(-x, 30)
    np.testing.assert_allclose(odd, b1 * x1 + b2 * x2, atol=1e-12 * (1 + np.abs(x).max()))


def test_scale_matches_reference_choice_for_tones():
    amps = [1.0, 0.5, 2.0]
    t = np.arange(1000) / 1000
    x = tone_signal(amps, [5, 10, 20], t=t)  # zero phases: all peak at t = 0
    assert series_scale(x) == pytest.approx(0.5 * sum(amps) ** 2)


def test_given_scale_is_used_and_checked():
    x = np.array([-2.0, 1.0, 0.0])
    assert series_scale(x, 2.0) == 2.0
    with pytest.raises(NetspectraError, match=r"diverge.*max x² = 4"):
        relu_series(x, 10, scale=1.9)
    # Any A >= max x^2 / 2 converges to the same function.
    np.testing.assert_allclose(relu_series(x, 4000, scale=10.0), np.maximum(x, 0), atol=0.05)


def test_all_zero_signal():
    np.testing.assert_array_equal(relu_series(np.zeros(4), 5), np.zeros(4))


@pytest.mark.parametrize(
    ("x", "n", "match"),
    [
        ([np.nan, 1.0], 5, "finite"),
        ([np.inf], 5, "finite"),
        ([], 5, "empty"),
        ([1.0], 0, "n_terms"),
        ([1.0], 2.5, "n_terms"),
        (["a"], 3, "numeric"),
    ],
)
def test_bad_input(x, n, match):
    with pytest.raises(NetspectraError, match=match):
        relu_series(x, n)


def test_bad_scale():
    for bad in (0, -1, np.nan):
        with pytest.raises(NetspectraError, match="scale"):
            relu_series([1.0], 3, scale=bad)


@pytest.mark.parametrize("factor", [1e-300, 1e200, 2.0**1000])
def test_series_is_positively_homogeneous_at_any_finite_scale(factor):
    # ReLU(c x) = c ReLU(x) for c > 0, and so is the series with the automatic scale: however
    # large or small the signal, nothing overflows or underflows into NaN.
    x = np.cos(np.linspace(0, 6, 200)) + 0.3
    np.testing.assert_allclose(relu_series(factor * x, 40) / factor, relu_series(x, 40),
                               rtol=0, atol=1e-12)


def test_huge_term_counts_are_refused_up_front():
    with pytest.raises(NetspectraError, match="n_terms too large"):
        relu_series(np.ones(1000), 2**40)
    with pytest.raises(NetspectraError, match="n_terms too large"):
        relu_series_coefficients(2**62)


@pytest.mark.parametrize(("x", "message"), [
    (np.array([1.0, 2.0 + 1e-3j]), "x must be real; found complex"),
    (np.array(["1.0", "2.0"]), "x must be a real numeric array"),
    (np.array([1.0, None], dtype=object), "x must be a real numeric array"),
])
def test_complex_text_and_object_signals_are_refused_not_cut(x, message):
    with pytest.raises(NetspectraError, match=message):
        relu_series(x)
    assert relu_series(np.array([1.0, -2.0 + 0j]), 3).dtype == np.float64  # zero imaginary part
