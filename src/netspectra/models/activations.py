"""Activation modules by name, the same names as :mod:`netspectra.theory.activations`
(Ringing ReLUs, App. F.1), so a network and its Chebyshev analysis use one vocabulary: each
module computes what the NumPy function of the same name does (tested)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .._validation import choice, finite
from ..errors import NetspectraError
from ..theory.activations import ACTIVATION_NAMES

__all__ = ["ACTIVATION_MODULE_NAMES", "make_activation"]

_DEFAULT_SLOPE = 0.01

_FIXED: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "htanh": nn.Hardtanh,
    "hardtanh": nn.Hardtanh,
    "selu": nn.SELU,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
}

#: Names accepted by :func:`make_activation`: :data:`netspectra.theory.activations.ACTIVATION_NAMES`
#: (``hardtanh`` is an alias of ``htanh``).
ACTIVATION_MODULE_NAMES: tuple[str, ...] = ACTIVATION_NAMES


def make_activation(name: str, *, slope: float | None = None) -> nn.Module:
    """A fresh activation module for ``name``.

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATION_MODULE_NAMES`: ``relu``, ``tanh``, ``softplus``, ``elu``,
        ``gelu`` (exact, erf form), ``htanh``/``hardtanh`` (clip to [-1, 1]), ``lrelu``,
        ``selu``, ``sigmoid`` or ``linear`` (``nn.Identity``).
    slope : float, optional
        Negative slope of ``lrelu`` (default 0.01, PyTorch's); 0 is ReLU and 1 is linear, the
        knob of RR Section 4.5. Only valid with ``lrelu``.

    Returns
    -------
    nn.Module
        A new module each call, so no two layers share one.
    """
    choice(name, ACTIVATION_MODULE_NAMES, "activation")
    if name != "lrelu":
        if slope is not None:
            raise NetspectraError(
                f"slope applies to 'lrelu' only; found slope={slope} for {name!r}"
            )
        return _FIXED[name]()
    return nn.LeakyReLU(_DEFAULT_SLOPE if slope is None else finite(slope, "slope"))
