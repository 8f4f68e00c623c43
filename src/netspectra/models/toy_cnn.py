"""The Toy-CNN of Ringing ReLUs (App. A.1; Sections 4.2-4.4, Figs. 3, 5, 8, 11-15).

Activations are modules (``unit7.act``), so :mod:`netspectra.probes` can hook every one.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._validation import MAX_LAYERS, at_least, bounded, flag, within_bytes
from .._validation_torch import generator as check_generator
from .._validation_torch import image_input
from ..errors import NetspectraError
from .activations import make_activation
from .init import _apply_init

__all__ = ["ToyCNN", "ToyUnit"]

_STEM_STRIDE = 5


def _sum_groups(x: torch.Tensor, groups: int) -> torch.Tensor:
    """RR Section 4.4 feature averaging: ``(N, groups·n, H, W) → (N, n, H, W)`` with output
    channel ``c = Σ_g x[:, g·n + c]``. A sum, not a mean: the paper's own choice, since the
    following batch normalisation removes the factor."""
    if groups == 1:
        return x
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).sum(dim=1)


class ToyUnit(nn.Module):
    """One Toy-CNN unit: 3×3 convolution (no bias) → batch norm → activation, the ``averaging``
    feature groups summed, and optionally an identity shortcut ``x + unit(x)``.

    Submodules are ``conv`` (``out_channels · averaging`` filters), ``bn`` and ``act``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels before and after the unit (after the group sum).
    activation : str
        A name of :func:`~netspectra.models.make_activation`; ``slope`` goes with ``lrelu``.
    stride : int
        Convolution stride (padding 1).
    averaging : int
        RR's averaging factor ``a`` (Section 4.4): ``a`` groups of ``out_channels`` summed
        after the activation.
    shortcut : bool
        Add the input to the output (a residual block of depth 1); needs equal channels and
        stride 1.
    input_size : int, optional
        The input's height = width when the unit is the first layer of a network that needs
        it (:class:`ToyCNN`'s stem): inputs of another size are refused.

    The input must be ``(N, in_channels, H, W)``; other shapes raise a NetspectraError.
    """

    def __init__(self, in_channels: int, out_channels: int, activation: str = "relu", *,
                 slope: float | None = None, stride: int = 1, averaging: int = 1,
                 shortcut: bool = False, input_size: int | None = None) -> None:
        super().__init__()
        in_channels = at_least(in_channels, 1, "in_channels")
        out_channels = at_least(out_channels, 1, "out_channels")
        self.averaging = at_least(averaging, 1, "averaging")
        stride = at_least(stride, 1, "stride")
        self.input_size = None if input_size is None else at_least(input_size, 1, "input_size")
        within_bytes(36 * in_channels * out_channels * self.averaging,
                     "in_channels × out_channels × averaging", "the float32 kernel")
        if flag(shortcut, "shortcut") and (in_channels != out_channels or stride != 1):
            raise NetspectraError(
                "shortcut needs in_channels == out_channels and stride 1; found "
                f"{in_channels} -> {out_channels}, stride {stride}"
            )
        self.shortcut = bool(shortcut)
        features = out_channels * self.averaging
        self.conv = nn.Conv2d(in_channels, features, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(features)
        self.act = make_activation(activation, slope=slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_input(x, "x", channels=self.conv.in_channels, size=self.input_size)
        y = _sum_groups(self.act(self.bn(self.conv(x))), self.averaging)
        return x + y if self.shortcut else y

    def extra_repr(self) -> str:
        return f"averaging={self.averaging}, shortcut={self.shortcut}"


class ToyCNN(nn.Sequential):
    """RR's Toy-CNN (App. A.1): a stride-5 input unit, ``depth`` units of constant ``width``,
    no pooling, then flatten and one fully connected classifier.

    Children, in order: ``stem``, ``unit1`` … ``unit{depth}``, ``head``. Being a plain
    ``nn.Sequential`` of them, a weight-space walk that varies only unit ``k`` can run
    ``model[:k]`` once (``stem`` is ``model[0]``, ``unit{k}`` is ``model[k]``). ``stem`` is a
    :class:`ToyUnit` with stride 5 and no group sum: ``in_channels → width`` (an ``image_size``
    of 32 gives 7×7 feature maps); its convolution has no bias, like the units', because batch
    norm in training mode cancels a bias and a walk would spend part of its unit-norm direction
    on it. ``head`` is ``Flatten`` then ``Linear(width · s · s, num_classes)`` with ``s`` the
    stem's output size; softmax and cross-entropy belong to the loss.

    Parameters
    ----------
    depth : int
        Number of units ``L`` (RR uses 50; Fig. 5 varies it).
    width : int
        Channels of every unit (RR: 16).
    activation : str
        A name of :func:`~netspectra.models.make_activation`; ``slope`` goes with ``lrelu``.
    shortcut : bool
        Identity shortcut around each unit (RR's "Short"; default "NoShort").
    averaging : int
        Feature-averaging factor ``a`` of each unit (RR Section 4.4, Fig. 8 right).
    in_channels, image_size, num_classes : int
        Input channels, input height = width (>= 5) and classes: the input must be
        ``(N, in_channels, image_size, image_size)`` (the classifier's size depends on it).
    init : {"torch", "delta_orthogonal"}
        PyTorch's default initialisation, or :func:`~netspectra.models.delta_orthogonal_`
        (RR App. D.2, with tanh).
    generator : torch.Generator, optional
        Seeds every convolution and linear weight (see
        :func:`~netspectra.models.init.torch_default_`): equal seeds give bit-identical models.
    """

    def __init__(self, depth: int = 50, width: int = 16, activation: str = "relu", *,
                 slope: float | None = None, shortcut: bool = False, averaging: int = 1,
                 in_channels: int = 3, image_size: int = 32, num_classes: int = 10,
                 init: str = "torch", generator: torch.Generator | None = None) -> None:
        depth = bounded(depth, 1, MAX_LAYERS, "depth")
        width = at_least(width, 1, "width")
        image_size = at_least(image_size, 5, "image_size")
        size = (image_size - 1) // _STEM_STRIDE + 1
        num_classes = at_least(num_classes, 1, "num_classes")
        averaging = at_least(averaging, 1, "averaging")
        within_bytes(4 * width * (9 * (depth * width * averaging + at_least(
            in_channels, 1, "in_channels")) + size * size * num_classes),
            "depth, width, averaging, in_channels, image_size or num_classes",
            "the float32 weights")
        check_generator(generator)
        children: OrderedDict[str, nn.Module] = OrderedDict(
            stem=ToyUnit(in_channels, width, activation, slope=slope, stride=_STEM_STRIDE,
                         input_size=image_size)
        )
        for i in range(1, depth + 1):
            children[f"unit{i}"] = ToyUnit(width, width, activation, slope=slope,
                                           averaging=averaging, shortcut=shortcut)
        children["head"] = nn.Sequential(
            nn.Flatten(), nn.Linear(width * size * size, num_classes)
        )
        super().__init__(children)
        self.depth = depth
        _apply_init(self, init, generator)

    @property
    def unit_names(self) -> list[str]:
        """``["unit1", …, "unit{depth}"]``, the child names of the units."""
        return [f"unit{i}" for i in range(1, self.depth + 1)]
