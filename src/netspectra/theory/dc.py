"""The DC that ReLU creates (DC paper, Section IV, eqs. 8 and 10).

For a tone ``a cos(2π f t)``, ``ReLU`` has the mean ``a/π``. A causal FIR filter ``h`` turns the
tone into ``a|H(f)| cos(2π f t + ∠H(f))``, so the DC after filter + ReLU is ``a|H(f)|/π``.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, positive

__all__ = ["filtered_tone_dc", "frequency_response", "rectified_tone_dc"]


def rectified_tone_dc(amplitude) -> np.ndarray:
    """Mean of ``ReLU(a cos θ)`` over a period: ``|a| / π`` (DC paper, eq. 8).

    Works elementwise on an array of amplitudes (any units; the DC has the same units).
    """
    return np.abs(as_real_array(amplitude, "amplitude")) / np.pi


def frequency_response(taps, frequencies, fs: float) -> np.ndarray:
    """Complex response ``H(f) = Σ_k h[k] exp(-2πi f k / fs)`` of a causal FIR filter.

    Convention: ``y[n] = Σ_k h[k] x[n - k]`` (``np.convolve``, a causal 'valid' convolution,
    and PyTorch's ``conv1d`` with flipped taps). ``frequencies`` and ``fs`` are in Hz.
    """
    h = as_real_array(taps, "taps", ndim=1)
    f = as_real_array(frequencies, "frequencies")
    fs = positive(fs, "fs")
    k = np.arange(h.size)
    return np.exp(-2j * np.pi * np.multiply.outer(f / fs, k)) @ h


def filtered_tone_dc(amplitude, frequency, taps, fs: float) -> np.ndarray:
    """DC after ``ReLU(h * (a cos 2π f t))``: ``|a| |H(f)| / π`` (DC paper, eq. 10).

    Parameters
    ----------
    amplitude : array_like
        Tone amplitude ``a``.
    frequency : array_like
        Tone frequency in Hz (broadcast against ``amplitude``).
    taps : array_like, 1-D
        FIR taps ``h[0], h[1], …`` in the causal convention of :func:`frequency_response`.
    fs : float
        Sampling rate in Hz.
    """
    a = as_real_array(amplitude, "amplitude")
    return np.abs(a) * np.abs(frequency_response(taps, frequency, fs)) / np.pi
