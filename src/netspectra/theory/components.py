"""Output components of the N-term ReLU model for a sum of tones (DC paper, Section III, eq. 7–9).

For ``x(t) = Σ_i a_i cos(2π f_i t + φ_i)`` the model ``x/2 + (sqrt(A)/2) Σ_{n<N} C(1/2, n) m^n``
with ``m = x²/A - 1`` is a finite sum of tones: the input tones (from ``x/2``), a DC term, and
the harmonics and intermodulation products ``Σ k_i f_i`` with ``Σ|k_i|`` even and up to
``2(N-1)``. Each power ``m^n`` is expanded exactly as a sparse two-sided spectrum (complex
amplitudes keyed by frequency, so coinciding products of harmonically related tones merge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._plotting import figure_axes
from .._validation import (
    LOOP_STEP_OPERATIONS,
    as_real_array,
    at_least,
    in_range,
    positive,
    within_bytes,
    within_operations,
)
from .._warnings import warn_caller
from ..errors import NetspectraError
from ..results import Result
from .series import _unit_form, relu_series_coefficients
from .spectral_stats import amplitude_spectrum

__all__ = ["AliasingWarning", "ToneComponents", "predicted_components", "tone_signal"]

# Frequencies closer than this (Hz, relative to the largest) are one component.
_MERGE = 1e-9


def tone_signal(amplitudes, frequencies, phases=None, *, t) -> np.ndarray:
    """``Σ_i a_i cos(2π f_i t + φ_i)`` at times ``t`` (s); frequencies in Hz, phases in rad."""
    a, f, p = _tones(amplitudes, frequencies, phases)
    t = as_real_array(t, "t")
    within_bytes(16 * t.size * f.size, "t", "the tones at every time")
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below
        phase = 2 * np.pi * np.multiply.outer(t, f) + p
    if not np.all(np.isfinite(phase)):
        raise NetspectraError("t × frequencies too large: the phases overflow float64")
    return np.cos(phase) @ a


def _tones(amplitudes, frequencies, phases):
    a = as_real_array(amplitudes, "amplitudes", ndim=1)
    f = as_real_array(frequencies, "frequencies", ndim=1)
    p = np.zeros_like(a) if phases is None else as_real_array(phases, "phases", ndim=1)
    if not a.shape == f.shape == p.shape:
        raise NetspectraError(
            f"amplitudes, frequencies and phases must have equal lengths; found "
            f"{a.size}, {f.size}, {p.size}"
        )
    if np.any(f < 0):
        raise NetspectraError(f"frequencies must be >= 0 Hz; found {f.min()}")
    with np.errstate(over="ignore"):
        total = np.abs(a).sum()
    if not np.isfinite(total):
        raise NetspectraError("amplitudes: their sum Σ|a_i| overflows float64")
    return a, f, p


@dataclass(frozen=True)
class ToneComponents(Result):
    """Predicted one-sided components of a model output, sorted by frequency.

    Attributes
    ----------
    frequency : ndarray
        Component frequencies in Hz (>= 0).
    amplitude : ndarray
        Cosine amplitudes (DC: the mean), in the units of the input.
    phase : ndarray
        Phases in rad (cosine convention).
    degree : ndarray of int
        Lowest power of ``x`` that produces the component: 0 for DC, 1 for the input tones,
        2 for ``2f_i`` and ``f_i ± f_j``, 4 for ``4f_i``, ``2f_i ± 2f_j``, ``f_i ± f_j ± f_k ±
        f_l``, … (intermodulation order).
    series_order : ndarray of int
        Lowest series index ``n`` whose term ``C(1/2, n) m^n`` contains it (``degree / 2``;
        0 for DC and for the input tones, which come from ``x/2``).
    """

    frequency: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray
    degree: np.ndarray
    series_order: np.ndarray

    @property
    def dc(self) -> float:
        """The 0 Hz component (the mean of the model output)."""
        at0 = self.frequency == 0
        return float((self.amplitude * np.cos(self.phase))[at0].sum())

    def measured(self, signal, fs: float) -> np.ndarray:
        """Amplitudes of ``signal`` (1-D, at least 2 samples at ``fs`` Hz) at the nearest FFT
        bins of the components, for comparison with :attr:`amplitude`."""
        signal = as_real_array(signal, "signal", ndim=1)
        if signal.size < 2:
            raise NetspectraError(f"signal must hold at least 2 samples; found {signal.size}")
        f, amp = amplitude_spectrum(signal, fs)
        idx = np.clip(np.rint(self.frequency / (f[1] - f[0])).astype(int), 0, f.size - 1)
        return amp[idx]

    def plot(self, ax=None, *, measured_f=None, measured_amplitude=None):
        """Predicted amplitudes (log scale), optionally over a measured spectrum."""
        fig, ax = figure_axes(ax, (6, 3.5))
        if measured_f is not None:
            ax.semilogy(measured_f, measured_amplitude, color="0.7", lw=1, label="FFT of ReLU(x)")
        keep = self.amplitude > 0
        ax.semilogy(self.frequency[keep], self.amplitude[keep], "o", ms=3, label="N-term model")
        ax.set(xlabel="frequency (Hz)", ylabel="amplitude", title="ReLU output components")
        ax.legend()
        return fig


def _merge(freq: np.ndarray, coef: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Sum the coefficients of frequencies within ``_MERGE * scale`` of each other.

    Clusters of the sorted frequencies, not a rounding grid: the sums of exact input
    frequencies stay exact, where a grid would split one component across two cells."""
    order = np.argsort(freq, kind="stable")
    freq, coef = freq[order], coef[order]
    start = np.concatenate(([True], np.diff(freq) > _MERGE * scale))
    group = np.cumsum(start) - 1
    out = np.zeros(int(group[-1]) + 1, dtype=np.complex128)
    np.add.at(out, group, coef)
    return freq[start], out


