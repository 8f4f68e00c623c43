"""CIFAR ResNets (He et al. 2016a, b) as varied by Ringing ReLUs (App. A.1; Figs. 1, 4, 6-9).

Knobs: post- (v1) or pre-activation (v2) blocks, shortcuts on or off ("S"/"NS"), the weight
ν of the shortcut, the LReLU slope, the feature-averaging factor ``a`` and wide planes.
Activations are modules (``block3.act1``); the two summands of each addition are the
outputs of ``blockN.shortcut`` and of ``blockN.bn2`` (v1) or ``blockN.conv2`` (v2), so hooks
can read both (RR Fig. 6).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import MAX_LAYERS, at_least, bounded, flag, in_range, within_bytes
from .._validation_torch import generator as check_generator
from .._validation_torch import image_input
from ..errors import NetspectraError
from .activations import make_activation
from .init import _apply_init
from .toy_cnn import _sum_groups

__all__ = ["BasicBlock", "CifarResNet", "PreActBlock", "ShortcutA"]

_PLANES = (16, 32, 64)
_WIDE_PLANES = (28, 56, 112)


def _conv3x3(in_planes: int, planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)


class ShortcutA(nn.Module):
    """He et al.'s parameter-free "option A" shortcut: identity, or at a downsampling block
    every ``stride``-th pixel with the new channels zero (split evenly before and after the
    old ones, as the common CIFAR implementations do)."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride, self.extra = stride, planes - in_planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        before = self.extra // 2
        return F.pad(x, (0, 0, 0, 0, before, self.extra - before)) if self.extra else x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, zero_channels={self.extra}"


