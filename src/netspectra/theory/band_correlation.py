"""Linear correlation of paired paths per frequency band (Ringing ReLUs §3.5 FDSA, §4.4, Fig. 6).

Frequency-dependent signal averaging: the two summands of a residual addition share their
low frequencies, while the harmonics a nonlinearity adds depend on the branch's own weights,
so the summands' linear correlation should fall with frequency (RR §3.5, App. B.5). RR Fig. 6
measures it by band-passing each path with Gaussian filters in the Fourier domain and
correlating the filtered pairs; the paper gives neither the number of bands nor their widths.

Choices made here. A path of ``n`` samples has the frequencies ``k = 0 … n // 2`` cycles per
path (its ``rfft`` bins). ``n_bands`` bands of equal width ``Δ = (n // 2) / n_bands`` tile
``[0.5, n // 2 + 0.5]``, the bins ``1 … n // 2`` without DC: band ``b`` (from 0, low to high) is
centred on ``c_b = 0.5 + (b + 0.5) Δ`` with the Gaussian gain ``g_b(k) = exp(-(k - c_b)² /
(2 σ²))``, ``σ = Δ / 2``, and gain 0 at DC (so neighbouring bands cross at ``e^(-1/2)``; 200
points in 10 bands: centres 5.5, 15.5, … 95.5, σ = 5). The correlation of a band is Pearson's
correlation of the two filtered paths ``irfft(g_b · rfft(p))``, computed exactly from the
spectra by Parseval. Paths are detrended by default (the line through the first and last
sample subtracted, as :func:`~netspectra.theory.path_power_spectrum` does on request): the DFT
treats a path as periodic, and the jump at the wrap-around spreads a ``1/k`` tail of the
paths' trends, which the summands share, over every band.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, at_least, within_bytes
from .._validation import axis as check_axis
from ..errors import NetspectraError
from .roughness import CONSTANT_PATH_ULPS, MIN_SAMPLES, _rounding_eps

__all__ = ["DEFAULT_BANDS", "band_centres", "band_correlation", "band_gains"]

#: Bands per path spectrum by default (RR Fig. 6 shows about ten bars).
DEFAULT_BANDS = 10


def band_centres(n_points: int, n_bands: int = DEFAULT_BANDS) -> tuple[np.ndarray, float]:
    """Centres and width of the Gaussian bands of paths of ``n_points`` samples.

    Returns
    -------
    centres : ndarray, shape (n_bands,)
        ``0.5 + (b + 0.5) Δ`` cycles per path, ``Δ = (n_points // 2) / n_bands``, low to high.
    sigma : float
        Standard deviation of every band's Gaussian gain, ``Δ / 2`` cycles per path.
    """
    n_points = at_least(n_points, MIN_SAMPLES, "n_points")
    n_k = n_points // 2
    n_bands = at_least(n_bands, 1, "n_bands")
    if n_bands > n_k:
        raise NetspectraError(
            f"n_bands must be at most {n_k} (one per frequency bin of {n_points}-point paths); "
            f"found {n_bands}"
        )
    width = n_k / n_bands
    return 0.5 + (np.arange(n_bands) + 0.5) * width, width / 2


def band_gains(n_points: int, n_bands: int = DEFAULT_BANDS) -> np.ndarray:
    """Gaussian gains ``g_b(k)`` of the bands (see the module notes), shape
    ``(n_bands, n_points // 2 + 1)`` over the ``rfft`` bins ``k = 0 … n_points // 2``; zero at
    DC."""
    centres, sigma = band_centres(n_points, n_bands)
    within_bytes(8 * len(centres) * (n_points // 2 + 1), "n_points", "the band gains")
    k = np.arange(n_points // 2 + 1)
    gains = np.exp(-0.5 * ((k - centres[:, None]) / sigma) ** 2)
    gains[:, 0] = 0.0
    return gains


def _spectra(paths: np.ndarray, n: int, detrend: bool) -> np.ndarray:
    if detrend:
        t = np.arange(n) / (n - 1)
        paths = paths - (paths[:, :1] + (paths[:, -1:] - paths[:, :1]) * t)
    return np.fft.rfft(paths, axis=1)


def band_correlation(a, b, *, n_bands: int = DEFAULT_BANDS, axis: int = -1,
                     detrend: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of paired paths per Gaussian frequency band (RR §4.4, Fig. 6).

    Parameters
    ----------
    a, b : array_like
        Paired real paths of one shape, samples along ``axis`` (at least 8; ``t_j = j / (n -
        1)``); every other dimension indexes the pairs (the same output position of the two
        summands). Computed in float64.
    n_bands : int
        Bands from low to high frequency tiling the path spectrum (:func:`band_centres`),
        at most ``n // 2``.
    axis : int
        The sample axis.
    detrend : bool
        Subtract the line through each path's first and last sample first (default; see the
        module notes). ``False`` correlates the raw paths.

    Returns
    -------
    correlation : ndarray, shape (*leading, n_bands)
        ``Σ_k w_k g_b(k)² Re(A_k B_k*) / sqrt(Σ w_k g_b(k)² |A_k|² · Σ w_k g_b(k)² |B_k|²)``
        with ``A, B`` the ``rfft`` of the (detrended) paths and ``w_k = 2`` (1 at the Nyquist
        bin of an even ``n``): the correlation of the band-passed paths over their samples,
        in [-1, 1]. 0 where ``valid`` is False.
    valid : ndarray of bool, shape (*leading, n_bands)
        False where either path holds no power in the band beyond rounding (a constant
        path, e.g. a dead unit; with ``detrend`` also a path linear in ``t``): its
        correlation is undefined. Rounding means 64 units in the last place of the path's
        magnitude at the input's precision, per sample.
    """
    x = as_real_array(a, "a")
    y = as_real_array(b, "b")
    if x.shape != y.shape:
        raise NetspectraError(f"a and b must have one shape (paired paths); found {x.shape} "
                              f"and {y.shape}")
    ax = check_axis(axis, x.shape)
    n = x.shape[ax]
    if n < MIN_SAMPLES:
        raise NetspectraError(
            f"a and b must hold at least {MIN_SAMPLES} samples along axis {axis}; found {n}"
        )
    gains = band_gains(n, n_bands)
    weight = np.full(n // 2 + 1, 2.0)
    if n % 2 == 0:
        weight[-1] = 1.0
    kernel = (weight * gains**2).T  # (n // 2 + 1, n_bands)
    leading = np.moveaxis(x, ax, -1).shape[:-1]
    rows = [np.moveaxis(p, ax, -1).reshape(-1, n) for p in (x, y)]
    za, zb = (_spectra(p, n, detrend) for p in rows)
    cross = (za.real * zb.real + za.imag * zb.imag) @ kernel
    power_a = (za.real**2 + za.imag**2) @ kernel
    power_b = (zb.real**2 + zb.imag**2) @ kernel
    valid = (power_a > _floor(rows[0], a, n)) & (power_b > _floor(rows[1], b, n))
    denominator = np.sqrt(np.where(valid, power_a * power_b, 1.0))
    correlation = np.where(valid, np.clip(cross / denominator, -1.0, 1.0), 0.0)
    return correlation.reshape(*leading, -1), valid.reshape(*leading, -1)


def _floor(rows: np.ndarray, original, n: int) -> np.ndarray:
    """Band power of rounding noise per path: ``n`` bins' worth of ``(64 ulp · |p|max)²``,
    weighted as the band powers are (at most 2 per bin, gains at most 1)."""
    scale = CONSTANT_PATH_ULPS * _rounding_eps(original) * np.abs(rows).max(axis=1)
    return (2 * n * scale**2)[:, None]