def _times(fa, ca, fb, cb, scale):
    return _merge(np.add.outer(fa, fb).ravel(), np.multiply.outer(ca, cb).ravel(), scale)


def predicted_components(
    amplitudes,
    frequencies,
    phases=None,
    *,
    n_terms: int = 50,
    scale: float | None = None,
    fs: float | None = None,
    max_components: int = 200_000,
    alias_tolerance: float = 1e-6,
) -> ToneComponents:
    """Components of the ``n_terms``-term ReLU model of a sum of tones (DC paper, eqs. 7–9).

    Parameters
    ----------
    amplitudes, frequencies, phases : array_like, 1-D
        Tones ``a_i cos(2π f_i t + φ_i)``; frequencies in Hz (>= 0), phases in rad (default 0).
    n_terms : int
        Series terms ``N >= 1``.
    scale : float, optional
        Series scale ``A``; default ``½ (Σ|a_i|)²`` (the reference code's), which bounds
        ``max x²/2`` for any phases. A given ``A`` must satisfy ``(Σ|a_i|)² <= 2A``.
    fs : float, optional
        Sampling rate in Hz. When given, warns if more than ``alias_tolerance`` of the predicted
        output power (DC excluded) lies above the Nyquist frequency ``fs/2`` and would alias.
    max_components : int
        Refuse (NetspectraError) when an intermediate spectrum would exceed this many
        frequencies (many incommensurate tones with large N grow combinatorially).

    Returns
    -------
    ToneComponents
    """
    a, f, p = _tones(amplitudes, frequencies, phases)
    n_terms = at_least(n_terms, 1, "n_terms")
    max_components = at_least(max_components, 1, "max_components")
    alias_tolerance = in_range(alias_tolerance, "alias_tolerance", 0.0, 1.0)
    fs = None if fs is None else positive(fs, "fs")
    _check_expansion(f, n_terms, max_components)
    total = float(np.abs(a).sum())
    # The model is positively homogeneous: expand the tones divided by a power of two u
    # (with A / u²), so that no product of amplitudes overflows, and scale back at the end.
    u, unit_a, root_a = _unit_form(np.array([total]), scale)
    fmax = max(float(f.max()), 1.0)
    # Two-sided spectrum of x / u: (a/2u) e^{±iφ} at ±f.
    fx = np.concatenate((f, -f))
    half = a / (2 * u)  # real division: complex division can turn subnormals into NaN
    cx = np.concatenate((half * np.exp(1j * p), half * np.exp(-1j * p)))
    fm, cm = _times(fx, cx, fx, cx, fmax)
    cm = cm / unit_a if unit_a > 0 else cm * 0
    cm[np.flatnonzero(fm == 0)] -= 1.0  # m = x²/A - 1
    c = relu_series_coefficients(n_terms)
    fp, cp = np.zeros(1), np.ones(1, dtype=np.complex128)  # m^0
    fy, cy = fp, c[0] * cp
    deg_f, deg = _degrees(fx, n_terms, fmax, max_components)
    for n in range(1, n_terms):
        fp, cp = _times(fp, cp, fm, cm, fmax)
        if fp.size > max_components:
            raise NetspectraError(
                f"n_terms={n_terms} expands into more than max_components={max_components} "
                f"frequencies at order {n}; use fewer terms or tones"
            )
        fy, cy = _merge(np.concatenate((fy, fp)), np.concatenate((cy, c[n] * cp)), fmax)
    cy = cy * root_a / 2
    fy, cy = _merge(np.concatenate((fy, fx)), np.concatenate((cy, cx * u / 2)), fmax)
    one = fy >= 0
    freq, coef = fy[one], cy[one]
    amp = np.where(freq == 0, np.abs(coef), 2 * np.abs(coef))
    phase = np.angle(coef)
    d = np.full(freq.size, -1)
    d[np.isclose(freq[:, None], f, rtol=0, atol=_MERGE * fmax).any(axis=1)] = 1
    idx = np.searchsorted(deg_f, freq)
    idx = np.clip(idx, 0, deg_f.size - 1)
    even = np.isclose(deg_f[idx], freq, rtol=0, atol=_MERGE * fmax)
    d = np.where(even & ((d < 0) | (deg[idx] < d)), deg[idx], d)
    result = ToneComponents(freq, amp, phase, d, np.maximum(d, 0) // 2)
    if fs is not None:
        _warn_alias(result, fs, alias_tolerance)
    return result


def _check_expansion(f: np.ndarray, n_terms: int, max_components: int) -> None:
    """Refuse up front an expansion that must outgrow ``max_components`` (the frequencies of
    ``m^n`` include ``0, ±2f, …, ±2n f`` for any tone ``f > 0``), whose highest product
    frequency overflows, or whose products of the tones' spectra would not fit in memory."""
    if f.max() > 0 and 2 * (n_terms - 1) + 1 > max_components:
        raise NetspectraError(
            f"n_terms={n_terms} expands into more than max_components={max_components} "
            "frequencies; use fewer terms"
        )
    if not np.isfinite(2.0 * n_terms * float(f.max())):
        raise NetspectraError(
            f"frequencies too high: their {2 * n_terms}-fold sums overflow float64"
        )
    products = (2 * f.size) ** 2 + 1  # frequencies of m = x²/A - 1
    # m^n holds at most products^n frequencies, and the loop stops at max_components.
    reach = max_components
    if (n_terms - 1) * math.log(products) < math.log(max_components):
        reach = products ** (n_terms - 1)
    within_bytes(48 * reach * products, "max_components", "the products of the spectra")
    within_operations(n_terms * (reach * products + LOOP_STEP_OPERATIONS), "n_terms",
                      "the expansion")


def _degrees(fx, n_terms, fmax, max_components):
    """Frequencies of ``x^(2j)``, j < n_terms, each with the lowest even power producing it."""
    fq = np.zeros(1)
    seen_f, seen_d = [np.zeros(1)], [np.zeros(1, dtype=int)]
    f2 = _merge(np.add.outer(fx, fx).ravel(), np.zeros(fx.size**2), fmax)[0]
    for j in range(1, n_terms):
        fq = _merge(np.add.outer(fq, f2).ravel(), np.zeros(fq.size * f2.size), fmax)[0]
        if fq.size > max_components:
            break
        seen_f.append(fq)
        seen_d.append(np.full(fq.size, 2 * j))
    allf, alld = np.concatenate(seen_f), np.concatenate(seen_d)
    order = np.lexsort((alld, allf))
    allf, alld = allf[order], alld[order]
    first = np.concatenate(([True], np.diff(allf) > _MERGE * fmax / 2))
    return allf[first], alld[first]


class AliasingWarning(RuntimeWarning):
    """Predicted output power above the Nyquist frequency: sampled at ``fs``, those
    components alias onto lower frequencies."""


def _warn_alias(components: ToneComponents, fs: float, tolerance: float) -> None:
    power = np.where(components.frequency > 0, components.amplitude**2 / 2, 0.0)
    total = power.sum()
    above = power[components.frequency > fs / 2].sum()
    if total > 0 and above / total > tolerance:
        warn_caller(
            f"{100 * above / total:.3g} % of the predicted output power (DC excluded) lies above "
            f"the Nyquist frequency {fs / 2:g} Hz and would alias at fs = {fs:g} Hz "
            f"(highest component {components.frequency.max():g} Hz)",
            AliasingWarning,
        )
