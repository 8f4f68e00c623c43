"""Checks of PyTorch arguments at the public boundaries (the NumPy ones are in
:mod:`netspectra._validation`, which the NumPy-only theory layer imports)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._validation import choice
from .errors import NetspectraError

__all__ = ["generator", "image_input", "module", "resolve_device", "signal_input"]


def module(value: Any, name: str = "module") -> nn.Module:
    """``value`` if it is an ``nn.Module``, else a NetspectraError."""
    if not isinstance(value, nn.Module):
        raise NetspectraError(f"{name} must be a torch.nn.Module; found {type(value).__name__}")
    return value


def generator(value: Any, name: str = "generator") -> torch.Generator | None:
    """``value`` if it is None or a ``torch.Generator``, else a NetspectraError (a seed must be
    turned into one: ``torch.Generator().manual_seed(seed)``)."""
    if value is not None and not isinstance(value, torch.Generator):
        raise NetspectraError(
            f"{name} must be a torch.Generator or None; found {type(value).__name__} "
            "(seed one with torch.Generator().manual_seed(seed))"
        )
    return value


def _tensor(x: Any, name: str, shape_text: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise NetspectraError(
            f"{name} must be a torch.Tensor of shape {shape_text}; found {type(x).__name__}"
            + (" (convert with torch.from_numpy)" if type(x).__module__ == "numpy" else "")
        )
    return x


def signal_input(x: Any, name: str, *, channels: int, min_length: int = 1) -> None:
    """Refuse ``x`` unless it is a tensor ``(N, channels, L)`` or ``(channels, L)`` with
    ``L >= min_length``: a shape check, cheap enough for every forward pass."""
    shape_text = f"(N, {channels}, L >= {min_length})"
    shape = _tensor(x, name, shape_text).shape
    if len(shape) not in (2, 3) or shape[-2] != channels or shape[-1] < min_length:
        raise NetspectraError(f"{name} must have shape {shape_text}; found {tuple(shape)}")


def image_input(x: Any, name: str, *, channels: int, size: int | None = None,
                min_size: int = 1) -> None:
    """Refuse ``x`` unless it is a tensor ``(N, channels, H, W)`` (with ``H = W = size`` when
    ``size`` is given, else ``H, W >= min_size``): a shape check for every forward pass."""
    side = "H, W" if size is None else f"{size}, {size}"
    shape_text = f"(N, {channels}, {side})"
    shape = _tensor(x, name, shape_text).shape
    if len(shape) != 4 or shape[1] != channels or (
            shape[2:] != (size, size) if size is not None else min(shape[2:]) < min_size):
        raise NetspectraError(f"{name} must have shape {shape_text}; found {tuple(shape)}")


def resolve_device(device: str, name: str = "device") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:i"`` as given
    when this torch can run there, else a :class:`NetspectraError`."""
    if not isinstance(device, str):
        raise NetspectraError(f"{name} must be 'auto', 'cpu', 'cuda' or 'cuda:i'; found "
                              f"{device!r}")
    choice(device.split(":")[0], ("auto", "cpu", "cuda"), name)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or (dev.type == "cpu" and dev.index not in (None, 0)):
        raise NetspectraError(f"{name} must be 'auto', 'cpu', 'cuda' or 'cuda:i'; found "
                              f"{device!r}")
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise NetspectraError(f"{name} {device!r} is not available: this torch "
                                  f"{torch.__version__} sees no CUDA device")
        if dev.index is not None and dev.index >= count:
            raise NetspectraError(f"{name} {device!r} is not available: CUDA devices are "
                                  f"0 … {count - 1}")
    return dev
