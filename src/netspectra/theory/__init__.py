"""Analytical layer, NumPy/SciPy only: ReLU series, DC, harmonic distortion, Chebyshev fits."""

from .activations import ACTIVATION_NAMES, activation
from .band_correlation import DEFAULT_BANDS, band_centres, band_correlation, band_gains
from .chebyshev import ChebyshevFit, chebyshev_fit
from .components import AliasingWarning, ToneComponents, predicted_components, tone_signal
from .convergence import (
    SeriesConvergence,
    convergence_order,
    max_abs_error,
    rrmse_percent,
    series_convergence,
)
from .dc import (
    filtered_tone_dc,
    frequency_response,
    multitone_dc_mean,
    multitone_dc_series,
    rectified_tone_dc,
)
from .harmonic_distortion import (
    BlueshiftResult,
    blueshift,
    polynomial_spectrum,
    polynomial_spectrum_in_time,
)
from .roughness import (
    RoughnessFit,
    RoughnessWarning,
    fractal_coefficient,
    fractal_coefficients,
    mean_path_spectrum,
    path_power_spectrum,
)
from .series import relu_series, relu_series_coefficients, series_scale
from .spectral_stats import amplitude_spectrum, bandwidth, dc_share, power_centroid

__all__ = [
    "ACTIVATION_NAMES",
    "DEFAULT_BANDS",
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
    "band_gains",
    "bandwidth",
    "blueshift",
    "chebyshev_fit",
    "convergence_order",
    "dc_share",
    "filtered_tone_dc",
    "fractal_coefficient",
    "fractal_coefficients",
    "frequency_response",
    "max_abs_error",
    "mean_path_spectrum",
    "multitone_dc_mean",
    "multitone_dc_series",
    "path_power_spectrum",
    "polynomial_spectrum",
    "polynomial_spectrum_in_time",
    "power_centroid",
    "predicted_components",
    "rectified_tone_dc",
    "relu_series",
    "relu_series_coefficients",
    "rrmse_percent",
    "series_convergence",
    "series_scale",
    "tone_signal",
]
