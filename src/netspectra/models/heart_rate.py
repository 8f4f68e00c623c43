"""The heart-rate CNN of DC paper Section V-B (KID-PPG family), for Fig. 3."""

from __future__ import annotations

import torch
from torch import nn

from .._validation import at_least, choice
from ._layers import CausalConv1d, glorot_uniform_

__all__ = ["HeartRateCNN"]


class _ConvBlock(nn.Sequential):
    """Three × (causal dilated Conv1d + ReLU), average pooling, dropout.

    Children are named ``conv1, relu1, …, relu3, pool, dropout``; ``relu3`` is the "last ReLU
    of the block" whose spectrum Fig. 3 shows.
    """

    def __init__(self, in_channels: int, channels: int, pool: int, dropout: float) -> None:
        super().__init__()
        for i in range(1, 4):
            self.add_module(f"conv{i}", CausalConv1d(in_channels if i == 1 else channels,
                                                     channels, 5, dilation=2))
            self.add_module(f"relu{i}", nn.ReLU())
        self.add_module("pool", nn.AvgPool1d(pool))
        self.add_module("dropout", nn.Dropout(dropout))


class HeartRateCNN(nn.Module):
    """Heart-rate regression from one PPG window (DC paper V-B; 8 s at 32 Hz = 256 samples).

    ``block1``: 3 × Conv1d(32, kernel 5, dilation 2, causal, ReLU), AvgPool(4), Dropout;
    ``block2``: 48 filters, AvgPool(2); ``block3``: 64 filters, AvgPool(2). Then multi-head
    self-attention over the remaining 16 time steps with a residual connection and layer
    norm, flatten, Dense(32, ReLU) and Dense(1). The output is in the units of the training
    target (the experiments train on standardised bpm). Input ``(N, 1, n_samples)``.

    Layer names for the probes: ``block1.relu3`` (at fs), ``block2.relu3`` (at fs / 4).

    Parameters
    ----------
    n_samples : int
        Window length (a multiple of 16).
    heads : int
        Attention heads (64 channels are split among them).
    dropout : float
        Dropout after each block (0.5 in the reference).
    init : {"keras", "torch"}
        ``"keras"``: Glorot-uniform convolution/dense weights and zero biases (the reference
        model is Keras); ``"torch"``: PyTorch defaults.
    """

    def __init__(self, n_samples: int = 256, *, heads: int = 4, dropout: float = 0.5,
                 init: str = "keras", generator: torch.Generator | None = None) -> None:
        super().__init__()
        n_samples = at_least(n_samples, 16, "n_samples")
        self.block1 = _ConvBlock(1, 32, 4, dropout)
        self.block2 = _ConvBlock(32, 48, 2, dropout)
        self.block3 = _ConvBlock(48, 64, 2, dropout)
        self.attention = nn.MultiheadAttention(64, heads, batch_first=True)
        self.norm = nn.LayerNorm(64)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * (n_samples // 16), 32), nn.ReLU(),
                                  nn.Linear(32, 1))
        if choice(init, ("keras", "torch"), "init") == "keras":
            glorot_uniform_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block3(self.block2(self.block1(x))).transpose(1, 2)  # (N, T, 64)
        attended, _ = self.attention(h, h, h, need_weights=False)
        return self.head(self.norm(h + attended)).squeeze(-1)
