"""Weight-space walks (Ringing ReLUs eq. 1): ``p(t) = f(x, W + α t D)``, ``t ∈ [0, 1]``.

For each direction ``D`` the model is evaluated at ``n_points`` evenly spaced ``t`` (both ends
included), with the moved parameters swapped in through :func:`torch.func.functional_call`:
the model itself is never copied, reloaded or written to. Along the way the loss and the
outputs of chosen layers (every neuron, position and image, or a seeded subset that fits a
memory budget) are recorded; :func:`walk` turns them into normalised power spectra one
direction at a time (RR Figs. 3, 5, 11–17), :func:`walk_paths` returns the raw paths.

How the points are evaluated is chosen by measurement (``benchmarks/walk_strategies.py``,
README *Speed of walks*). On CPU the winner depends on the model: chunks of points batched
with :func:`torch.func.vmap` (grouped convolutions, channels-last) ran 1.4× faster than one
forward per point for Toy-CNNs at batch 128 and 4.6× at batch 16, but 0.6× for ResNets at
batch 32 and 128, whose per-point convolutions are large enough to keep the cores busy. The
default on CPU is the loop, the faster for large models, where time matters most;
``strategy="measure"`` races both on the first points of the walk and keeps the faster, and
the experiments name vmap for their Toy-CNNs. On CUDA the default is vmap chunks, the usual
fast path on GPUs (not yet measured here). ``"auto"`` and ``"measure"`` take the loop, with a
warning, for a model that vmap cannot batch (data-dependent control flow, ``.item()``). When
the model is an ``nn.Sequential`` (as :class:`~netspectra.models.ToyCNN` and
:class:`~netspectra.models.CifarResNet` are) and the directions leave its first children
fixed, those children run once and only the rest is walked.

After a walk the model's parameters, buffers (batch-norm running statistics included) and the
train/eval flag of every submodule are as before, also when the walk raises.

This module holds the documented API; the machinery behind it is private and kept apart so
that work on speed does not touch it: the setup, memory sizing and per-direction evaluation
in :mod:`._engine`, what is recorded at each point in :mod:`._recorder`, the strategies in
:mod:`._strategy`. On CUDA the walk
runs in full float32 precision (TF32 off, see :func:`._state.ieee_float32`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._plotting import figure_axes
from .._validation import (
    LOOP_STEP_OPERATIONS,
    at_least,
    choice,
    flag,
    positive,
    seed_value,
    within_operations,
)
from .._warnings import warn_caller
from ..errors import NetspectraError
from ..results import Result
from ..theory import RoughnessFit, fractal_coefficient, path_power_spectrum
from ._engine import check_finite, iter_walk
from ._path_spectra import mean_path_power
from ._state import BATCHNORM_MODES, check_input, check_target
from ._strategy import STRATEGIES
from .directions import DIRECTION_NORMS, check_direction, random_direction

__all__ = ["DEFAULT_MAX_NEURONS", "STRATEGIES", "Walk", "WalkPaths", "walk", "walk_paths"]

#: Fewest points per path: a power-law fit needs a few frequency bins.
MIN_POINTS = 8

#: Outputs recorded per layer by default: a seeded subset of this size already pins the mean
#: spectrum down (benchmarks/walks.py: |Δh| < 0.01 against every output of a Toy-CNN layer),
#: at a fraction of the cost of transforming every path.
DEFAULT_MAX_NEURONS = 4096

_DEFAULT_BUDGET = 512 * 2**20


@dataclass(frozen=True)
class WalkPaths:
    """Raw paths of :func:`walk_paths`.

    Attributes
    ----------
    t : ndarray, shape (n_points,)
        Path parameter, ``t_j = j / (n_points - 1)``.
    loss : ndarray, shape (n_directions, n_points), or None
        Loss along each path (None without ``target``).
    layers : dict of str to ndarray, shape (n_directions, n_points, n_neurons)
        Outputs of each captured layer call (``name`` or ``name#k``), flattened over batch,
        channels and positions, or the seeded subset in ``neuron_index``.
    neuron_index : dict of str to ndarray or None
        Flat indices of the kept outputs per layer (None: all of them).
    """

    t: np.ndarray
    loss: np.ndarray | None
    layers: dict[str, np.ndarray]
    neuron_index: dict[str, np.ndarray | None]


@dataclass(frozen=True)
class Walk(Result):
    """Normalised power spectra of weight-space paths (RR §4.2–4.3, Figs. 3–5, 11–17).

    Attributes
    ----------
    t : ndarray
        Path parameter of the points, ``t_j = j / (n_points - 1)``; the weights at point ``j``
        are ``W + alpha · t_j · D``.
    alpha : float
        Walk radius: with unit-norm directions, the distance walked in weight space.
    batchnorm : {"batch", "running"}
        Batch-norm statistics used at every point (see :func:`walk`).
    strategy : {"loop", "vmap"}
        How the points were evaluated (with ``strategy="measure"``, the one it picked).
    detrend, derivative : bool
        Spectrum conventions (:func:`netspectra.theory.path_power_spectrum`).
    layers : list of str
        Captured layer calls, in forward order.
    neurons : list of int
        Outputs kept per layer (all, or the seeded subset that fit ``memory_budget``).
    k : ndarray
        Frequencies in cycles per path, ``1 … n_points // 2`` (DC excluded).
    layer_power : ndarray, shape (n_layers, n_directions, n_k)
        Per direction, the power spectrum of each layer's paths, each path normalised by its
        own AC power and the result averaged over the non-constant paths.
    layer_valid : ndarray, shape (n_layers, n_directions)
        Number of non-constant paths behind each spectrum.
    loss, loss_power : ndarray or None
        ``(n_directions, n_points)`` loss paths and their normalised spectra.
    direction_seeds : list of int or None
        Seeds of :func:`~netspectra.probes.random_direction` when the walk drew them.
    direction_names, direction_shapes : list
        Varied parameters and their shapes, in the column order of ``directions``.
    directions : ndarray or None
        ``(n_directions, n_varied)`` float32 directions (None when not kept): with the model
        at the same weights, any path can be recomputed.
    """

    t: np.ndarray
    alpha: float
    batchnorm: str
    strategy: str
    detrend: bool
    derivative: bool
    layers: list
    neurons: list
    k: np.ndarray
    layer_power: np.ndarray
    layer_valid: np.ndarray
    loss: np.ndarray | None
    loss_power: np.ndarray | None
    direction_seeds: list | None
    direction_names: list
    direction_shapes: list
    directions: np.ndarray | None

    def spectrum(self, name: str = "loss") -> np.ndarray:
        """Mean normalised power over directions of ``"loss"`` or of a captured layer."""
        if name == "loss":
            if self.loss_power is None:
                raise NetspectraError("this walk recorded no loss (it had no target)")
            return self.loss_power.mean(axis=0)
        return self.layer_power[self.layers.index(choice(name, self.layers, "layer"))].mean(0)

    def fractal(self, name: str = "loss", *, band: tuple[int, int] | None = None) -> RoughnessFit:
        """The fractal coefficient ``h`` of :meth:`spectrum` (RR §4.3): ``|z_k| ~ k^(-h)``."""
        return fractal_coefficient(self.spectrum(name), self.k, band=band)

    def direction(self, i: int) -> dict[str, torch.Tensor]:
        """Direction ``i`` as a parameter dict (float32, CPU), to recompute its path."""
        if self.directions is None:
            raise NetspectraError("this walk did not keep its directions; use direction_seeds")
        i = at_least(i, -len(self.directions), "i")
        if i >= len(self.directions):
            raise NetspectraError(f"i must be < {len(self.directions)}, the number of "
                                  f"directions; found {i}")
        sizes = [int(np.prod(s)) for s in self.direction_shapes]
        parts = np.split(self.directions[i], np.cumsum(sizes)[:-1])
        return {n: torch.from_numpy(p.reshape(s).copy()) for n, p, s in
                zip(self.direction_names, parts, self.direction_shapes, strict=True)}

    def plot(self, ax=None):
        """Mean normalised spectra per layer on log-log axes, shallow blue to deep red (as RR
        Fig. 3), the loss path's in black; returns the Figure."""
        import matplotlib.pyplot as plt

        fig, ax = figure_axes(ax, (6, 4))
        colours = plt.cm.coolwarm(np.linspace(0, 1, max(len(self.layers), 1)))
        for name, colour in zip(self.layers, colours, strict=False):
            ax.loglog(self.k, np.maximum(self.spectrum(name), 1e-300), color=colour, lw=1)
        if self.loss_power is not None:
            ax.loglog(self.k, np.maximum(self.spectrum(), 1e-300), color="k", lw=2,
                      label="loss")
            ax.legend(fontsize="small")
        weight = "k² · " if self.derivative else ""
        ax.set(xlabel="frequency k (cycles per path)",
               ylabel=f"normalised {weight}power |z_k|²",
               title=f"α = {self.alpha:g}, {len(self.t)} points, batch norm: {self.batchnorm}")
        return fig


def _direction_list(model, directions, seed: int, modules, norm: str):
    if isinstance(directions, (int, np.integer)) and not isinstance(directions, bool):
        n = at_least(directions, 1, "directions")
        seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]
        return [random_direction(model, seed=s, modules=modules, norm=norm) for s in seeds], seeds
    if isinstance(directions, Mapping):
        directions = [directions]
    if not isinstance(directions, Sequence) or not directions:
        raise NetspectraError(
            "directions must be a number of random directions, a direction dict or a "
            f"non-empty list of them; found {type(directions).__name__}"
        )
    return [check_direction(model, d, f"directions[{i}]") for i, d in enumerate(directions)], None


