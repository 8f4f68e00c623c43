"""Activation functions as NumPy callables, looked up by name (Ringing ReLUs, App. F.1).

The names are those of :func:`netspectra.models.make_activation`, so a network and its
Chebyshev analysis share one vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import erf, expit

from .._validation import choice, finite
from ..errors import NetspectraError

__all__ = ["ACTIVATION_NAMES", "activation"]

# SELU constants (Klambauer et al. 2017), as in PyTorch.
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_DEFAULT_SLOPE = 0.01


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _htanh(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -1.0, 1.0)


_FIXED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(0.0, x),
    "elu": _elu,
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))),
    "htanh": _htanh,
    "hardtanh": _htanh,
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    "sigmoid": expit,
    "linear": lambda x: np.asarray(x, dtype=np.float64),
}

ACTIVATION_NAMES: tuple[str, ...] = (*_FIXED, "lrelu")


def activation(
    name: str | Callable[[np.ndarray], np.ndarray], *, slope: float | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """The activation ``name`` as a vectorised NumPy function (float64 in, float64 out).

    Parameters
    ----------
    name : str or callable
        One of :data:`ACTIVATION_NAMES` (``relu``, ``tanh``, ``softplus``, ``elu``, ``gelu``
        (exact, erf form), ``htanh``/``hardtanh`` (clip to [-1, 1]), ``selu``, ``sigmoid``,
        ``linear`` (the identity), ``lrelu``), or any callable mapping an array to an array of
        the same shape (returned unchanged).
    slope : float, optional
        Negative slope of ``lrelu`` (default 0.01, PyTorch's); only valid with ``lrelu``.
    """
    if callable(name):
        if slope is not None:
            raise NetspectraError(f"slope applies to 'lrelu' only; found slope={slope}")
        return name
    if not isinstance(name, str):
        raise NetspectraError(f"activation must be a name or a callable; found {name!r}")
    choice(name, ACTIVATION_NAMES, "activation")
    if name != "lrelu":
        if slope is not None:
            raise NetspectraError(
                f"slope applies to 'lrelu' only; found slope={slope} for {name!r}"
            )
        return _FIXED[name]
    s = _DEFAULT_SLOPE if slope is None else finite(slope, "slope")
    return lambda x: np.where(x > 0, x, s * x)
