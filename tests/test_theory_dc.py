"""DC identities: a/π for a rectified tone and a|H(f)|/π after an FIR filter."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.theory import filtered_tone_dc, frequency_response, rectified_tone_dc

# Many samples per period: the aliased high harmonics of the rectified tone stay below 1e-5.
FS, N = 256.0, 2**16


@given(a=st.floats(0.01, 100), k=st.integers(1, 64), phase=st.floats(0, 2 * np.pi))
def test_rectified_tone_dc_is_a_over_pi(a, k, phase):
    t = np.arange(N) / FS
    x = a * np.cos(2 * np.pi * k * FS / N * t + phase)
    assert np.maximum(x, 0).mean() == pytest.approx(rectified_tone_dc(a), rel=2e-4)


@settings(deadline=None)
@given(
    taps=st.lists(st.floats(-2, 2), min_size=1, max_size=9).filter(
        lambda h: max(map(abs, h)) > 0.1
    ),
    k=st.integers(1, 64),
    a=st.floats(0.1, 10),
)
def test_filtered_tone_dc_matches_measured_mean(taps, k, a):
    f = k * FS / N  # on a bin, so the measured mean has no leakage
    t = np.arange(N + len(taps) - 1) / FS
    y = np.convolve(a * np.cos(2 * np.pi * f * t), taps, mode="valid")
    expected = filtered_tone_dc(a, f, taps, FS)
    assert np.maximum(y, 0).mean() == pytest.approx(expected, rel=1e-3, abs=1e-9 * a)


def test_frequency_response_of_difference_filter():
    # h = [1, -1] has |H(f)| = 2 |sin(π f / fs)|
    f = np.array([0.0, 8.0, 64.0, 128.0])
    np.testing.assert_allclose(np.abs(frequency_response([1, -1], f, FS)),
                               2 * np.abs(np.sin(np.pi * f / FS)), atol=1e-12)


def test_bad_input():
    with pytest.raises(NetspectraError, match="fs"):
        filtered_tone_dc(1.0, 5.0, [1.0], fs=-1)
    with pytest.raises(NetspectraError, match="taps"):
        filtered_tone_dc(1.0, 5.0, [[1.0]], fs=10)
