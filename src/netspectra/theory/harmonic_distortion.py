"""Harmonic distortion of a polynomial nonlinearity (Ringing ReLUs, eqs. 4–6).

A periodic signal ``p(t) = Σ_{k=-K..K} z_k e^{2πikt}`` is stored as its *centred* coefficient
vector ``z = (z_{-K}, …, z_0, …, z_K)`` (odd length, ``z_0`` in the middle). For
``φ(x) = Σ_j a_j x^j`` the spectrum of ``φ(p)`` is ``Σ_j a_j z^{⊛j}`` (eq. 6): the j-fold
auto-convolution spreads the support to ``|k| <= jK`` ("blueshift").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from .._plotting import figure_axes
from .._validation import (
    LOOP_STEP_OPERATIONS,
    as_real_array,
    at_least,
    rng_seed,
    within_bytes,
    within_operations,
)
from ..errors import NetspectraError
from ..results import Result
from .spectral_stats import bandwidth

__all__ = [
    "BlueshiftResult",
    "blueshift",
    "polynomial_spectrum",
    "polynomial_spectrum_in_time",
]


def _centred(z) -> np.ndarray:
    try:
        raw = np.asarray(z)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise NetspectraError(f"z must be a numeric array; found {type(z).__name__}") from exc
    if raw.dtype.kind not in "biufc":
        raise NetspectraError(f"z must be a numeric array; found dtype {raw.dtype}")
    z = raw.astype(np.complex128)
    if z.ndim != 1 or z.size % 2 == 0:
        raise NetspectraError(f"z must be 1-D of odd length (k = -K..K); found shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise NetspectraError("z must be finite")
    return z


def _inputs(z, coefficients) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked ``z`` and ``a`` and the half-width ``J K`` of the result, refused up front when
    the result or the J convolutions are too large."""
    z = _centred(z)
    a = as_real_array(coefficients, "coefficients", ndim=1)
    half = (a.size - 1) * (z.size // 2)
    within_bytes(64 * (2 * half + 1), "coefficients", "the spectrum of φ(p)")
    within_operations(a.size * (2 * half + 1 + LOOP_STEP_OPERATIONS), "coefficients",
                      "the repeated convolutions")
    return z, a, half


def _finite(spectrum: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(spectrum)):
        raise NetspectraError(
            "coefficients: the spectrum of φ(p) overflows float64 (the powers of p times the "
            "coefficients exceed 1.8e308)"
        )
    return spectrum


def _pad(z: np.ndarray, half: int) -> np.ndarray:
    extra = half - z.size // 2
    return np.pad(z, (extra, extra))


def polynomial_spectrum(z, coefficients) -> np.ndarray:
    """Spectrum of ``φ(p)`` from that of ``p`` by repeated auto-convolution (RR eq. 6).

    Parameters
    ----------
    z : array_like of complex, shape (2K + 1,)
        Centred Fourier coefficients ``z_{-K..K}`` of ``p``.
    coefficients : array_like, shape (J + 1,)
        Monomial coefficients ``a_0 … a_J`` of ``φ``.

    Returns
    -------
    ndarray of complex, shape (2JK + 1,)
        Centred coefficients ``Σ_j a_j z^{⊛j}`` of ``φ(p)``, for ``k = -JK..JK``. Each
        convolution is FFT-based on the full linear support (``fftconvolve``), so nothing wraps.
    """
    z, a, half = _inputs(z, coefficients)
    out = np.zeros(2 * half + 1, dtype=np.complex128)
    out[half] = a[0]
    power = np.ones(1, dtype=np.complex128)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused by _finite
        for aj in a[1:]:
            power = fftconvolve(power, z)
            out += aj * _pad(power, half)
    return _finite(out)


def polynomial_spectrum_in_time(z, coefficients) -> np.ndarray:
    """The same spectrum as :func:`polynomial_spectrum`, computed in time: ``p`` is sampled at
    ``2JK + 1`` points of its period (enough that ``φ(p)`` does not alias), ``φ`` applied
    pointwise, and the DFT taken. The oracle for :func:`polynomial_spectrum`."""
    z, a, half = _inputs(z, coefficients)
    if half == 0:
        return np.array([a[0]], dtype=np.complex128)
    n = 2 * half + 1
    p = np.fft.ifft(np.fft.ifftshift(_pad(z, half))) * n
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused by _finite
        y = np.polynomial.polynomial.polyval(p, a)
        return _finite(np.fft.fftshift(np.fft.fft(y)) / n)


@dataclass(frozen=True)
class BlueshiftResult(Result):
    """One-sided power spectra of a band pushed repeatedly through a polynomial.

    ``power[s, k]`` is ``|z_k|²`` (k = 0..K_max) after ``s`` steps (row 0: the input); each
    row sums to ½ over k >= 1 (unit variance, the other half at negative k);
    ``bandwidth`` is the 95 %-power bandwidth in harmonics (DC excluded) per step.
    """

    name: str
    power: np.ndarray
    bandwidth: np.ndarray

    def plot(self, ax=None):
        """Power spectra per step on log axes (RR Fig. 3 style: darker = more steps)."""
        import matplotlib.pyplot as plt

        fig, ax = figure_axes(ax, (5, 3.5))
        k = np.arange(1, self.power.shape[1])
        colours = plt.cm.viridis(np.linspace(0, 0.9, self.power.shape[0]))
        for s, (row, col) in enumerate(zip(self.power, colours, strict=True)):
            ax.loglog(k, np.maximum(row[1:], 1e-30), color=col, label=f"step {s}")
        ax.set(xlabel="harmonic k", ylabel="power |z_k|²", title=self.name, ylim=(1e-12, 1))
        ax.legend(fontsize=7, ncol=2)
        return fig


def blueshift(
    name: str, coefficients, band: int = 8, steps: int = 6, k_max: int = 128, seed: int = 0
) -> BlueshiftResult:
    """Push a unit-variance band of ``band`` harmonics through ``φ`` ``steps`` times.

    The input has equal power on harmonics 1..``band`` with seeded random phases. Each step
    applies ``φ`` exactly in the spectral domain (:func:`polynomial_spectrum`), keeps
    harmonics ``|k| <= k_max`` (the band a path sampled with ``2 k_max + 1`` points resolves),
    removes the DC and rescales to unit variance (``Σ_{k≠0} |z_k|² = 1``), so that the next
    step sees the same amplitude range, as batch normalisation would.
    """
    if not isinstance(name, str):
        raise NetspectraError(f"name must be a string; found {type(name).__name__}")
    band = at_least(band, 1, "band")
    steps = at_least(steps, 0, "steps")
    k_max = at_least(k_max, band, "k_max")
    coefficients = as_real_array(coefficients, "coefficients", ndim=1)
    half = (coefficients.size - 1) * k_max
    within_bytes(16 * (steps + 1) * (k_max + 1), "steps and k_max", "the spectra of every step")
    within_bytes(64 * (2 * half + 1), "k_max", "the spectrum of one step")
    within_operations(steps * coefficients.size * (2 * half + 1 + LOOP_STEP_OPERATIONS),
                      "steps", "the steps")
    rng = np.random.default_rng(rng_seed(seed, "seed"))
    z = np.zeros(2 * k_max + 1, dtype=np.complex128)
    pos = np.exp(2j * np.pi * rng.random(band)) / np.sqrt(2 * band)
    z[k_max + 1 : k_max + 1 + band] = pos
    z[k_max - band : k_max][::-1] = pos.conj()
    rows = [np.abs(z[k_max:]) ** 2]
    for _ in range(steps):
        full = polynomial_spectrum(z, coefficients)
        mid = full.size // 2
        z = full[mid - k_max : mid + k_max + 1].copy()
        z[k_max] = 0.0
        ac = np.sqrt(np.sum(np.abs(z) ** 2))
        if not (np.isfinite(ac) and ac > 0):
            raise NetspectraError(
                f"coefficients: step {len(rows)} leaves "
                f"{'no' if ac == 0 else 'a non-finite'} AC power in harmonics 1..{k_max}; "
                "the band cannot be renormalised"
            )
        z /= ac
        rows.append(np.abs(z[k_max:]) ** 2)
    power = np.array(rows)
    k = np.arange(k_max + 1, dtype=np.float64)
    bw = bandwidth(k[1:], power[:, 1:], 0.95)
    return BlueshiftResult(name, power, bw)
