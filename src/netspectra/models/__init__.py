"""The papers' networks as documented nn.Modules."""

from ._layers import CausalConv1d, glorot_uniform_
from .activations import make_activation
from .dc_networks import DifferentiationNet, MinimalDCNet, MovingAverageNet, TwoConvClassifier
from .heart_rate import HeartRateCNN
from .init import delta_orthogonal_
from .keras_h5 import load_keras_heart_rate
from .resnet import CifarResNet
from .toy_cnn import ToyCNN, ToyUnit
from .user import load_model, load_state_dict

__all__ = [
    "CausalConv1d",
    "CifarResNet",
    "DifferentiationNet",
    "HeartRateCNN",
    "MinimalDCNet",
    "MovingAverageNet",
    "ToyCNN",
    "ToyUnit",
    "TwoConvClassifier",
    "delta_orthogonal_",
    "glorot_uniform_",
    "load_keras_heart_rate",
    "load_model",
    "load_state_dict",
    "make_activation",
]