def _walk(model, x, directions, *, target, loss_fn, layers, alpha, n_points, batchnorm, seed,
          modules, norm, max_neurons, memory_budget, strategy, chunk_points, progress,
          shared=()):
    """Validate the arguments and return ``(direction list, seeds, iterator)`` (the engine's
    :func:`._engine.iter_walk`; ``shared`` groups layers recorded at the same positions)."""
    check_input(model, x)
    check_target(target, loss_fn)
    alpha = positive(alpha, "alpha")
    n_points = at_least(n_points, MIN_POINTS, "n_points")
    seed = seed_value(seed)
    flag(progress, "progress")
    count = directions if isinstance(directions, (int, np.integer)) else 1
    if isinstance(directions, Sequence) and not isinstance(directions, (str, bytes)):
        count = len(directions)
    within_operations(max(1, count) * n_points * LOOP_STEP_OPERATIONS, "n_points × directions",
                      f"{n_points} points along each of {count} direction(s)")
    choice(batchnorm, BATCHNORM_MODES, "batchnorm")
    choice(norm, DIRECTION_NORMS, "norm")
    choice(strategy, STRATEGIES, "strategy")
    memory_budget = at_least(memory_budget, 1, "memory_budget")
    if max_neurons is not None:
        max_neurons = at_least(max_neurons, 1, "max_neurons")
    if chunk_points is not None:
        chunk_points = at_least(chunk_points, 1, "chunk_points")
    dirs, seeds = _direction_list(model, directions, seed, modules, norm)
    it = iter_walk(model, x, dirs, target=target, loss_fn=loss_fn, layers=layers, alpha=alpha,
                    n_points=n_points, batchnorm=batchnorm, max_neurons=max_neurons,
                    memory_budget=memory_budget, strategy=strategy, chunk_points=chunk_points,
                    seed=seed, progress=progress, shared=shared)
    return dirs, seeds, it


