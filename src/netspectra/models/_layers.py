"""Building blocks shared by the DC paper's networks: causal convolution, Keras initialisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import at_least, flag, within_bytes
from .._validation_torch import generator as check_generator
from .._validation_torch import module as check_module
from .._validation_torch import signal_input

__all__ = ["CausalConv1d", "glorot_uniform_"]


class CausalConv1d(nn.Conv1d):
    """``Conv1d`` with Keras' ``padding='causal'``: ``(kernel_size - 1) · dilation`` zeros on the
    left, so the output keeps the input length and ``y[n]`` only sees ``x[≤ n]``.

    Like Keras (and unlike ``np.convolve``) it is a cross-correlation: ``y[n] = Σ_k w[k]
    x[n - (K - 1 - k)·d]``, i.e. the FIR taps of :func:`netspectra.theory.frequency_response`
    are the flipped kernel. Input ``(N, in_channels, L)`` or ``(in_channels, L)``; other
    shapes, and sizes whose kernel or padding would exceed
    :data:`~netspectra._validation.MAX_BYTES`, raise a NetspectraError.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *,
                 dilation: int = 1, bias: bool = True) -> None:
        in_channels = at_least(in_channels, 1, "in_channels")
        out_channels = at_least(out_channels, 1, "out_channels")
        kernel_size = at_least(kernel_size, 1, "kernel_size")
        dilation = at_least(dilation, 1, "dilation")
        within_bytes(4 * in_channels * out_channels * kernel_size,
                     "in_channels × out_channels × kernel_size", "the float32 kernel")
        within_bytes(4 * in_channels * (kernel_size - 1) * dilation, "kernel_size × dilation",
                     "the causal padding of one signal")
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation,
                         bias=flag(bias, "bias"))
        self._left = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal_input(x, "x", channels=self.in_channels)
        return super().forward(F.pad(x, (self._left, 0)))


@torch.no_grad()
def glorot_uniform_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Keras' default initialisation, in place: Glorot-uniform weights, zero biases.

    Every ``Conv1d``/``Conv2d``/``Linear`` weight is drawn from ``U(-l, l)`` with
    ``l = sqrt(6 / (fan_in + fan_out))``, where the fans include the kernel size (the same
    fans Keras uses). PyTorch's own default (Kaiming-uniform with ``a = √5``) draws smaller
    weights; the paper's experiments ran in Keras, so the networks here use this by default.
    Other modules (e.g. ``MultiheadAttention``, ``LayerNorm``) keep PyTorch's initialisation.
    Returns ``module``.
    """
    generator = check_generator(generator)
    for m in check_module(module).modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            w = m.weight
            receptive = w[0, 0].numel()
            fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
            limit = (6.0 / (fan_in + fan_out)) ** 0.5
            w.uniform_(-limit, limit, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
    return module
