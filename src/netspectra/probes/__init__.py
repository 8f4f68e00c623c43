"""PyTorch measurement layer: works on any nn.Module.

The names below are what a user calls. The sets of accepted option values (batch-norm modes,
direction norms, walk strategies) are listed in the docstrings of the functions that take them
and live in the probes' submodules with the other internals.
"""

from .activation_spectra import ActivationSpectra, LayerSpectrum, activation_spectra
from .branch_correlation import BranchCorrelation, branch_correlation
from .capture import ACTIVATION_TYPES, Capture, capture_outputs
from .directions import gradient_direction, random_direction
from .walks import Walk, WalkPaths, walk, walk_paths

__all__ = [
    "ACTIVATION_TYPES",
    "ActivationSpectra",
    "BranchCorrelation",
    "Capture",
    "LayerSpectrum",
    "Walk",
    "WalkPaths",
    "activation_spectra",
    "branch_correlation",
    "capture_outputs",
    "gradient_direction",
    "random_direction",
    "walk",
    "walk_paths",
]