def walk_paths(
    model: nn.Module,
    x: torch.Tensor,
    directions: int | Mapping[str, torch.Tensor] | Sequence[Mapping[str, torch.Tensor]] = 1,
    *,
    target: torch.Tensor | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    layers: Sequence[str] | str | None = None,
    alpha: float = 1.0,
    n_points: int = 100,
    batchnorm: str = "batch",
    seed: int = 0,
    modules: Sequence[str] | str | None = None,
    norm: str = "unit",
    max_neurons: int | None = DEFAULT_MAX_NEURONS,
    memory_budget: int = _DEFAULT_BUDGET,
    strategy: str = "auto",
    chunk_points: int | None = None,
    progress: bool = True,
) -> WalkPaths:
    """The raw paths of a walk (all directions held in memory); see :func:`walk` for the
    arguments. For custom analyses and checks; :func:`walk` reduces each direction to spectra
    as it goes and so holds one direction at a time."""
    _, _, it = _walk(model, x, directions, target=target, loss_fn=loss_fn, layers=layers,
                     alpha=alpha, n_points=n_points, batchnorm=batchnorm, seed=seed,
                     modules=modules, norm=norm, max_neurons=max_neurons,
                     memory_budget=memory_budget, strategy=strategy, chunk_points=chunk_points,
                     progress=progress)
    # Closed also when this raises: the engine holds no_grad, hooks and the model's
    # saved state until it finishes.
    with closing(it):
        labels, index, _, _ = next(it)
        ts = np.linspace(0.0, 1.0, n_points)
        losses, layer_paths = [], {label: [] for label in labels}
        for i, (loss, paths, store) in enumerate(it):
            check_finite(i, ts, loss, paths, store, target is not None)
            losses.append(loss.cpu().numpy())
            for label, p in paths.items():
                layer_paths[label].append(p.cpu().numpy())
    return WalkPaths(
        t=ts,
        loss=np.stack(losses) if target is not None else None,
        layers={label: np.stack(p) for label, p in layer_paths.items()},
        neuron_index={label: None if i is None else i.cpu().numpy()
                      for label, i in zip(labels, index, strict=True)},
    )


