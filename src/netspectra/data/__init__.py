"""Seeded signal generators and loaders for the experiments (NumPy only)."""

from .images import (
    ImageSet,
    holdout_split,
    load_cifar10,
    load_cifar100,
    load_digits32,
    minibatch,
)
from .signals import (
    SinusoidClasses,
    SyntheticPPG,
    load_signal_batch,
    load_signal_windows,
    sinusoid_classes,
    synthetic_ppg,
)

__all__ = [
    "ImageSet",
    "SinusoidClasses",
    "SyntheticPPG",
    "holdout_split",
    "load_cifar10",
    "load_cifar100",
    "load_digits32",
    "load_signal_batch",
    "load_signal_windows",
    "minibatch",
    "sinusoid_classes",
    "synthetic_ppg",
]
