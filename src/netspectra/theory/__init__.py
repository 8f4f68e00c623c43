"""Analytical layer, NumPy/SciPy only: ReLU series, DC, harmonic distortion, Chebyshev fits."""

from .spectral_stats import amplitude_spectrum, bandwidth, dc_share, power_centroid

__all__ = ["amplitude_spectrum", "bandwidth", "dc_share", "power_centroid"]
