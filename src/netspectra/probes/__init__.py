"""PyTorch measurement layer: works on any nn.Module."""

from .activation_spectra import ActivationSpectra, LayerSpectrum, activation_spectra
from .capture import ACTIVATION_TYPES, Capture, capture_outputs, functional_activation_users

__all__ = [
    "ACTIVATION_TYPES",
    "ActivationSpectra",
    "Capture",
    "LayerSpectrum",
    "activation_spectra",
    "capture_outputs",
    "functional_activation_users",
]
