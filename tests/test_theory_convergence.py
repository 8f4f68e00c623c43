"""Error measures, the empirical order, and the one-pass convergence study."""

import numpy as np
import pytest

from netspectra import NetspectraError
from netspectra.theory import (
    SeriesConvergence,
    relu_series,
    rrmse_percent,
    series_convergence,
    tone_signal,
)
from netspectra.theory.convergence import convergence_order, max_abs_error


def test_rrmse_definition():
    exact = np.array([1.0, 0.0, 1.0, 0.0])
    approx = exact + np.array([0.1, -0.1, 0.1, -0.1])
    assert rrmse_percent(approx, exact) == pytest.approx(100 * np.sqrt(0.01 / 0.5))
    assert max_abs_error(approx, exact) == pytest.approx(0.1)


def test_order_of_an_exact_power_law():
    n = np.array([4, 8, 16, 64, 256])
    assert convergence_order(n, 3.0 * n**-1.25) == pytest.approx(1.25)


def test_one_pass_equals_separate_evaluations(tmp_path):
    t = np.arange(2048) / 1024
    x = tone_signal([1, 1, 1, 1], [5, 10, 20, 40], t=t)
    ns = [3, 8, 50]
    conv = series_convergence(x, ns)
    looped = [rrmse_percent(relu_series(x, n), np.maximum(x, 0)) for n in ns]
    np.testing.assert_allclose(conv.rrmse_percent, looped, rtol=1e-10)
    np.testing.assert_allclose(
        conv.max_abs_error, [max_abs_error(relu_series(x, n), np.maximum(x, 0)) for n in ns],
        rtol=1e-10,
    )
    back = SeriesConvergence.load(conv.save(tmp_path))
    np.testing.assert_array_equal(back.rrmse_percent, conv.rrmse_percent)
    assert back.plot().axes


def test_convergence_is_algebraic_not_exponential():
    # A signal with zero crossings: error ~ N^-p with p < 1.5; exponential decay would make
    # the error at N = 400 negligible against N = 100 (ratio < 1e-3), it is not.
    t = np.arange(4096) / 1024
    x = tone_signal([1, 1, 1, 1], [5, 10, 20, 40], t=t)
    conv = series_convergence(x, [25, 50, 100, 200, 400])
    assert 0.5 < conv.order < 1.2
    assert conv.rrmse_percent[-1] / conv.rrmse_percent[2] > 0.2


def test_signal_away_from_zero_converges_exponentially():
    x = 2.0 + np.cos(np.linspace(0, 2 * np.pi, 100))  # |m| < 1 everywhere
    conv = series_convergence(x, [5, 45], scale=5.0)  # |m| <= 0.8: error ~ 0.8^N
    assert conv.rrmse_percent[1] < 1e-3 * conv.rrmse_percent[0]


def test_bad_input():
    with pytest.raises(NetspectraError, match="match"):
        rrmse_percent([1.0, 2.0], [1.0])
    with pytest.raises(NetspectraError, match="zeros"):
        rrmse_percent([1.0], [0.0])
    with pytest.raises(NetspectraError, match="n_terms"):
        series_convergence([1.0, -1.0], [0, 5])
    with pytest.raises(NetspectraError, match="two"):
        convergence_order([1], [1.0])
    with pytest.raises(NetspectraError, match="two distinct"):
        convergence_order([4, 4], [1.0, 0.5])
    with pytest.raises(NetspectraError, match="match"):
        max_abs_error([1.0, 2.0], [1.0, 2.0, 3.0])


def test_errors_of_huge_signals_do_not_overflow():
    exact = np.array([1e300, -1e300, 3e299])
    approx = exact * (1 + 1e-3)
    assert rrmse_percent(approx, exact) == pytest.approx(0.1)
    assert max_abs_error(approx, exact) == pytest.approx(1e297)
    with pytest.raises(NetspectraError, match="overflow"):
        max_abs_error([1.7e308], [-1.7e308])