class _Block(nn.Module):
    """The addition shared by both block types: ``ν · shortcut(x) + branch``, or the branch
    alone without a shortcut. Subclasses register their layers first, then call
    :meth:`_add_shortcut`, so ``named_modules`` lists the branch's layers before the shortcut."""

    shortcut: ShortcutA | None

    def _add_shortcut(self, in_planes: int, planes: int, stride: int, shortcut: bool,
                      weight: float) -> None:
        self.shortcut = ShortcutA(in_planes, planes, stride) if shortcut else None
        self.shortcut_weight = weight

    def _add(self, x: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return branch
        return self.shortcut_weight * self.shortcut(x) + branch

    def extra_repr(self) -> str:
        short = self.shortcut is not None
        return f"averaging={self.averaging}, shortcut={short}" + (
            f", shortcut_weight={self.shortcut_weight}" if short else "")


class BasicBlock(_Block):
    """v1 (post-activation) block: ``act2(ν·shortcut(x) + bn2(conv2(act1(bn1(conv1(x))))))``.

    Feature averaging (``a > 1``) widens ``conv1``/``bn1`` to ``planes · a`` and sums the groups
    after ``act1``. ``conv2 → bn2 → act2`` is only a conv-bn-activation sequence without a
    shortcut (with one, the addition sits between ``bn2`` and ``act2``), so only the
    shortcut-free block widens ``conv2``/``bn2`` and sums after ``act2`` as well.
    """

    def __init__(self, in_planes: int, planes: int, stride: int, activation: str,
                 slope: float | None, averaging: int, shortcut: bool, weight: float) -> None:
        super().__init__()
        self.averaging = averaging
        self.averaging2 = 1 if shortcut else averaging
        self.conv1 = _conv3x3(in_planes, planes * averaging, stride)
        self.bn1 = nn.BatchNorm2d(planes * averaging)
        self.act1 = make_activation(activation, slope=slope)
        self.conv2 = _conv3x3(planes, planes * self.averaging2)
        self.bn2 = nn.BatchNorm2d(planes * self.averaging2)
        self.act2 = make_activation(activation, slope=slope)
        self._add_shortcut(in_planes, planes, stride, shortcut, weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _sum_groups(self.act1(self.bn1(self.conv1(x))), self.averaging)
        h = self._add(x, self.bn2(self.conv2(h)))
        return _sum_groups(self.act2(h), self.averaging2)


class PreActBlock(_Block):
    """v2 (pre-activation) block: ``ν·shortcut(x) + conv2(act2(bn2(conv1(act1(bn1(x))))))``.

    Feature averaging (``a > 1``) widens ``conv1``/``bn2`` to ``planes · a`` and sums after
    ``act2``: the block's one conv-bn-activation sequence. The other (``conv2`` → next block's
    ``bn1 → act1``) crosses the block boundary, and the addition when there is a shortcut, so
    it keeps ``planes`` channels.
    """

    def __init__(self, in_planes: int, planes: int, stride: int, activation: str,
                 slope: float | None, averaging: int, shortcut: bool, weight: float) -> None:
        super().__init__()
        self.averaging = averaging
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.act1 = make_activation(activation, slope=slope)
        self.conv1 = _conv3x3(in_planes, planes * averaging, stride)
        self.bn2 = nn.BatchNorm2d(planes * averaging)
        self.act2 = make_activation(activation, slope=slope)
        self.conv2 = _conv3x3(planes, planes)
        self._add_shortcut(in_planes, planes, stride, shortcut, weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act1(self.bn1(x)))
        h = _sum_groups(self.act2(self.bn2(h)), self.averaging)
        return self._add(x, self.conv2(h))


class _Stem(nn.Sequential):
    """The first layers of :class:`CifarResNet`; refuses inputs other than ``(N, C, H, W)``
    with the network's channels (a NetspectraError instead of a shape error deep inside)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image_input(x, "x", channels=self.conv.in_channels)
        return super().forward(x)


class CifarResNet(nn.Sequential):
    """CIFAR ResNet of depth ``6n + 2`` (20, 56, 110, 194, …): RR's "real-world" network.

    Children, in order: ``stem``, ``block1`` … ``block{3n}``, ``head``, so ``model[:k]`` is the
    unchanged prefix of a walk that starts varying at ``block{k}``. ``stem`` is a 3×3
    convolution to the first stage's planes (+ batch norm + activation in v1; v2 blocks
    normalise their own input). Three stages of ``n`` blocks have 16, 32, 64 planes (28, 56,
    112 when ``wide``); the first block of stages 2 and 3 has stride 2. ``head`` is (v2 only:
    batch norm + activation,) global average pooling, flatten and ``Linear``.

    Parameters
    ----------
    depth : int
        ``6n + 2``; RR mostly uses 56, Fig. 7 uses 194.
    activation : str
        A name of :func:`~netspectra.models.make_activation`.
    version : {1, 2}
        1: post-activation :class:`BasicBlock` (He et al. 2016a); 2: pre-activation
        :class:`PreActBlock` (He et al. 2016b), used in RR Figs. 1 and 6.
    slope : float, optional
        Negative slope of ``lrelu``: 0 is ReLU, 1 is linear. RR Section 4.5 and Fig. 9 call
        this slope α; Fig. 1's caption uses α for the amount of nonlinearity (its α = 0 panel
        is the linear one), i.e. ``1 − slope``.
    shortcut : bool
        ``False`` is RR's "NoShort": blocks compute their branch only, no addition.
    shortcut_weight : float
        ν in [0, 1]: blocks compute ``ν · shortcut(x) + branch(x)``. Fig. 1 calls ν the
        "residual branch weight" and shows ν = 0 as the feedforward net and ν = 1 as the
        ResNet, which only fits ν scaling the identity path: so ν = 0 computes the same as
        ``shortcut=False`` and ν = 1 is the standard ResNet.
    averaging : int
        Feature-averaging factor ``a`` (RR Section 4.4, Fig. 8 left uses ``a = 3``): each
        conv-bn-activation sequence inside a block has ``planes · a`` channels, summed in groups
        back to ``planes`` after the activation; see :class:`BasicBlock` and
        :class:`PreActBlock` for where such a sequence exists. The stem is not widened.
    wide : bool
        Planes 28/56/112, RR's "Wide ResNet" with about the parameters of ``a = 3``.
    num_classes, in_channels : int
        Classes and input channels.
    init, generator
        As in :class:`~netspectra.models.ToyCNN`.
    """

    def __init__(self, depth: int = 56, activation: str = "relu", *, version: int = 1,
                 slope: float | None = None, shortcut: bool = True,
                 shortcut_weight: float = 1.0, averaging: int = 1, wide: bool = False,
                 num_classes: int = 10, in_channels: int = 3, init: str = "torch",
                 generator: torch.Generator | None = None) -> None:
        depth = bounded(depth, 8, MAX_LAYERS, "depth")
        if (depth - 2) % 6:
            raise NetspectraError(f"depth must be 6n + 2 (20, 56, 110, 194, …); found {depth}")
        if isinstance(version, bool) or version not in (1, 2):
            raise NetspectraError(f"version must be 1 or 2; found {version!r}")
        weight = in_range(shortcut_weight, "shortcut_weight", 0.0, 1.0)
        shortcut = flag(shortcut, "shortcut")
        check_generator(generator)
        averaging = at_least(averaging, 1, "averaging")
        planes = _WIDE_PLANES if flag(wide, "wide") else _PLANES
        # Two 3×3 convolutions per block, the first widened by the averaging factor.
        within_bytes(72 * averaging * (depth - 2) // 6 * sum(p * p for p in planes),
                     "depth × averaging", "the float32 weights")
        within_bytes(4 * planes[-1] * at_least(num_classes, 1, "num_classes"), "num_classes",
                     "the classifier")
        within_bytes(36 * planes[0] * at_least(in_channels, 1, "in_channels"), "in_channels",
                     "the first convolution")
        if not shortcut and weight != 1.0:
            raise NetspectraError(
                f"shortcut_weight applies only with shortcut=True; found {shortcut_weight}"
            )
        block = BasicBlock if version == 1 else PreActBlock

        stem: OrderedDict[str, nn.Module] = OrderedDict(
            conv=_conv3x3(at_least(in_channels, 1, "in_channels"), planes[0]))
        if version == 1:
            stem.update(bn=nn.BatchNorm2d(planes[0]), act=make_activation(activation, slope=slope))
        children: OrderedDict[str, nn.Module] = OrderedDict(stem=_Stem(stem))
        n = (depth - 2) // 6
        stages = [(p, 2 if stage and i == 0 else 1) for stage, p in enumerate(planes)
                  for i in range(n)]
        in_planes = planes[0]
        for k, (p, stride) in enumerate(stages, 1):
            children[f"block{k}"] = block(in_planes, p, stride, activation, slope, averaging,
                                          shortcut, weight)
            in_planes = p
        head: OrderedDict[str, nn.Module] = OrderedDict()
        if version == 2:
            head.update(bn=nn.BatchNorm2d(in_planes), act=make_activation(activation, slope=slope))
        head.update(pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(),
                    fc=nn.Linear(in_planes, at_least(num_classes, 1, "num_classes")))
        children["head"] = nn.Sequential(head)
        super().__init__(children)
        self.n_blocks = 3 * n
        _apply_init(self, init, generator)

    @property
    def block_names(self) -> list[str]:
        """``["block1", …, "block{3n}"]``, the child names of the blocks."""
        return [f"block{i}" for i in range(1, self.n_blocks + 1)]

    @property
    def summand_pairs(self) -> list[tuple[str, str]]:
        """The two summands of every residual addition, ``(shortcut, branch)`` module names:
        ``("blockN.shortcut", "blockN.bn2")`` in v1, ``("blockN.shortcut", "blockN.conv2")``
        in v2, for :func:`~netspectra.probes.branch_correlation` (RR Fig. 6). The shortcut's
        output is recorded before its weight ν, which a correlation does not see. Empty
        without shortcuts ("NoShort"): those blocks add nothing."""
        if self.block1.shortcut is None:
            return []
        branch = "bn2" if isinstance(self.block1, BasicBlock) else "conv2"
        return [(f"{b}.shortcut", f"{b}.{branch}") for b in self.block_names]