def walk(
    model: nn.Module,
    x: torch.Tensor,
    directions: int | Mapping[str, torch.Tensor] | Sequence[Mapping[str, torch.Tensor]] = 1,
    *,
    target: torch.Tensor | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    layers: Sequence[str] | str | None = None,
    alpha: float = 1.0,
    n_points: int = 100,
    batchnorm: str = "batch",
    seed: int = 0,
    modules: Sequence[str] | str | None = None,
    norm: str = "unit",
    derivative: bool = False,
    detrend: bool = False,
    max_neurons: int | None = DEFAULT_MAX_NEURONS,
    memory_budget: int = _DEFAULT_BUDGET,
    strategy: str = "auto",
    chunk_points: int | None = None,
    keep_directions: bool = True,
    progress: bool = True,
) -> Walk:
    """Walk ``model`` along lines in weight space and return the paths' power spectra (RR
    eq. 1; §4.2–4.3; Figs. 3, 5, 11–17).

    Parameters
    ----------
    model : nn.Module
        Any model whose forward is a function of its parameters (no in-place parameter
        updates). Left exactly as found.
    x : Tensor
        The input batch, moved to the model's device and dtype. RR measures each architecture
        on its own fresh minibatch.
    directions : int, dict or list of dicts
        A number of seeded random directions (:func:`~netspectra.probes.random_direction`
        with ``modules`` and ``norm``; seeds drawn from ``seed`` and saved), or directions
        given as parameter dicts (e.g. :func:`~netspectra.probes.gradient_direction`).
    target : Tensor, optional
        Labels for ``loss_fn(output, target)`` (default cross-entropy): the loss path.
    layers : str or list of str, optional
        Qualified module names whose outputs to record (every call of each).
    alpha : float
        Radius: the weights at ``t`` are ``W + alpha · t · D`` (RR eq. 1 as the prose and
        App. B.3 read it; the extracted formula's ``α⁻¹`` is taken for a typesetting slip).
        RR: 1 (App. A.2); 2 for Figs. 1, 4, 6; 0.1, 1, 10 for Fig. 12.
    n_points : int
        Points per path, ``t_j = j / (n_points - 1)`` (≥ 8; RR: 100, or 200).
    batchnorm : {"batch", "running"}
        ``"batch"`` (RR's setting, "training mode"): batch norm normalises with the statistics
        of the batch at every point; ``"running"``: with its running statistics (eval mode).
        Every other module runs in eval mode either way, so dropout adds no noise to a path.
    seed : int
        Seeds the random directions and the neuron subsets.
    modules : str or list of str, optional
        With a number of directions: vary only the parameters under these modules (RR Fig. 3b,
        App. E). In an ``nn.Sequential`` the children before them run once.
    norm : {"unit", "filter"}
        Normalisation of random directions (see :func:`~netspectra.probes.random_direction`).
    derivative, detrend : bool
        Spectrum conventions of :func:`netspectra.theory.path_power_spectrum`: ``k²``
        weighting (RR Fig. 3b); removal of the endpoint jump (raw is RR's convention).
    max_neurons : int or None
        Record at most this many outputs per layer, a seeded subset (default
        :data:`DEFAULT_MAX_NEURONS`; RR averages over every output, which ``None`` does
        within ``memory_budget``).
    memory_budget : int
        Bytes for the recorded paths of one direction (default 512 MiB): each layer keeps at
        most ``memory_budget / (n_points · itemsize · n_layers)`` outputs, a seeded subset
        when it has more. Also bounds the size of vmap chunks.
    strategy : {"auto", "loop", "vmap", "measure"}
        How points are evaluated: one forward per point, chunks of points batched with vmap,
        or whichever of the two runs faster here, timed on 16 points each of the first
        direction (twice that with the warm-up) and remembered per model, input shape,
        recording and device for the rest of the process. ``"auto"`` (default): the loop on
        CPU, vmap on CUDA (see the module notes). ``"auto"`` and ``"measure"`` take the loop,
        with a warning, for a model that vmap cannot batch; ``"vmap"`` then raises. Both give
        the same paths to float tolerance, not bit for bit, so ``"measure"`` trades
        bit-identical reruns for speed. The result records which one ran.
    chunk_points : int, optional
        Points per vmap chunk (default: as many as ``memory_budget`` allows, and on CPU few
        enough that the widest batched output stays under 32 MiB).
    keep_directions : bool
        Keep the directions in the result (``Walk.directions``); seeds are kept regardless.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Walk
        Spectra per layer and direction, the loss paths and spectra, and the directions.
    """
    for name, value in (("derivative", derivative), ("detrend", detrend),
                        ("keep_directions", keep_directions)):
        flag(value, name)
    dirs, seeds, it = _walk(model, x, directions, target=target, loss_fn=loss_fn,
                            layers=layers, alpha=alpha, n_points=n_points, batchnorm=batchnorm,
                            seed=seed, modules=modules, norm=norm, max_neurons=max_neurons,
                            memory_budget=memory_budget, strategy=strategy,
                            chunk_points=chunk_points, progress=progress)
    # Closed also when this raises: the engine holds no_grad, hooks and the model's
    # saved state until it finishes.
    with closing(it):
        labels, _, kept, used = next(it)
        ts = np.linspace(0.0, 1.0, n_points)
        n_k = n_points // 2
        layer_power = np.zeros((len(labels), len(dirs), n_k))
        layer_valid = np.zeros((len(labels), len(dirs)), dtype=np.int64)
        losses = []
        conventions = {"derivative": derivative, "detrend": detrend}
        for i, (loss, paths, store) in enumerate(it):
            check_finite(i, ts, loss, paths, store, target is not None)
            losses.append(loss.cpu().numpy())
            if not paths:
                continue
            # Layer by layer: each transform's temporaries then stay in cache.
            spectra = [mean_path_power(p, **conventions) for p in paths.values()]
            layer_power[:, i] = torch.stack([p for p, _ in spectra]).cpu().numpy()
            layer_valid[:, i] = torch.stack([c for _, c in spectra]).cpu().numpy()
    k = np.arange(1, n_k + 1)
    loss_power = None
    if target is not None:
        _, loss_power, valid = path_power_spectrum(np.stack(losses), **conventions)
        if not valid.all():
            warn_caller(f"{int((~valid).sum())} loss path(s) are constant; their spectra "
                        "are zero")
    if (layer_valid == 0).any():
        warn_caller("some layers have only constant paths along some directions (dead "
                    "units?); their spectra are zero (see Walk.layer_valid)")
    shapes = {n: list(p.shape) for n, p in model.named_parameters()}
    names = [n for n in shapes if any(n in d for d in dirs)]
    return Walk(
        t=ts, alpha=alpha, batchnorm=batchnorm, strategy=used, detrend=detrend,
        derivative=derivative, layers=labels, neurons=kept, k=k, layer_power=layer_power,
        layer_valid=layer_valid, loss=np.stack(losses) if target is not None else None,
        loss_power=loss_power, direction_seeds=seeds, direction_names=names,
        direction_shapes=[shapes[n] for n in names],
        directions=_flatten(dirs, names, shapes) if keep_directions else None,
    )


def _flatten(dirs, names, shapes) -> np.ndarray:
    """Directions as float32 rows over ``names``, zeros where a direction leaves a parameter
    fixed."""
    rows = np.zeros((len(dirs), sum(int(np.prod(shapes[n])) for n in names)), np.float32)
    for row, d in zip(rows, dirs, strict=True):
        start = 0
        for n in names:
            size = int(np.prod(shapes[n]))
            if n in d:
                row[start:start + size] = d[n].detach().float().cpu().numpy().ravel()
            start += size
    return rows
