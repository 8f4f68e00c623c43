"""Analytical layer, NumPy/SciPy only: ReLU series, DC, harmonic distortion, Chebyshev fits."""

from .dc import filtered_tone_dc, frequency_response, rectified_tone_dc
from .spectral_stats import amplitude_spectrum, bandwidth, dc_share, power_centroid

__all__ = [
    "amplitude_spectrum",
    "bandwidth",
    "dc_share",
    "filtered_tone_dc",
    "frequency_response",
    "power_centroid",
    "rectified_tone_dc",
]
