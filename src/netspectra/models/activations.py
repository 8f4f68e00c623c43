"""Activation modules by name, the same names as :mod:`netspectra.theory.activations`
(Ringing ReLUs, App. F.1), so a network and its Chebyshev analysis use one vocabulary."""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from .._validation import choice
from ..errors import NetspectraError

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

#: Names accepted by :func:`make_activation` (``hardtanh`` is an alias of ``htanh``).
ACTIVATION_MODULE_NAMES: tuple[str, ...] = (*_FIXED, "lrelu")


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
    try:
        s = _DEFAULT_SLOPE if slope is None else float(slope)
    except (TypeError, ValueError):
        s = math.nan
    if not math.isfinite(s):
        raise NetspectraError(f"slope must be finite; found {slope}")
    return nn.LeakyReLU(s)
