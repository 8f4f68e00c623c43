"""The papers' networks as documented nn.Modules, their activations and initialisations, and
the loader of one's own model. Their building blocks (``CausalConv1d``, ``ToyUnit``, the
residual blocks) and the weights reader stay in the submodules."""

from ._layers import glorot_uniform_
from .activations import make_activation
from .dc_networks import DifferentiationNet, MinimalDCNet, MovingAverageNet, TwoConvClassifier
from .heart_rate import HeartRateCNN
from .init import delta_orthogonal_
from .keras_h5 import load_keras_heart_rate
from .resnet import CifarResNet
from .toy_cnn import ToyCNN
from .user import load_model

__all__ = [
    "CifarResNet",
    "DifferentiationNet",
    "HeartRateCNN",
    "MinimalDCNet",
    "MovingAverageNet",
    "ToyCNN",
    "TwoConvClassifier",
    "delta_orthogonal_",
    "glorot_uniform_",
    "load_keras_heart_rate",
    "load_model",
    "make_activation",
]
