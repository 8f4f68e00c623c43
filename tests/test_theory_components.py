"""Predicted output components of the N-term model for tones, and the multi-tone DC."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.theory import (
    ToneComponents,
    amplitude_spectrum,
    multitone_dc_mean,
    predicted_components,
    rectified_tone_dc,
    relu_series,
    tone_signal,
)
from netspectra.theory.dc import multitone_dc_series

FS, N = 512.0, 4096  # 0.125 Hz bins


@settings(deadline=None, max_examples=20)
@given(
    amps=st.lists(st.floats(0.1, 3), min_size=1, max_size=3),
    bins=st.lists(st.integers(8, 80), min_size=3, max_size=3),
    phases=st.lists(st.floats(0, 6.28), min_size=3, max_size=3),
    n_terms=st.integers(1, 6),
)
def test_components_equal_fft_of_sampled_model(amps, bins, phases, n_terms):
    k = len(amps)
    f = np.array(bins[:k]) * FS / N
    comps = predicted_components(amps, f, phases[:k], n_terms=n_terms)
    t = np.arange(N) / FS
    x = tone_signal(amps, f, phases[:k], t=t)
    y = relu_series(x, n_terms, scale=0.5 * sum(amps) ** 2)
    # Parseval: the model's power is DC² + Σ amplitude²/2.
    power = comps.dc**2 + np.sum(comps.amplitude[comps.frequency > 0] ** 2) / 2
    assert power == pytest.approx(np.mean(y**2), rel=1e-9)
    _, amp = amplitude_spectrum(y, FS)
    bins_of = np.rint(comps.frequency / (FS / N)).astype(int)
    assert np.unique(bins_of).size == bins_of.size  # coinciding products were merged
    np.testing.assert_allclose(comps.amplitude, amp[bins_of], atol=1e-12)
    np.testing.assert_allclose(comps.measured(y, FS), amp[bins_of], atol=0)
    assert comps.dc == pytest.approx(y.mean(), abs=1e-12)


def test_orders_of_two_incommensurate_tones():
    f1, f2 = 3.0, 3.0 * np.sqrt(2)
    comps = predicted_components([1.0, 0.7], [f1, f2], n_terms=3)
    degree = {round(f, 6): int(d) for f, d in zip(comps.frequency, comps.degree, strict=True)}
    order = {round(f, 6): int(n)
             for f, n in zip(comps.frequency, comps.series_order, strict=True)}
    assert degree[0.0] == 0 and degree[round(f1, 6)] == 1 and degree[round(f2, 6)] == 1
    for f in (2 * f1, f1 + f2, f2 - f1, 2 * f2):
        assert degree[round(f, 6)] == 2 and order[round(f, 6)] == 1
    for f in (4 * f1, 2 * f1 + 2 * f2, 3 * f2 - f1):
        assert degree[round(f, 6)] == 4 and order[round(f, 6)] == 2
    assert comps.frequency.max() == pytest.approx(4 * f2)  # degree 2(N-1) = 4
    amp = dict(zip(np.round(comps.frequency, 6), comps.amplitude, strict=True))
    assert amp[round(f1, 6)] == pytest.approx(0.5)  # x/2 keeps the input tones


def test_single_tone_model_approaches_known_harmonics():
    # ReLU(a cos) = a/pi + (a/2) cos + (2a/pi) sum (-1)^(k+1) cos(2k th) / (4k^2 - 1)
    comps = predicted_components([2.0], [1.0], n_terms=400)
    amp = dict(zip(comps.frequency, comps.amplitude, strict=True))
    assert comps.dc == pytest.approx(2 / np.pi, rel=2e-3)
    assert amp[1.0] == pytest.approx(1.0)
    assert amp[2.0] == pytest.approx(4 / (3 * np.pi), rel=5e-3)
    assert amp[4.0] == pytest.approx(4 / (15 * np.pi), rel=2e-2)


def test_alias_warning_names_the_numbers():
    match = r"% of the predicted output power.*Nyquist frequency 20 Hz"
    with pytest.warns(RuntimeWarning, match=match):
        predicted_components([1.0, 1.0], [5.0, 15.0], n_terms=10, fs=40.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predicted_components([1.0], [5.0], n_terms=3, fs=1000.0)


def test_save_load_plot(tmp_path):
    comps = predicted_components([1.0, 0.5], [2.0, 3.0], n_terms=4)
    back = ToneComponents.load(comps.save(tmp_path))
    np.testing.assert_array_equal(back.amplitude, comps.amplitude)
    assert back.plot().axes


@settings(deadline=None, max_examples=20)
@given(
    amps=st.lists(st.floats(0.1, 3), min_size=1, max_size=3),
    harmonics=st.lists(st.integers(1, 12), min_size=3, max_size=3),
    phases=st.lists(st.floats(0, 6.28), min_size=3, max_size=3),
)
def test_multitone_dc_mean_equals_measured_mean(amps, harmonics, phases):
    k = len(amps)
    f = 2.0 * np.array(harmonics[:k])
    t = np.arange(2**15) / 2**15 / 2.0  # one period of 2 Hz, finely sampled
    measured = np.maximum(tone_signal(amps, f, phases[:k], t=t), 0).mean()
    assert multitone_dc_mean(amps, f, phases[:k]) == pytest.approx(measured, rel=1e-6, abs=1e-9)


def test_multitone_dc_agrees_across_formulas():
    assert multitone_dc_mean([3.0], [7.0]) == pytest.approx(rectified_tone_dc(3.0), rel=1e-8)
    amps, f = [1, 1, 1, 1], [5, 10, 20, 40]
    exact = multitone_dc_mean(amps, f)
    errors = [abs(multitone_dc_series(amps, f, n_terms=n) - exact) for n in (10, 50, 200)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 3e-3 * exact


def test_bad_input():
    with pytest.raises(NetspectraError, match="equal lengths"):
        predicted_components([1.0, 2.0], [1.0])
    with pytest.raises(NetspectraError, match="frequencies"):
        predicted_components([1.0], [-1.0])
    with pytest.raises(NetspectraError, match=r"amplitudes must have 1 dimension"):
        predicted_components([[1.0]], [1.0])
    with pytest.raises(NetspectraError, match="amplitudes must be finite"):
        predicted_components([np.nan], [1.0])
    with pytest.raises(NetspectraError, match="amplitudes must not be empty"):
        multitone_dc_mean([], [])
    with pytest.raises(NetspectraError, match="n_terms"):
        predicted_components([1.0], [1.0], n_terms=0)
    with pytest.raises(NetspectraError, match="fs"):
        predicted_components([1.0], [1.0], fs=0)
    with pytest.raises(NetspectraError, match="max_components"):
        predicted_components([1, 1, 1], [1.0, np.sqrt(2), np.pi], n_terms=40,
                             max_components=1000)
    with pytest.raises(NetspectraError, match="commensurate"):
        multitone_dc_mean([1, 1], [1.0, np.sqrt(2)])
    with pytest.raises(NetspectraError, match="diverge"):
        predicted_components([1.0, 1.0], [1.0, 2.0], scale=1.0)
