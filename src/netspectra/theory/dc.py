"""The DC that ReLU creates (DC paper, Section IV, eqs. 8 and 10).

For a tone ``a cos(2π f t)``, ``ReLU`` has the mean ``a/π``. A causal FIR filter ``h`` turns the
tone into ``a|H(f)| cos(2π f t + ∠H(f))``, so the DC after filter + ReLU is ``a|H(f)|/π``.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

import numpy as np

from .._validation import as_real_array, at_least, positive, within_bytes
from ..errors import NetspectraError
from ._scaling import power_of_two_below
from .components import _tones, predicted_components, tone_signal

__all__ = [
    "filtered_tone_dc",
    "frequency_response",
    "multitone_dc_mean",
    "multitone_dc_series",
    "rectified_tone_dc",
]


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
    within_bytes(32 * f.size * h.size, "taps", "the response at every frequency")
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below
        cycles = np.multiply.outer(f / fs, np.arange(h.size))
    if not np.all(np.isfinite(cycles)):
        raise NetspectraError("frequencies / fs too large: the phases overflow float64")
    return np.exp(-2j * np.pi * cycles) @ h


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
    f = as_real_array(frequency, "frequency")
    try:
        np.broadcast_shapes(a.shape, f.shape)
    except ValueError as exc:
        raise NetspectraError(
            f"amplitude and frequency must broadcast; found shapes {a.shape}, {f.shape}"
        ) from exc
    return np.abs(a) * np.abs(frequency_response(taps, f, fs)) / np.pi


def multitone_dc_series(amplitudes, frequencies, phases=None, *, n_terms: int = 50) -> float:
    """DC of the ``n_terms``-term ReLU model of ``Σ a_i cos(2π f_i t + φ_i)`` (DC paper, eq. 9
    and Appendix A): the 0 Hz component of :func:`~netspectra.theory.predicted_components`.

    Converges to :func:`multitone_dc_mean` as ``n_terms`` grows (algebraically, see
    :mod:`netspectra.theory.convergence`).
    """
    return predicted_components(amplitudes, frequencies, phases, n_terms=n_terms).dc


def multitone_dc_mean(
    amplitudes, frequencies, phases=None, *, samples: int = 2**16, max_denominator: int = 1000
) -> float:
    """Exact time mean of ``ReLU(Σ a_i cos(2π f_i t + φ_i))`` over the common period.

    The frequencies (Hz) must be commensurate: each ``f_i / max f`` a fraction with denominator
    at most ``max_denominator``; the mean is taken over one period ``1 / gcd(f)`` with
    ``samples × (max f / gcd f)`` evenly spaced samples. Sampling a periodic function evenly
    makes the mean exact up to the aliased harmonics, whose amplitudes fall as ``k^-2`` for the
    ReLU kink (error ~ 1e-9 relative at the default).
    """
    a, f, p = _tones(amplitudes, frequencies, phases)
    # ReLU(u y) = u ReLU(y): average with amplitudes divided by a power of two u near the
    # largest, so that the sum over the period cannot overflow.
    u = power_of_two_below(float(np.max(np.abs(a))))
    a = a / u
    samples = at_least(samples, 2, "samples")
    max_denominator = at_least(max_denominator, 1, "max_denominator")
    fmax = float(f.max())
    if fmax == 0:
        return u * float(np.maximum(np.sum(a * np.cos(p)), 0.0))
    ratios = [Fraction(v / fmax).limit_denominator(max_denominator) for v in f]
    if any(abs(float(r) - v / fmax) > 1e-12 for r, v in zip(ratios, f, strict=True)):
        raise NetspectraError(
            f"frequencies must be commensurate (ratios with denominator <= {max_denominator}); "
            f"found {f.tolist()}"
        )
    q = lcm(*(r.denominator for r in ratios))  # max f = q · f0 with f0 = gcd of the tones
    f0 = fmax / q
    n = samples * q
    within_bytes(16 * n * f.size, "samples", f"{f.size} tones at {samples} samples per period "
                 f"of the highest over their common period ({q} of them at "
                 f"max_denominator={max_denominator})")
    t = np.arange(n) / (n * f0)
    return u * float(np.maximum(tone_signal(a, f, p, t=t), 0.0).mean())
