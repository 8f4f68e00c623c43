"""Seeded signal generators and loaders for the experiments (NumPy only)."""

from .signals import (
    SinusoidClasses,
    SyntheticPPG,
    class_dc_offsets,
    load_signal_windows,
    sinusoid_classes,
    synthetic_ppg,
)

__all__ = [
    "SinusoidClasses",
    "SyntheticPPG",
    "class_dc_offsets",
    "load_signal_windows",
    "sinusoid_classes",
    "synthetic_ppg",
]
