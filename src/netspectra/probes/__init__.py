"""PyTorch measurement layer: works on any nn.Module."""

from ._state import BATCHNORM_MODES
from .activation_spectra import ActivationSpectra, LayerSpectrum, activation_spectra
from .branch_correlation import BranchCorrelation, branch_correlation
from .capture import ACTIVATION_TYPES, Capture, capture_outputs, functional_activation_users
from .directions import DIRECTION_NORMS, gradient_direction, random_direction
from .walks import STRATEGIES, Walk, WalkPaths, walk, walk_paths

__all__ = [
    "ACTIVATION_TYPES",
    "BATCHNORM_MODES",
    "DIRECTION_NORMS",
    "STRATEGIES",
    "ActivationSpectra",
    "BranchCorrelation",
    "Capture",
    "LayerSpectrum",
    "Walk",
    "WalkPaths",
    "activation_spectra",
    "branch_correlation",
    "capture_outputs",
    "functional_activation_users",
    "gradient_direction",
    "random_direction",
    "walk",
    "walk_paths",
]
