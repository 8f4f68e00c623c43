"""Leave a user's model exactly as found: modes and buffers restored, also on error."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from .._validation import choice
from .._validation_torch import module
from ..errors import NetspectraError

__all__ = [
    "BATCHNORM_MODES",
    "as_model_input",
    "check_input",
    "check_target",
    "forward_errors",
    "ieee_float32",
    "measuring_mode",
    "modules_named",
    "preserved_state",
]

#: How batch norm behaves along a measurement: ``"batch"`` uses the statistics of the batch at
#: every point (training mode, the Ringing ReLUs default); ``"running"`` uses the stored
#: running statistics (eval mode).
BATCHNORM_MODES = ("batch", "running")

_BATCHNORM = (nn.modules.batchnorm._BatchNorm,)


@contextmanager
def preserved_state(model: nn.Module) -> Iterator[None]:
    """Restore every submodule's train/eval flag and every buffer (batch-norm running
    statistics, counters) on exit, normal or not. Parameters are the caller's to keep."""
    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training
        with torch.no_grad():
            for buf, saved in buffers:
                buf.copy_(saved)


def _tf32_switches() -> list[tuple[object, str, object]]:
    """``(namespace, attribute, full-precision value)`` of the switches that let CUDA
    convolutions and matmuls round float32 inputs to TF32, in this torch's API."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(conv, "fp32_precision"):  # torch ≥ 2.9
        return [(conv, "fp32_precision", "ieee"),
                (torch.backends.cuda.matmul, "fp32_precision", "ieee")]
    return [(torch.backends.cudnn, "allow_tf32", False),
            (torch.backends.cuda.matmul, "allow_tf32", False)]


@contextmanager
def ieee_float32() -> Iterator[None]:
    """Full float32 precision in CUDA convolutions and matmuls, the user's setting restored on
    exit. cuDNN convolutions round their inputs to TF32 (a 10-bit mantissa) by default on
    Ampere and later GPUs; that rounding noise, about 1e-3 of each output, would add a white
    floor to the high frequencies of a measured spectrum."""
    switches = _tf32_switches()
    saved = [getattr(space, name) for space, name, _ in switches]
    try:
        for space, name, exact in switches:
            setattr(space, name, exact)
        yield
    finally:
        for (space, name, _), value in zip(switches, saved, strict=True):
            setattr(space, name, value)


def measuring_mode(model: nn.Module, batchnorm: str) -> None:
    """Put ``model`` in the mode of a measurement: everything in eval mode (no dropout noise
    along a path) except batch-norm layers, which use batch statistics for ``"batch"``.

    Call inside :func:`preserved_state`.
    """
    choice(batchnorm, BATCHNORM_MODES, "batchnorm")
    model.eval()
    if batchnorm == "batch":
        for m in model.modules():
            if isinstance(m, _BATCHNORM):
                m.train()


def as_model_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` on the device, and in the floating dtype, of the model's first parameter (or
    buffer); unchanged for a model with neither."""
    reference = next(iter(model.parameters()), None)
    if reference is None:
        reference = next(iter(model.buffers()), None)
    if reference is None:
        return x
    dtype = reference.dtype if x.is_floating_point() and reference.is_floating_point() else None
    return x.to(device=reference.device, dtype=dtype)


def modules_named(model: nn.Module, names: Sequence[str] | str,
                  what: str = "layer") -> dict[str, nn.Module]:
    """The submodules with these qualified names, in order; a NetspectraError naming the
    unknown one and listing the model's modules otherwise."""
    named = dict(model.named_modules())
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise NetspectraError(f"{what}s must be a module name or a list of them; found "
                              f"{names!r:.80}")
    for name in names:
        if name not in named:
            available = ", ".join(n for n in named if n) or "(none)"
            raise NetspectraError(f"unknown {what} {name!r}; the model's {what}s are: {available}")
    return {name: named[name] for name in names}


def check_input(model: nn.Module, x, name: str = "x") -> None:
    """Refuse a ``model`` that is no ``nn.Module`` and an ``x`` that is no non-empty tensor
    of finite values (a NaN input gives NaN paths and spectra)."""
    module(model, "model")
    if not isinstance(x, torch.Tensor):
        hint = " (convert with torch.from_numpy)" if type(x).__module__ == "numpy" else ""
        raise NetspectraError(f"{name} must be a torch.Tensor (a batch of inputs); found "
                              f"{type(x).__name__}{hint}")
    if x.numel() == 0:
        raise NetspectraError(f"{name} must not be empty; found shape {tuple(x.shape)}")
    if (x.is_floating_point() or x.is_complex()) and not bool(torch.isfinite(x).all()):
        raise NetspectraError(f"{name} must be finite; found NaN/Inf values")


def check_target(target, loss_fn) -> None:
    """Refuse a ``target`` that is not a tensor of finite values (None passes: no loss) and a
    ``loss_fn`` that is not callable."""
    if target is None:
        return
    if not isinstance(target, torch.Tensor):
        raise NetspectraError(f"target must be a tensor; found {type(target).__name__}")
    if target.is_floating_point() and not bool(torch.isfinite(target).all()):
        raise NetspectraError("target must be finite; found NaN/Inf values")
    if not callable(loss_fn):
        raise NetspectraError(f"loss_fn must be callable; found {type(loss_fn).__name__}")


@contextmanager
def forward_errors(model: nn.Module, x: torch.Tensor, name: str = "x") -> Iterator[None]:
    """Turn an error raised inside a forward pass of ``model`` on ``x`` (a shape or dtype
    that does not fit) into a NetspectraError naming ``name``, its shape and the innermost
    module that was running. For the first forward on the user's input only: the module
    hooks it adds cost a few µs per module."""
    names = {m: n or type(model).__name__ for n, m in model.named_modules()}
    running: list[str] = []

    def enter(m: nn.Module, _inputs) -> None:
        running.append(names[m])

    def leave(_m, _inputs, _output) -> None:  # returning a value would replace the output
        running.pop()

    handles = [m.register_forward_pre_hook(enter) for m in names]
    handles += [m.register_forward_hook(leave) for m in names]
    try:
        yield
    except NetspectraError:
        raise
    except (RuntimeError, ValueError, IndexError, TypeError) as err:
        where = f" in module {running[-1]!r}" if running else ""
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NetspectraError(f"{name} of shape {tuple(x.shape)} and dtype {x.dtype} does not "
                              f"fit the model: the forward pass failed{where}: {reason}"
                              ) from err
    finally:
        for handle in handles:
            handle.remove()
