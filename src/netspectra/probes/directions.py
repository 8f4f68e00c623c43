"""Directions in weight space for the walks of Ringing ReLUs (eq. 1): random, filter-normalised,
restricted to some modules, or along the loss gradient.

A direction is a dict mapping parameter names (``model.named_parameters()``) to tensors of the
parameters' shapes; parameters it does not name stay fixed along a walk. Random directions are
drawn on the CPU from a seeded generator, so a seed gives the same direction on every device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import choice, seed_value
from .._validation_torch import module
from ..errors import NetspectraError
from ._state import (
    BATCHNORM_MODES,
    as_model_input,
    check_input,
    check_target,
    forward_errors,
    measuring_mode,
    modules_named,
    preserved_state,
)

__all__ = ["DIRECTION_NORMS", "check_direction", "gradient_direction", "random_direction"]

#: ``"unit"``: unit Frobenius norm over all varied parameters (RR eq. 1); ``"filter"``: every
#: filter scaled to the norm of the same filter of the weights (Li et al. 2018), biases and
#: other one-dimensional parameters left out.
DIRECTION_NORMS = ("unit", "filter")

Direction = dict[str, torch.Tensor]


def _varied(model: nn.Module, modules: Sequence[str] | str | None) -> dict[str, nn.Parameter]:
    """The trainable parameters under the named modules (all of them for ``None``)."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if modules is None:
        return params
    modules = list(modules_named(model, modules, "module"))
    chosen: dict[str, nn.Parameter] = {}
    for name in modules:
        prefix = f"{name}." if name else ""
        chosen.update({n: p for n, p in params.items() if n.startswith(prefix)})
    if not chosen:
        raise NetspectraError(f"modules {list(modules)} hold no trainable parameter")
    return chosen


def _unit(direction: Direction) -> Direction:
    norm = torch.sqrt(sum(d.double().square().sum() for d in direction.values()))
    if norm == 0:
        raise NetspectraError("the direction is zero; it cannot be normalised")
    return {n: d / norm.to(d.dtype) for n, d in direction.items()}


def random_direction(
    model: nn.Module,
    *,
    seed: int,
    modules: Sequence[str] | str | None = None,
    norm: str = "unit",
) -> Direction:
    """A seeded Gaussian direction over the model's trainable parameters (RR eq. 1).

    Parameters
    ----------
    model : nn.Module
        Any model; only its parameter names, shapes, devices and dtypes are read.
    seed : int
        Seeds a CPU generator; entries are drawn parameter by parameter in
        ``named_parameters()`` order, so the same seed gives the same direction everywhere.
    modules : str or sequence of str, optional
        Restrict the direction to the parameters under these qualified module names (e.g.
        ``"unit7"`` for a one-layer walk, RR Fig. 3b, App. E); default: every parameter.
    norm : {"unit", "filter"}
        ``"unit"`` (the paper's): ``‖D‖_F = 1`` over the varied parameters, so the walk
        radius ``α`` is a distance in weight space. ``"filter"``: Li et al. (2018)'s filter
        normalisation, each output filter (first axis) of every weight with two or more
        dimensions rescaled to the norm of the same filter of the weights; one-dimensional
        parameters (biases, batch-norm affine) get zero. ``α`` is then relative to the weights.

    Returns
    -------
    dict of str to Tensor
        Parameter name → direction, on the parameter's device and dtype.
    """
    module(model, "model")
    choice(norm, DIRECTION_NORMS, "norm")
    params = _varied(model, modules)
    gen = torch.Generator().manual_seed(seed_value(seed))
    direction = {n: torch.randn(p.shape, generator=gen, dtype=torch.float32).to(p)
                 for n, p in params.items()}
    if norm == "unit":
        return _unit(direction)
    filtered = {}
    for n, d in direction.items():
        w = params[n].detach()
        if d.dim() < 2:
            filtered[n] = torch.zeros_like(d)
            continue
        scale = w.flatten(1).norm(dim=1) / d.flatten(1).norm(dim=1).clamp_min(1e-30)
        filtered[n] = d * scale.view(-1, *([1] * (d.dim() - 1)))
    return filtered


def gradient_direction(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    modules: Sequence[str] | str | None = None,
    batchnorm: str = "batch",
) -> Direction:
    """The normalised loss gradient at the current weights (RR App. D.3, Fig. 13).

    ``∇_W loss(model(x), target)`` over the varied parameters, scaled to unit Frobenius norm.
    The model is left as found: ``.grad`` fields are not touched (``torch.autograd.grad``),
    modes and buffers are restored. ``batchnorm`` as in :func:`~netspectra.probes.walk`.
    """
    check_input(model, x)
    if target is None:
        raise NetspectraError("target must be a tensor of labels; found None")
    check_target(target, loss_fn)
    choice(batchnorm, BATCHNORM_MODES, "batchnorm")
    params = _varied(model, modules)
    with preserved_state(model):
        measuring_mode(model, batchnorm)
        h = as_model_input(model, x)
        with forward_errors(model, x):
            out = model(h)
        try:
            loss = loss_fn(out, target.to(h.device))
        except (RuntimeError, ValueError, IndexError) as err:
            raise NetspectraError(f"target of shape {tuple(target.shape)} does not fit the "
                                  f"loss of the model's output of shape {tuple(out.shape)}: "
                                  f"{str(err).strip().splitlines()[0]}") from err
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    direction = {n: (g if g is not None else torch.zeros_like(p)).detach()
                 for (n, p), g in zip(params.items(), grads, strict=True)}
    if not all(bool(torch.isfinite(g).all()) for g in direction.values()):
        raise NetspectraError("the loss gradient holds NaN/Inf at these weights and inputs")
    return _unit(direction)


def check_direction(model: nn.Module, direction: Mapping[str, torch.Tensor],
                    name: str = "direction") -> Direction:
    """``direction`` on the parameters' devices and dtypes, after checking that it names
    trainable parameters of ``model`` with their shapes and holds finite values."""
    if not isinstance(direction, Mapping) or not direction:
        raise NetspectraError(
            f"{name} must be a non-empty dict of parameter name -> tensor (see "
            f"random_direction); found {type(direction).__name__}"
        )
    params = dict(model.named_parameters())
    checked = {}
    for n, d in direction.items():
        if n not in params:
            raise NetspectraError(
                f"{name} names {n!r}, which is not a parameter of the model; parameters are: "
                f"{', '.join(params)}"
            )
        d = torch.as_tensor(d)
        if tuple(d.shape) != tuple(params[n].shape):
            raise NetspectraError(
                f"{name}[{n!r}] must have the parameter's shape {tuple(params[n].shape)}; "
                f"found {tuple(d.shape)}"
            )
        if not torch.isfinite(d).all():
            raise NetspectraError(f"{name}[{n!r}] must be finite; found NaN/Inf")
        checked[n] = d.to(params[n])
    return checked
