"""The papers' networks as documented nn.Modules."""

from ._layers import CausalConv1d, glorot_uniform_
from .dc_networks import DifferentiationNet, MinimalDCNet, MovingAverageNet, TwoConvClassifier
from .heart_rate import HeartRateCNN

__all__ = [
    "CausalConv1d",
    "DifferentiationNet",
    "HeartRateCNN",
    "MinimalDCNet",
    "MovingAverageNet",
    "TwoConvClassifier",
    "glorot_uniform_",
]
