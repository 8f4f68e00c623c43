"""Capture the outputs of chosen layers of any ``nn.Module`` with forward hooks.

The model is left exactly as found: hooks are removed, the train/eval mode is restored and
buffers that the forward pass may update (batch-norm running statistics) are written back,
all in ``finally``. Captured tensors are detached clones, so a later in-place operation
(``nn.ReLU(inplace=True)``, ``+=``) cannot rewrite what was captured.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .._validation import choice
from .._validation_torch import module as check_module
from .._warnings import warn_caller
from ..errors import NetspectraError
from ._state import (
    as_model_input,
    check_input,
    forward_errors,
    ieee_float32,
    modules_named,
    preserved_state,
)

__all__ = ["ACTIVATION_TYPES", "Capture", "capture_outputs", "functional_activation_users"]

#: Module types treated as activations when no layers are named.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Softplus, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish,
    nn.Hardsigmoid, nn.LogSigmoid, nn.Softsign, nn.Tanhshrink,
)

_FUNCTIONAL = re.compile(
    r"\b(?:F|functional|torch)\.(relu|relu_|relu6|leaky_relu|gelu|silu|mish|elu|selu|celu|"
    r"softplus|tanh|sigmoid|hardtanh|hardswish)\s*\("
    r"|\.(relu|relu_|tanh|sigmoid)\s*\(\s*\)"
)


@dataclass(frozen=True)
class Capture:
    """One call of one module: its qualified name, the call index and a detached output clone."""

    name: str
    call: int
    output: torch.Tensor

    @property
    def label(self) -> str:
        """``name`` for a module's first call, ``name#k`` for its call ``k`` (k ≥ 1)."""
        return self.name if self.call == 0 else f"{self.name}#{self.call}"


def functional_activation_users(model: nn.Module) -> list[str]:
    """Qualified names of submodules whose ``forward`` source calls an activation functionally
    (``F.relu(x)``, ``torch.tanh(x)``, ``x.relu()``); forward hooks cannot see those calls."""
    check_module(model, "model")
    found, seen = [], {}
    for name, module in model.named_modules():
        cls = type(module)
        if cls.__module__.startswith("torch."):
            continue
        if cls not in seen:
            try:
                seen[cls] = bool(_FUNCTIONAL.search(inspect.getsource(cls.forward)))
            except (OSError, TypeError):
                seen[cls] = False
        if seen[cls]:
            found.append(name or "<model>")
    return found


def _select(model: nn.Module, layers: Sequence[str] | None,
            types: tuple[type[nn.Module], ...] | None) -> dict[nn.Module, str]:
    if layers is not None:
        return {m: name for name, m in modules_named(model, layers).items()}
    named = dict(model.named_modules())
    types = ACTIVATION_TYPES if types is None else tuple(types)
    chosen = {m: n for n, m in named.items() if n and isinstance(m, types)}
    users = functional_activation_users(model)
    if users:
        warn_caller(
            f"{', '.join(users)} call activation functions in forward() (e.g. F.relu); hooks "
            "cannot capture those outputs. Name the module whose output the activation takes "
            "(layers=['conv1']) and apply the activation to the capture, or use nn.ReLU modules."
        )
    if not chosen:
        raise NetspectraError(
            f"the model has no module of the types {[t.__name__ for t in types]}; "
            "name the layers to capture with layers=[...]"
        )
    return chosen


def capture_outputs(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layers: Sequence[str] | None = None,
    types: tuple[type[nn.Module], ...] | None = None,
    mode: str | None = None,
) -> list[Capture]:
    """Run ``model(x)`` once under ``torch.no_grad`` and return the outputs of chosen modules.

    Parameters
    ----------
    model : nn.Module
        Any model. It is not modified: hooks removed, mode and buffers restored in ``finally``.
    x : torch.Tensor
        The input batch, moved to the device and floating dtype of the model's first
        parameter (or buffer) if it has one.
    layers : sequence of str, optional
        Qualified module names (``model.named_modules()``) to capture; overrides ``types``.
    types : tuple of module types, optional
        Capture every module of these types; default :data:`ACTIVATION_TYPES`. A warning
        names modules that apply activations functionally (invisible to hooks).
    mode : {"eval", "train"}, optional
        Mode for this forward pass (default: the model's current mode).

    Returns
    -------
    list of Capture
        In call order; a module called several times appears once per call (``call`` = 0, 1 …).
    """
    check_input(model, x)
    chosen = _select(model, layers, types)
    if mode is not None:
        choice(mode, ("eval", "train"), "mode")
    x = as_model_input(model, x)
    captures: list[Capture] = []
    calls: dict[str, int] = {}

    def hook(module: nn.Module, _inputs, output) -> None:
        if not isinstance(output, torch.Tensor):
            return
        name = chosen[module]
        k = calls.get(name, 0)
        calls[name] = k + 1
        captures.append(Capture(name, k, output.detach().clone()))

    handles = [m.register_forward_hook(hook) for m in chosen]
    try:
        with preserved_state(model), ieee_float32(), torch.no_grad():
            if mode is not None:
                model.train(mode == "train")
            with forward_errors(model, x):
                model(x)
    finally:
        for h in handles:
            h.remove()
    if not captures:
        raise NetspectraError(
            f"none of the chosen layers ({', '.join(sorted(set(chosen.values())))}) produced a "
            "tensor during the forward pass"
        )
    return captures
