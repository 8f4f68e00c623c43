"""RR §3.1, §4.2–4.3: power spectra of weight-space paths and the fractal coefficient h."""

import warnings

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.theory import (
    RoughnessFit,
    RoughnessWarning,
    fractal_coefficient,
    path_power_spectrum,
)
from netspectra.theory.roughness import fractal_coefficients, mean_path_spectrum

matplotlib.use("Agg")

seeds = st.integers(0, 2**16)
lengths = st.integers(8, 129)


def _paths(seed: int, n: int, rows: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, n))


def _grid(n: int) -> np.ndarray:
    return np.arange(n) / (n - 1)


@settings(deadline=None, max_examples=40)
@given(seed=seeds, n=lengths)
def test_parseval(seed, n):
    p = _paths(seed, n)
    k, power, valid = path_power_spectrum(p, normalize=False)
    np.testing.assert_array_equal(k, np.arange(1, n // 2 + 1))
    assert power.shape == (3, n // 2) and valid.all()
    one_sided = 2 * power.sum(axis=1)
    if n % 2 == 0:
        one_sided -= power[:, -1]  # the Nyquist bin has no mirror image
    ac_energy = n * np.sum((p - p.mean(axis=1, keepdims=True)) ** 2, axis=1)
    np.testing.assert_allclose(one_sided, ac_energy, rtol=1e-10)


@settings(deadline=None, max_examples=40)
@given(
    seed=seeds,
    n=lengths,
    scale=st.floats(0.1, 10) | st.floats(-10, -0.1),
    offset=st.floats(-10, 10),
    detrend=st.booleans(),
)
def test_normalised_spectrum_ignores_scale_and_offset(seed, n, scale, offset, detrend):
    p = _paths(seed, n)
    _, base, _ = path_power_spectrum(p, detrend=detrend)
    _, moved, valid = path_power_spectrum(scale * p + offset, detrend=detrend)
    assert valid.all()
    np.testing.assert_allclose(base.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(moved, base, rtol=1e-8, atol=1e-12)


@settings(deadline=None, max_examples=30)
@given(seed=seeds, n=lengths, a=st.floats(-5, 5), b=st.floats(-5, 5))
def test_detrending_removes_any_line(seed, n, a, b):
    p = _paths(seed, n)
    _, base, _ = path_power_spectrum(p, detrend=True, normalize=False)
    _, tilted, _ = path_power_spectrum(p + a + b * _grid(n), detrend=True, normalize=False)
    np.testing.assert_allclose(tilted, base, rtol=1e-8, atol=1e-9 * base.max())


@settings(deadline=None, max_examples=30)
@given(seed=seeds, n=lengths, detrend=st.booleans())
def test_derivative_is_k_squared_weighting(seed, n, detrend):
    p = _paths(seed, n)
    k, raw, _ = path_power_spectrum(p, detrend=detrend, normalize=False)
    _, deriv, _ = path_power_spectrum(p, derivative=True, detrend=detrend)
    weighted = raw * k**2
    np.testing.assert_allclose(deriv, weighted / weighted.sum(axis=1, keepdims=True), rtol=1e-12)


@settings(deadline=None, max_examples=20)
@given(seed=seeds, n=lengths)
def test_any_sample_axis_and_leading_shape(seed, n):
    p = np.random.default_rng(seed).normal(size=(2, n, 3))
    _, power, valid = path_power_spectrum(p, axis=1)
    assert power.shape == (2, 3, n // 2) and valid.shape == (2, 3)
    _, flat, _ = path_power_spectrum(np.moveaxis(p, 1, -1).reshape(6, n))
    np.testing.assert_array_equal(power.reshape(6, -1), flat)
    _, mean, n_valid = mean_path_spectrum(p, axis=-2)
    assert n_valid == 6
    np.testing.assert_allclose(mean, flat.mean(axis=0), rtol=1e-12)


@settings(deadline=None, max_examples=40)
@given(
    h=st.just(0.0) | st.floats(-1, 4),
    c=st.floats(1e-3, 1e3),
    n_k=st.integers(6, 200),
)
def test_exact_power_law(h, c, n_k):
    k = np.arange(1, n_k + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fractal_coefficient(c * k ** (-2.0 * h))
    assert fit.h == pytest.approx(h, abs=1e-12)
    assert fit.stderr < 1e-12
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert fit.intercept == pytest.approx(0.5 * np.log(c), abs=1e-12)
    assert fit.band == [1, n_k // 2]
    np.testing.assert_array_equal(fit.k, np.arange(1, n_k // 2 + 1))


def test_exact_power_laws_row_by_row():
    k = np.arange(1, 51)
    h = np.array([-0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    power = 7.0 * k ** (-2.0 * h[:, None])
    np.testing.assert_allclose(fractal_coefficients(power), h, atol=1e-12)
    np.testing.assert_allclose(fractal_coefficients(power, k, band=(10, 50)), h, atol=1e-12)
    single = [fractal_coefficient(row, band=(10, 50)).h for row in power]
    np.testing.assert_allclose(single, h, atol=1e-12)


def test_band_and_custom_frequencies():
    k = np.arange(1, 51)
    power = np.where(k <= 20, k ** -2.0, 20.0**4 * k ** -6.0)  # h = 1, then h = 3
    assert fractal_coefficient(power, band=(1, 20)).h == pytest.approx(1.0, abs=1e-12)
    assert fractal_coefficient(power, band=(20, 50)).h == pytest.approx(3.0, abs=1e-12)
    every_other = fractal_coefficient(power[1::2], k[1::2], band=(2, 20))
    assert every_other.h == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(every_other.k, np.arange(2, 21, 2))
    # The default band is the lower half of the given bins.
    assert fractal_coefficient(power[19:], k[19:]).band == [20, 34]


@pytest.mark.parametrize("shape", ["exp", "cubic"])
def test_smooth_path_raw_and_detrended(shape):
    # The raw DFT sees the endpoint jump p(1) - p(0) as a 1/k floor (h = 1); the detrended path
    # only has the kink of the derivative at the wrap-around (h = 2). Measured at n = 100:
    # exp 0.965 / 2.034, the cubic 0.946 / 2.025.
    t = _grid(100)
    p = np.exp(t) if shape == "exp" else 1 + 2 * t - 3 * t**2 + 5 * t**3
    _, raw, _ = path_power_spectrum(p)
    _, flat, _ = path_power_spectrum(p, detrend=True)
    raw_fit, flat_fit = fractal_coefficient(raw), fractal_coefficient(flat)
    assert abs(raw_fit.h - 1) < 0.1 and raw_fit.r2 > 0.99
    assert abs(flat_fit.h - 2) < 0.2 and flat_fit.r2 > 0.99


def test_periodic_tone_is_one_bin():
    n = 128
    p = np.sin(2 * np.pi * 3 * np.arange(n) / n)  # periodic grid t_j = j / n
    k, power, valid = path_power_spectrum(p)
    assert valid and k[np.argmax(power)] == 3
    assert power[2] == pytest.approx(1.0, abs=1e-12)
    assert np.delete(power, 2).max() < 1e-25


def test_constant_paths_are_invalid_and_left_out():
    n = 64
    t = _grid(n)
    rng = np.random.default_rng(1)
    p = np.vstack([np.zeros(n), np.full(n, 0.1), rng.normal(size=n), 0.3 + 0.7 * t])
    _, power, valid = path_power_spectrum(p)
    np.testing.assert_array_equal(valid, [False, False, True, True])
    assert not power[:2].any()
    _, power, valid = path_power_spectrum(p, detrend=True)  # a line is flat once detrended
    np.testing.assert_array_equal(valid, [False, False, True, False])
    assert not power[[0, 1, 3]].any()
    _, mean, n_valid = mean_path_spectrum(p, detrend=True)
    assert n_valid == 1 and np.isfinite(mean).all()
    np.testing.assert_array_equal(mean, power[2])
    with pytest.raises(NetspectraError, match=r"all 3 path.* are constant"):
        mean_path_spectrum(p[[0, 1, 3]], detrend=True)


def test_float32_input_is_computed_in_float64():
    t = _grid(50)
    p = np.random.default_rng(2).normal(size=(4, 50)).astype(np.float32)
    _, power, _ = path_power_spectrum(p)
    assert power.dtype == np.float64
    np.testing.assert_array_equal(power, path_power_spectrum(p.astype(np.float64))[1])
    # A line rounded to float32 is rounding noise once detrended, at float32 precision.
    assert not path_power_spectrum((1 + 2 * t).astype(np.float32), detrend=True)[2]


def test_two_slopes_warn_and_one_does_not():
    k = np.arange(1, 51)
    kink = np.where(k <= 8, k**-2.0, 8.0**-2 * (k / 8.0)) ** 2  # falls as k^-2, then rises
    with pytest.warns(RoughnessWarning, match=r"no consistent power-law slope in band \(1, 25\)"):
        fractal_coefficient(kink)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fractal_coefficient(kink, min_r2=0.0)
        fractal_coefficient(k**-2.0)
        fractal_coefficients(np.vstack([kink, k**-2.0]))


def test_bad_input():
    with pytest.raises(NetspectraError, match="paths must hold at least 8 samples"):
        path_power_spectrum(np.ones((3, 7)))
    with pytest.raises(NetspectraError, match="paths must be finite"):
        path_power_spectrum([0.0, 1.0, np.nan] + [0.0] * 7)
    with pytest.raises(NetspectraError, match="paths must not be empty"):
        path_power_spectrum(np.empty((0, 16)))
    with pytest.raises(NetspectraError, match="axis must be an integer"):
        path_power_spectrum(np.ones((3, 16)), axis=2)
    k = np.arange(1, 51)
    power = k**-2.0
    with pytest.raises(NetspectraError, match="band must satisfy"):
        fractal_coefficient(power, band=(1, 51))
    with pytest.raises(NetspectraError, match="band must satisfy"):
        fractal_coefficient(power, band=(0, 10))
    with pytest.raises(NetspectraError, match="band must hold integers"):
        fractal_coefficient(power, band=(1.5, 10))
    with pytest.raises(NetspectraError, match=r"band \(4, 5\) must hold at least 3"):
        fractal_coefficient(power, band=(4, 5))
    assert fractal_coefficient(power[:6]).band == [1, 3]  # the shortest default band
    with pytest.raises(NetspectraError, match=r"power must hold at least 6 .* default band"):
        fractal_coefficient(power[:5])
    with pytest.raises(NetspectraError, match=r"power is zero in band \(1, 25\) 2 bin"):
        fractal_coefficient(np.where((k == 3) | (k == 7), 0.0, power))
    with pytest.raises(NetspectraError, match=r"power is zero .* in 1 of 2 rows"):
        fractal_coefficients(np.vstack([power, np.zeros(50)]))
    with pytest.raises(NetspectraError, match="power must be non-negative"):
        fractal_coefficient(-power)
    with pytest.raises(NetspectraError, match="power must have 2 dimension"):
        fractal_coefficients(power)
    with pytest.raises(NetspectraError, match=r"k must be increasing integers .* k\[1\] = 1"):
        fractal_coefficient(power, np.r_[1, k[:-1]])
    with pytest.raises(NetspectraError, match="k must have one entry per power bin"):
        fractal_coefficient(power, k[:-1])
    with pytest.raises(NetspectraError, match="min_r2 must be in"):
        fractal_coefficient(power, min_r2=1.5)


def test_fit_saves_loads_and_plots(tmp_path):
    k = np.arange(1, 101)
    rng = np.random.default_rng(3)
    fit = fractal_coefficient(k ** -2.0 * np.exp(0.1 * rng.normal(size=100)))
    assert 0 < fit.stderr < 0.1 and fit.h == pytest.approx(1.0, abs=0.1)
    back = RoughnessFit.load(fit.save(tmp_path))
    assert (back.h, back.stderr, back.r2, back.band, back.intercept) == (
        fit.h,
        fit.stderr,
        fit.r2,
        fit.band,
        fit.intercept,
    )
    np.testing.assert_array_equal(back.k, fit.k)
    np.testing.assert_array_equal(back.amplitude, fit.amplitude)
    fig = back.plot()
    assert "h = " in fig.axes[0].get_legend().get_texts()[1].get_text()
