"""Seeded initialisations of the Ringing ReLUs networks: PyTorch's default drawn from a
generator, and the delta-orthogonal scheme (Xiao et al. 2018) of RR Figs. 5, 12, 15."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import choice, positive
from .._validation_torch import generator as check_generator
from .._validation_torch import module as check_module

__all__ = ["INIT_SCHEMES", "delta_orthogonal_", "torch_default_"]

#: Values of the ``init`` argument of :class:`ToyCNN` and :class:`CifarResNet`.
INIT_SCHEMES = ("torch", "delta_orthogonal")

_WEIGHTED = (nn.Conv2d, nn.Linear)


def _orthogonal(rows: int, cols: int, generator: torch.Generator | None) -> torch.Tensor:
    """A ``rows × cols`` float64 matrix with orthonormal rows (``rows ≤ cols``) or columns.

    QR of a Gaussian matrix; multiplying Q's columns by the signs of R's diagonal makes the
    result Haar-distributed instead of depending on the QR routine's sign convention.
    """
    device = generator.device if generator is not None else None
    g = torch.randn(max(rows, cols), min(rows, cols), generator=generator,
                    dtype=torch.float64, device=device)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r))
    return q if rows >= cols else q.T


@torch.no_grad()
def delta_orthogonal_(module: nn.Module, gain: float = 1.0,
                      generator: torch.Generator | None = None) -> nn.Module:
    """Delta-orthogonal initialisation (Xiao et al. 2018), in place; RR App. D.2.

    Every ``Conv2d`` kernel is zero except its spatial centre tap (``[kh // 2, kw // 2]``),
    which is ``gain`` times a random orthogonal ``out × in`` matrix (semi-orthogonal, with
    orthonormal rows or columns, when not square), so at initialisation each convolution is an
    isometry of the channels at every pixel. ``Linear`` weights get the same orthogonal draw;
    all biases are zero. Other modules keep their initialisation. Returns ``module``.

    Parameters
    ----------
    module : nn.Module
        Initialised in place, with all its submodules.
    gain : float
        Scale of the orthogonal matrices (> 0).
    generator : torch.Generator, optional
        Source of the Gaussian matrices; the same seed gives bit-identical weights.
    """
    gain = positive(gain, "gain")
    generator = check_generator(generator)
    for m in check_module(module).modules():
        if isinstance(m, _WEIGHTED):
            w = m.weight
            if isinstance(m, nn.Conv2d):
                w.zero_()
                w = w[:, :, w.shape[2] // 2, w.shape[3] // 2]
            w.copy_(gain * _orthogonal(w.shape[0], w.shape[1], generator))
            if m.bias is not None:
                m.bias.zero_()
    return module


@torch.no_grad()
def torch_default_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """PyTorch's default ``Conv2d``/``Linear`` initialisation, drawn from ``generator``.

    ``reset_parameters`` uses Kaiming-uniform with ``a = √5`` for weights, i.e.
    ``U(±1/√fan_in)``, and the same bound for biases, but from the global random state; this
    draws the same distribution from ``generator``, so two models built with equally seeded
    generators are bit-identical. Returns ``module``.
    """
    generator = check_generator(generator)
    for m in check_module(module).modules():
        if isinstance(m, _WEIGHTED):
            bound = 1.0 / math.sqrt(m.weight[0].numel())
            m.weight.uniform_(-bound, bound, generator=generator)
            if m.bias is not None:
                m.bias.uniform_(-bound, bound, generator=generator)
    return module


def _apply_init(module: nn.Module, init: str, generator: torch.Generator | None) -> None:
    """The ``init``/``generator`` arguments of the RR networks: PyTorch's construction-time
    draw stays when neither asks for anything else."""
    if choice(init, INIT_SCHEMES, "init") == "delta_orthogonal":
        delta_orthogonal_(module, generator=generator)
    elif generator is not None:
        torch_default_(module, generator)
