"""One-sided spectra and spectral-width statistics (power centroid, p%-power bandwidth).

These statistics quantify "blueshift" (Ringing ReLUs §3): the wider the power spreads to high
frequencies, the larger the centroid and the bandwidth.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, positive
from ..errors import NetspectraError

__all__ = ["amplitude_spectrum", "bandwidth", "dc_share", "power_centroid"]


def amplitude_spectrum(x, fs: float = 1.0, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """One-sided amplitude spectrum of a real signal.

    Parameters
    ----------
    x : array_like
        Real samples; the transform runs along ``axis`` (any leading dimensions).
    fs : float
        Sampling rate in Hz (samples per second). Use 1 for frequencies in cycles per sample.
    axis : int
        Time axis.

    Returns
    -------
    f : ndarray
        Frequencies in Hz, ``rfftfreq(n, 1/fs)``.
    amplitude : ndarray
        Amplitudes scaled so that a tone ``a cos(2π f t)`` on a bin shows ``a`` and a constant
        ``c`` shows ``c`` at 0 Hz (``|rfft| / n``, doubled except at DC and Nyquist).
    """
    x = as_real_array(x, "x")
    fs = positive(fs, "fs")
    n = x.shape[axis]
    spec = np.abs(np.fft.rfft(x, axis=axis)) / n
    scale = np.full(spec.shape[axis], 2.0)
    scale[0] = 1.0
    if n % 2 == 0:
        scale[-1] = 1.0
    shape = [1] * spec.ndim
    shape[axis] = -1
    return np.fft.rfftfreq(n, 1.0 / fs), spec * scale.reshape(shape)


def _power_weights(f, power) -> tuple[np.ndarray, np.ndarray]:
    f = as_real_array(f, "f", ndim=1)
    power = as_real_array(power, "power")
    if power.shape[-1] != f.shape[0]:
        raise NetspectraError(
            f"power's last axis must match f; found {power.shape[-1]} bins for {f.shape[0]} "
            "frequencies"
        )
    if np.any(power < 0):
        raise NetspectraError("power must be non-negative")
    return f, power


def power_centroid(f, power) -> np.ndarray:
    """Power-weighted mean frequency ``Σ f P / Σ P`` over the last axis, in the units of ``f``.

    Returns NaN where the total power is zero.
    """
    f, power = _power_weights(f, power)
    total = power.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (power * f).sum(axis=-1) / total


def bandwidth(f, power, fraction: float = 0.95) -> np.ndarray:
    """Smallest frequency below which ``fraction`` of the power lies (last axis), units of ``f``.

    With ``fraction=0.95`` this is the 95 %-power bandwidth. Returns NaN where the total power
    is zero.
    """
    f, power = _power_weights(f, power)
    if not 0 < fraction <= 1:
        raise NetspectraError(f"fraction must be in (0, 1]; found {fraction}")
    cum = np.cumsum(power, axis=-1)
    total = cum[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        reached = cum >= fraction * total * (1 - 1e-12)
    idx = np.argmax(reached, axis=-1)
    out = f[idx].astype(np.float64)
    return np.where(total[..., 0] > 0, out, np.nan)


def dc_share(power) -> np.ndarray:
    """Fraction of the total power in the 0 Hz bin (first bin of the last axis)."""
    power = as_real_array(power, "power")
    total = power.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return power[..., 0] / total
