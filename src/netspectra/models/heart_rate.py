"""The heart-rate CNN of DC paper Section V-B (KID-PPG family), for Fig. 3."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import at_least, bounded, choice, in_range
from .._validation_torch import generator as check_generator
from ..errors import NetspectraError
from ._layers import CausalConv1d, glorot_uniform_

__all__ = ["HeartRateCNN"]

#: Window length and attention width caps: the dense layer holds 128 · n_samples weights and
#: each attention projection 64 · heads · key_dim, so larger requests are refused, not allocated.
MAX_SAMPLES = 2**18
MAX_ATTENTION_WIDTH = 2**12


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


class _KerasSelfAttention(nn.Module):
    """Keras' ``MultiHeadAttention(num_heads, key_dim)`` called as self-attention.

    ``query``, ``key`` and ``value`` project the ``channels`` features of each time step to
    ``heads × key_dim`` (value width = key_dim, Keras' default); head ``i`` attends with
    ``softmax(q_i k_iᵀ / √key_dim) v_i`` over the time steps, and ``output`` projects the
    concatenated heads back to ``channels``. Feature ``i · key_dim + j`` of a projection is
    Keras' ``[i, j]``. Input and output ``(N, T, channels)``; no residual, no dropout.
    """

    def __init__(self, channels: int, heads: int, key_dim: int) -> None:
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        width = heads * key_dim
        self.query, self.key, self.value = (nn.Linear(channels, width) for _ in range(3))
        self.output = nn.Linear(width, channels)

    def _split(self, h: torch.Tensor) -> torch.Tensor:
        """(N, T, heads · key_dim) → (N, heads, T, key_dim)."""
        return h.unflatten(-1, (self.heads, self.key_dim)).transpose(-3, -2)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        q, k, v = (self._split(proj(h)) for proj in (self.query, self.key, self.value))
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.key_dim), dim=-1)
        return self.output((weights @ v).transpose(-3, -2).flatten(-2))


class HeartRateCNN(nn.Module):
    """Heart-rate regression from one PPG window (DC paper V-B; 8 s at 32 Hz = 256 samples).

    The authors' network (``build_attention_model`` of their reproduction code):
    ``block1``: 3 × Conv1d(32, kernel 5, dilation 2, causal, ReLU), AvgPool(4), Dropout;
    ``block2``: 48 filters, AvgPool(2); ``block3``: 64 filters, AvgPool(2). Then multi-head
    self-attention over the remaining ``n_samples // 16`` time steps as Keras'
    ``MultiHeadAttention`` computes it (query = key = value = block 3's output, scores scaled
    by 1/√key_dim, no residual), layer norm (ε = 1e-3, Keras' default), flatten (time-major,
    as Keras' channels-last ``Flatten``),
    Dense(32, ReLU), Dense(1). The output is in the units of the training target: bpm for the
    authors' weights (:func:`~netspectra.models.load_keras_heart_rate`), standardised bpm for
    the networks the experiments train. Input ``(N, 1, n_samples)``.

    Layer names for the probes: ``block1.relu3`` (at fs), ``block2.relu3`` (at fs / 4).

    Parameters
    ----------
    n_samples : int
        Window length in samples (16 to 2¹⁸; the time steps left after the pooling are
        ``n_samples // 16``).
    heads, key_dim : int
        Attention heads and the width of each (4 and 16 in the reference).
    dropout : float
        Dropout probability after each block, in [0, 1) (0.5 in the reference).
    init : {"keras", "torch"}
        ``"keras"``: Glorot-uniform convolution/dense/projection weights and zero biases (the
        reference model is Keras); ``"torch"``: PyTorch defaults.
    generator : torch.Generator, optional
        Source of the initial weights.
    """

    def __init__(self, n_samples: int = 256, *, heads: int = 4, key_dim: int = 16,
                 dropout: float = 0.5, init: str = "keras",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.n_samples = bounded(n_samples, 16, MAX_SAMPLES, "n_samples", "dense layer size")
        heads = at_least(heads, 1, "heads")
        key_dim = at_least(key_dim, 1, "key_dim")
        bounded(heads * key_dim, 1, MAX_ATTENTION_WIDTH, "heads × key_dim", "attention size")
        dropout = in_range(dropout, "dropout", 0.0, 1.0, high_open=True)
        init = choice(init, ("keras", "torch"), "init")
        generator = check_generator(generator)
        self.block1 = _ConvBlock(1, 32, 4, dropout)
        self.block2 = _ConvBlock(32, 48, 2, dropout)
        self.block3 = _ConvBlock(48, 64, 2, dropout)
        self.attention = _KerasSelfAttention(64, heads, key_dim)
        self.norm = nn.LayerNorm(64, eps=1e-3)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * (self.n_samples // 16), 32),
                                  nn.ReLU(), nn.Linear(32, 1))
        if init == "keras":
            glorot_uniform_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1:] != (1, self.n_samples):
            found = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise NetspectraError(
                f"x must be a tensor of shape (N, 1, {self.n_samples}); found {found}")
        h = self.block3(self.block2(self.block1(x))).transpose(1, 2)  # (N, T, 64)
        return self.head(self.norm(self.attention(h))).squeeze(-1)

