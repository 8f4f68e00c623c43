"""RR eq. 6: spectrum of a polynomial of a signal by auto-convolution, and blueshift."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.theory import BlueshiftResult, blueshift, polynomial_spectrum
from netspectra.theory.harmonic_distortion import polynomial_spectrum_in_time

coefficient_lists = st.lists(st.floats(-2, 2), min_size=1, max_size=7)


def _real_signal_spectrum(seed: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=k) + 1j * rng.normal(size=k)
    return np.concatenate((pos[::-1].conj(), [rng.normal()], pos)) / np.sqrt(k)


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 12), a=coefficient_lists)
def test_auto_convolution_equals_time_domain(seed, k, a):
    z = _real_signal_spectrum(seed, k)
    fast = polynomial_spectrum(z, a)
    assert fast.size == 2 * (len(a) - 1) * k + 1
    scale = 1 + np.abs(polynomial_spectrum(np.abs(z), np.abs(a))).max()
    np.testing.assert_allclose(fast, polynomial_spectrum_in_time(z, a), atol=1e-12 * scale)


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 10))
def test_parseval_and_symmetry(seed, k):
    z = _real_signal_spectrum(seed, k)
    out = polynomial_spectrum(z, [0.5, -1.0, 0.25, 0.1])
    np.testing.assert_allclose(out, out[::-1].conj(), atol=1e-12)  # real output
    n = out.size
    y = np.fft.ifft(np.fft.ifftshift(out)) * n  # samples of phi(p) over one period
    assert np.sum(np.abs(out) ** 2) == pytest.approx(np.mean(np.abs(y) ** 2), rel=1e-10)


def test_square_of_a_cosine():
    # cos^2 = 1/2 + cos(2t)/2: coefficients 1/4 at k = +-2 and 1/2 at 0.
    out = polynomial_spectrum([0.5, 0, 0.5], [0, 0, 1])
    np.testing.assert_allclose(out, [0.25, 0, 0.5, 0, 0.25], atol=1e-15)


def test_blueshift_band_and_renormalisation(tmp_path):
    res = blueshift("square", [0, 0, 1], band=4, steps=2, k_max=40)
    assert res.power.shape == (3, 41)
    np.testing.assert_allclose(res.power[:, 1:].sum(axis=1), 0.5)  # k > 0 half
    assert res.power[1, 0] == 0  # DC removed
    # x^2 doubles the support each step: 4 -> 8 -> 16 harmonics at most.
    assert np.all(res.power[1, 9:] < 1e-25) and np.any(res.power[2, 9:] > 1e-6)
    assert res.bandwidth[0] == 4 and res.bandwidth[1] <= 8
    back = BlueshiftResult.load(res.save(tmp_path))
    np.testing.assert_array_equal(back.power, res.power)
    assert back.plot().axes


def test_bad_input():
    with pytest.raises(NetspectraError, match="odd length"):
        polynomial_spectrum([1.0, 2.0], [1.0])
    with pytest.raises(NetspectraError, match="z must be finite"):
        polynomial_spectrum([np.nan], [1.0])
    with pytest.raises(NetspectraError, match="coefficients"):
        polynomial_spectrum([1.0], [])
    with pytest.raises(NetspectraError, match="k_max"):
        blueshift("x", [0, 1], band=8, k_max=4)
