"""Analytical layer, NumPy/SciPy only: ReLU series, DC, harmonic distortion, Chebyshev fits,
spectral statistics, path spectra and roughness, per-band correlation of paired paths.

The names below are what a user calls. Helpers the library itself uses (the series' scale,
convergence order, the batched and reference forms of some functions, band gains, default
constants) stay in their submodules: :mod:`netspectra.theory.series`, ``.convergence``,
``.dc``, ``.harmonic_distortion``, ``.roughness``, ``.band_correlation``, ``.activations``.
"""

from .activations import activation
from .band_correlation import band_centres, band_correlation
from .chebyshev import ChebyshevFit, chebyshev_fit
from .components import AliasingWarning, ToneComponents, predicted_components, tone_signal
from .convergence import SeriesConvergence, rrmse_percent, series_convergence
from .dc import filtered_tone_dc, frequency_response, multitone_dc_mean, rectified_tone_dc
from .harmonic_distortion import BlueshiftResult, blueshift, polynomial_spectrum
from .roughness import RoughnessFit, RoughnessWarning, fractal_coefficient, path_power_spectrum
from .series import relu_series, relu_series_coefficients
from .spectral_stats import amplitude_spectrum, bandwidth, dc_share, power_centroid

__all__ = [
    "AliasingWarning",
    "BlueshiftResult",
    "ChebyshevFit",
    "RoughnessFit",
    "RoughnessWarning",
    "SeriesConvergence",
    "ToneComponents",
    "activation",
    "amplitude_spectrum",
    "band_centres",
    "band_correlation",
    "bandwidth",
    "blueshift",
    "chebyshev_fit",
    "dc_share",
    "filtered_tone_dc",
    "fractal_coefficient",
    "frequency_response",
    "multitone_dc_mean",
    "path_power_spectrum",
    "polynomial_spectrum",
    "power_centroid",
    "predicted_components",
    "rectified_tone_dc",
    "relu_series",
    "relu_series_coefficients",
    "rrmse_percent",
    "series_convergence",
    "tone_signal",
]
