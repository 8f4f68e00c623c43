"""The small networks of the DC paper (Sections III, V-C and V-D).

All take ``(N, C, L)`` signals. Activations are ``nn.ReLU`` modules (not ``F.relu``), so
:func:`netspectra.probes.activation_spectra` sees every one of them.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import MAX_LAYERS, at_least, bounded, choice, positive, within_bytes
from .._validation_torch import generator as check_generator
from .._validation_torch import signal_input
from ..errors import NetspectraError
from ._layers import CausalConv1d, glorot_uniform_

__all__ = [
    "DifferentiationNet",
    "MinimalDCNet",
    "MovingAverageNet",
    "TwoConvClassifier",
]


class _FixedConv1d(nn.Conv1d):
    """A frozen single-channel 'valid' convolution with the given kernel (cross-correlation)
    that refuses, with a NetspectraError, inputs other than ``(N, 1, L >= min_length)``."""

    def __init__(self, taps: list[float], min_length: int) -> None:
        super().__init__(1, 1, len(taps), bias=False)
        self.min_length = min_length
        with torch.no_grad():
            self.weight.copy_(torch.tensor(taps, dtype=self.weight.dtype).view(1, 1, -1))
        self.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal_input(x, "x", channels=1, min_length=self.min_length)
        return super().forward(x)


class _ConvReLUStack(nn.Sequential):
    """``n_layers`` repetitions of (fixed convolution, ReLU): ``y = ReLU(h * ReLU(h * … x))``.

    Input ``(N, 1, L)`` with ``L > n_layers · (len(taps) - 1)``: each 'valid' convolution
    shortens the signal by ``len(taps) - 1``.
    """

    def __init__(self, taps: list[float], n_layers: int) -> None:
        n_layers = bounded(n_layers, 1, MAX_LAYERS, "n_layers")
        shrink = len(taps) - 1
        layers: list[nn.Module] = []
        for i in range(n_layers):
            layers += [_FixedConv1d(taps, (n_layers - i) * shrink + 1), nn.ReLU()]
        super().__init__(*layers)


class DifferentiationNet(_ConvReLUStack):
    """DC paper Section III, first example: ``n_layers`` × ReLU(fs · (x[n] − x[n−1])).

    Each convolution is the discrete derivative (kernel ``[−fs, fs]``, 'valid', so each layer
    shortens the signal by one sample). Differentiation keeps the spectral content; each ReLU
    adds harmonics and DC, so the bandwidth grows with depth (Fig. 2). Reference settings
    (V-A): 5 layers at fs = 1024 Hz.
    """

    def __init__(self, n_layers: int = 5, fs: float = 1024.0) -> None:
        fs = positive(fs, "fs")
        super().__init__([-fs, fs], n_layers)


class MovingAverageNet(_ConvReLUStack):
    """DC paper Section III, second example: ``n_layers`` × ReLU(moving average of ``width``).

    The kernel is ``width`` taps of ``1/width`` ('valid'). Each ReLU widens the spectrum and
    each low-pass convolution cuts it back (first null at ``fs / width``), so the bandwidth
    stays bounded (Fig. 2). Reference settings (V-A): 5 layers, width 9, fs = 1024 Hz.
    """

    def __init__(self, n_layers: int = 5, width: int = 9) -> None:
        width = at_least(width, 1, "width")
        within_bytes(8 * width, "width", "the kernel")
        super().__init__([1.0 / width] * width, n_layers)


class MinimalDCNet(nn.Module):
    """DC paper Section V-D: one causal kernel-2 convolution (1 filter, no bias), ReLU and
    global average pooling; the output ``(N, 1)`` is the DC of the rectified, filtered input.

    For a tone ``a cos(2π f t)`` it is ``a |H(f)| / π`` (eq. 10), so a random kernel already
    separates tones by frequency. Initialised Glorot-uniform (Keras), seeded by ``generator``.
    """

    def __init__(self, kernel_size: int = 2, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.conv = CausalConv1d(1, 1, kernel_size, bias=False)
        self.relu = nn.ReLU()
        glorot_uniform_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x)).mean(dim=-1)


class TwoConvClassifier(nn.Module):
    """DC paper Section V-C: two causal convolutions (``n_filters``, kernel 3, no bias) with
    ReLU or linear activation, global average pooling, Dense(32, ReLU), Dense(``n_classes``).

    Parameters
    ----------
    activation : {"relu", "linear"}
        Activation after each convolution (the paper's ``CNN_ReLU`` vs ``CNN_linear``).
    init : {"keras", "torch"}
        ``"keras"`` (default, the paper's setting): :func:`glorot_uniform_`; ``"torch"``:
        PyTorch's default initialisation.
    generator : torch.Generator, optional
        Seeds the Keras initialisation.
    """

    def __init__(self, activation: str = "relu", *, n_filters: int = 32, kernel_size: int = 3,
                 n_hidden: int = 32, n_classes: int = 3, init: str = "keras",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "linear": nn.Identity}[choice(activation, ("relu", "linear"),
                                                              "activation")]
        n_filters = at_least(n_filters, 1, "n_filters")
        n_hidden = at_least(n_hidden, 1, "n_hidden")
        n_classes = at_least(n_classes, 1, "n_classes")
        within_bytes(4 * n_hidden * (n_filters + n_classes), "n_hidden", "the dense weights")
        check_generator(generator)
        self.conv1 = CausalConv1d(1, n_filters, kernel_size, bias=False)
        self.act1 = act()
        self.conv2 = CausalConv1d(n_filters, n_filters, kernel_size, bias=False)
        self.act2 = act()
        self.head = nn.Sequential(nn.Linear(n_filters, n_hidden), nn.ReLU(),
                                  nn.Linear(n_hidden, n_classes))
        if choice(init, ("keras", "torch"), "init") == "keras":
            glorot_uniform_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.head(features.mean(dim=-1))

    def window_sums(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(N, K, K)`` inputs of :meth:`forward_from_window_sums` for windows ``x``.

        With linear activations, causal convolution, convolution and global average pooling
        collapse to ``Σ W2[o, i, b] W1[i, 0, a] · S[a + b]``, where
        ``S[s] = mean_t x[t − (2K − 2 − s)]`` (zeros before the window) is a partial sum of
        the window. Entry ``[n, a, b]`` holds ``S[a + b]`` of window ``n``. Single-channel
        input only.
        """
        k = self.conv1.kernel_size[0]
        signal_input(x, "x", channels=1, min_length=2 * k - 1)
        if x.dim() != 3:
            raise NetspectraError(f"x must have shape (N, 1, L); found {tuple(x.shape)}")
        length = x.shape[-1]
        totals = torch.cumsum(x[:, 0], dim=-1)  # totals[:, u] = Σ_{t ≤ u} x[t]
        shift = 2 * k - 2 - torch.arange(k)[:, None] - torch.arange(k)[None, :]
        return totals[:, length - 1 - shift] / length

    def forward_from_window_sums(self, sums: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` of a linear classifier from :meth:`window_sums`, exactly.

        The same function of the weights (equal up to float rounding, gradients included) at
        ``O(K²)`` instead of ``O(L K C²)`` work per window, since every window's sums are
        computed once per data set. It is what makes training the linear variants of Fig. 4
        cheap. Raises for the ReLU classifier, which has no such form.
        """
        if not isinstance(self.act1, nn.Identity):
            raise NetspectraError("forward_from_window_sums needs activation='linear'")
        k = self.conv1.kernel_size[0]
        if not isinstance(sums, torch.Tensor) or sums.dim() != 3 or sums.shape[1:] != (k, k):
            raise NetspectraError(
                f"sums must be a tensor (N, {k}, {k}) from window_sums; found "
                f"{tuple(sums.shape) if isinstance(sums, torch.Tensor) else type(sums).__name__}"
            )
        features = torch.einsum("oib,ia,nab->no", self.conv2.weight, self.conv1.weight[:, 0],
                                sums)
        return self.head(features)
