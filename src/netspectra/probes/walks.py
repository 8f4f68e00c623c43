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
train/eval flag of every submodule are as before, also when the walk raises. On CUDA the walk
runs in full float32 precision (TF32 off, see :func:`._state.ieee_float32`).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from .._validation import at_least, choice, positive
from .._warnings import warn_caller
from ..errors import NetspectraError
from ..results import Result
from ..theory import RoughnessFit, fractal_coefficient, path_power_spectrum
from ._path_spectra import mean_path_power
from ._state import (
    BATCHNORM_MODES,
    as_model_input,
    ieee_float32,
    measuring_mode,
    modules_named,
    preserved_state,
)
from ._strategy import STRATEGIES, settle, vmap_chunk
from .directions import DIRECTION_NORMS, check_direction, random_direction

__all__ = ["DEFAULT_MAX_NEURONS", "STRATEGIES", "Walk", "WalkPaths", "walk", "walk_paths"]

#: Fewest points per path: a power-law fit needs a few frequency bins.
MIN_POINTS = 8

#: Outputs recorded per layer by default: a seeded subset of this size already pins the mean
#: spectrum down (benchmarks/walks.py: |Δh| < 0.01 against every output of a Toy-CNN layer),
#: at a fraction of the cost of transforming every path.
DEFAULT_MAX_NEURONS = 4096

_DEFAULT_BUDGET = 512 * 2**20
# Transient memory of a forward pass without autograd in units of its largest module output
# (that output, the input it came from, a temporary), used to size vmap chunks.
_FORWARD_OVERHEAD = 3


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
        sizes = [int(np.prod(s)) for s in self.direction_shapes]
        parts = np.split(self.directions[i], np.cumsum(sizes)[:-1])
        return {n: torch.from_numpy(p.reshape(s).copy()) for n, p, s in
                zip(self.direction_names, parts, self.direction_shapes, strict=True)}

    def plot(self, ax=None):
        """Mean normalised spectra per layer on log-log axes, shallow blue to deep red (as RR
        Fig. 3), the loss path's in black; returns the Figure."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4)) if ax is None else (ax.figure, ax)
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


def _split(model: nn.Module, varied: set[str]) -> tuple[nn.Module | None, nn.Module]:
    """``(prefix, rest)`` of a plain ``nn.Sequential`` whose first children hold no varied
    parameter; ``(None, model)`` otherwise."""
    if not isinstance(model, nn.Sequential) or type(model).forward is not nn.Sequential.forward:
        return None, model
    children = list(model.named_children())
    first = next(i for i, (name, _) in enumerate(children)
                 if any(p.startswith(f"{name}.") for p in varied))
    if first == 0:
        return None, model
    head, tail = OrderedDict(children[:first]), OrderedDict(children[first:])
    return nn.Sequential(head), nn.Sequential(tail)


class _Recorder:
    """Forward hooks that collect the outputs of the chosen modules, per call: whole, or once
    ``takes`` is set, the part each call's :class:`_Take` keeps. Taking the part inside the
    hook lets the forward free each whole output as it goes, as an unrecorded forward does;
    holding them all made recording every unit of a Toy-CNN cost 1.4× a loss-only walk."""

    def __init__(self, modules: dict[nn.Module, str]) -> None:
        self.names = modules
        self.takes: list[_Take] | None = None
        self.reset()

    def __call__(self, module, _inputs, output) -> None:
        if isinstance(output, torch.Tensor):
            name = self.names[module]
            calls = self.calls.get(name, 0)
            self.calls[name] = calls + 1
            self.labels.append(name if calls == 0 else f"{name}#{calls}")
            if self.takes is not None:
                output = self.takes[len(self.outputs)](output)
            self.outputs.append(output)

    def reset(self) -> None:
        self.outputs: list[torch.Tensor] = []
        self.labels: list[str] = []
        self.calls: dict[str, int] = {}


def _chosen_modules(model: nn.Module, prefix: nn.Module | None,
                    layers: Sequence[str] | str | None) -> dict[nn.Module, str]:
    if layers is None:
        return {}
    named = modules_named(model, layers)
    fixed = set() if prefix is None else set(prefix.modules())
    before = [name for name, m in named.items() if m in fixed]
    if before:
        warn_caller(f"layers {before} lie before every varied parameter: their paths are "
                    "constant and are left out")
    return {m: name for name, m in named.items() if m not in fixed}


def _subset(numel: int, keep: int, seed: int, device) -> torch.Tensor | None:
    if keep >= numel:
        return None
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(numel, generator=gen)[:keep].sort().values.to(device)


def _iter_walk(model, x, directions, *, target, loss_fn, layers, alpha, n_points, batchnorm,
               max_neurons, memory_budget, strategy, chunk_points, seed, progress
               ) -> Iterator[tuple]:
    """Yield, per direction, ``(loss path, {label: (n_points, n_kept) view}, the buffer under
    those views or None)``; the first item yielded is the setup ``(labels, neuron index,
    neurons kept, strategy)``."""
    varied = set().union(*directions)
    prefix, rest = _split(model, varied)
    recorder = _Recorder(_chosen_modules(model, prefix, layers))
    if not recorder.names and target is None:
        raise NetspectraError("nothing to record: give a target (for the loss) or layers")
    handles = [m.register_forward_hook(recorder) for m in recorder.names]
    try:
        with preserved_state(model), ieee_float32(), torch.no_grad():
            measuring_mode(model, batchnorm)
            h = as_model_input(model, x)
            target = None if target is None else target.to(h.device)
            if prefix is not None:
                h = prefix(h)
            channels_last = h.dim() == 4 and h.device.type == "cpu"
            if channels_last:
                h = h.contiguous(memory_format=torch.channels_last)
            out, widest = _widest_forward(rest, h)
            if recorder.names and not recorder.outputs:
                raise NetspectraError(f"none of the layers {sorted(recorder.names.values())} "
                                      "produced a tensor during the forward pass")
            labels = list(recorder.labels)
            sizes = [o.numel() for o in recorder.outputs]
            itemsize = out.element_size()
            share = memory_budget // max(1, n_points * itemsize * max(len(sizes), 1))
            cap = share if max_neurons is None else min(share, max_neurons)
            index = [_subset(n, max(1, cap), seed + i, h.device) for i, n in enumerate(sizes)]
            kept = [n if i is None else len(i) for n, i in zip(sizes, index, strict=True)]
            recorder.takes = [_Take(o, i) for o, i in zip(recorder.outputs, index, strict=True)]
            base = {n: _layout(p.detach(), channels_last) for n, p in model.named_parameters()
                    if n in varied}
            moved = sum(base[n].numel() for n in varied)
            point_bytes = itemsize * (sum(sizes) + _FORWARD_OVERHEAD * widest + moved)
            chunks = {"loop": 1, "vmap": chunk_points or vmap_chunk(
                n_points, memory_budget // point_bytes, itemsize * widest, h.device)}
            buffers = dict(rest.named_buffers())
            # functional_call's check for tied weights costs as much per point as the moved
            # weights themselves; it is only needed when the model ties some.
            tied = len(list(model.named_parameters(remove_duplicate=False))) > len(
                list(model.named_parameters()))
            run = _point_runner(rest, h, recorder, target, loss_fn, tied)
            ts = torch.linspace(0, 1, n_points, dtype=out.dtype, device=h.device)

            def evaluate(how: str, d: dict, points: torch.Tensor, bar) -> tuple:
                return _one_direction(run, base, {n: _layout(v, channels_last)
                                                  for n, v in d.items()},
                                      points, alpha, chunks[how], how, buffers, batchnorm,
                                      labels, bar)

            strategy = settle(strategy, evaluate, directions[0], ts, chunk=chunks["vmap"],
                              key=lambda: (repr(rest), tuple((n, tuple(base[n].shape))
                                                             for n in sorted(varied)),
                                           tuple(h.shape), h.dtype, str(h.device), tuple(kept),
                                           chunks["vmap"], batchnorm, target is None))
            yield labels, index, kept, strategy
            bar = tqdm(total=len(directions) * n_points, desc="walk", unit="point",
                       disable=not progress, leave=False)
            with bar:
                for d in directions:
                    yield evaluate(strategy, d, ts, bar)
    finally:
        for handle in handles:
            handle.remove()


def _widest_forward(module: nn.Module, h: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``(module(h), elements of the largest tensor any submodule returned)``: without
    autograd, intermediate outputs are freed as the forward goes on, so the largest one (not
    their sum) sets a point's transient memory."""
    widest = h.numel()

    def measure(_module, _inputs, output) -> None:
        nonlocal widest
        if isinstance(output, torch.Tensor):
            widest = max(widest, output.numel())

    handles = [m.register_forward_hook(measure) for m in module.modules()]
    try:
        return module(h), widest
    finally:
        for handle in handles:
            handle.remove()


def _layout(t: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """4-D tensors in channels-last when the loop runs so: oneDNN then skips a reorder of
    every moved convolution weight at every point."""
    if channels_last and t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    return t


class _Take:
    """Picks a layer's recorded outputs at every point: all of them (in logical order), or
    the subset ``index`` (logical flat indices). The subset is read in the memory order of
    the reference output (its dimensions by falling stride), through positions computed
    once: a channels-last output is then a view, not first copied into logical order. A point
    whose output is laid out otherwise still gets the right values, through a copy."""

    def __init__(self, output: torch.Tensor, index: torch.Tensor | None) -> None:
        self.index = index
        self.order = sorted(range(output.dim()), key=lambda d: -output.stride(d))
        if index is not None:
            shape = [output.shape[d] for d in self.order]
            place = torch.ones(len(shape), dtype=torch.long)
            for d in range(len(shape) - 2, -1, -1):
                place[d] = place[d + 1] * shape[d + 1]
            coords = torch.unravel_index(index, output.shape)
            self.positions = sum(coords[d] * place[k] for k, d in enumerate(self.order))

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        if self.index is None:
            return output.reshape(-1)
        # index_select: 2.5× faster than advanced indexing on a few thousand elements
        return output.permute(self.order).reshape(-1).index_select(0, self.positions)


def _point_runner(rest, h, recorder, target, loss_fn, tied: bool) -> Callable:
    """``run(params, buffers) -> (loss, [captured])`` for one point (vmap-able)."""

    def run(params, buffers):
        recorder.reset()
        out = functional_call(rest, (params, buffers), (h,), strict=False, tie_weights=tied)
        kept = list(recorder.outputs)
        loss = loss_fn(out, target) if target is not None else out.new_zeros(())
        return loss, kept

    return run


def _one_direction(run, base, direction, ts, alpha, chunk, strategy, buffers, batchnorm,
                   labels, bar):
    n_points = len(ts)
    starts, steps = [base[n] for n in direction], list(direction.values())
    losses = torch.empty(n_points, dtype=ts.dtype, device=ts.device)
    scaled = ts * alpha
    # Read once: a scalar read per point would wait for the GPU at every point.
    radii = scaled.tolist()
    # One buffer for every layer's paths, written in place (no concatenated temporary).
    store: torch.Tensor | None = None
    for start in range(0, n_points, chunk):
        tc = scaled[start:start + chunk]
        if strategy == "loop":
            moved = torch._foreach_add(starts, steps, alpha=radii[start])
            params = dict(zip(direction, moved, strict=True))
            # The model's own buffers need no swapping in: 2.8 µs per tensor and point.
            loss, kept = run(params, {})
            loss, kept = loss[None], [v[None] for v in kept]
        else:
            params = {n: base[n] + tc.view(-1, *[1] * d.dim()) * d for n, d in direction.items()}
            # Batch-norm running statistics are updated in place along the way: each point
            # gets its own copy, so vmap never writes one tensor from several points.
            own = {n: b.expand(len(tc), *b.shape).clone() for n, b in buffers.items()} \
                if batchnorm == "batch" else {}
            loss, kept = vmap(run, in_dims=(0, 0 if own else None), randomness="same")(params,
                                                                                      own)
        if store is None and kept:
            store = losses.new_empty(n_points, sum(v.shape[1] for v in kept))
            ends = np.cumsum([v.shape[1] for v in kept])
            columns = [slice(e - v.shape[1], e) for v, e in zip(kept, ends, strict=True)]
        losses[start:start + len(tc)] = loss
        if kept:
            for v, c in zip(kept, columns, strict=True):
                store[start:start + len(tc), c] = v
        bar.update(len(tc))
    paths = {} if store is None else {
        label: store[:, c] for label, c in zip(labels, columns, strict=True)}
    return losses, paths, store


def _check_finite(i: int, ts, losses, paths, store, with_loss: bool) -> None:
    # A finite sum proves every value finite in one pass without a mask; an infinite one
    # may be an overflow of finite values, which the search below then passes.
    if bool(losses.sum().isfinite()) and (store is None or bool(store.sum().isfinite())):
        return
    named = ({"loss": losses[:, None]} if with_loss else {}) | paths
    for name, values in named.items():
        bad = ~torch.isfinite(values).all(dim=1)
        if bad.any():
            j = int(bad.nonzero()[0])
            raise NetspectraError(
                f"non-finite {name} along direction {i} at point {j} (t = {float(ts[j]):.4g}); "
                "a smaller alpha or float64 may help"
            )


def _walk(model, x, directions, *, target, loss_fn, layers, alpha, n_points, batchnorm, seed,
          modules, norm, max_neurons, memory_budget, strategy, chunk_points, progress):
    """Validate the arguments and return ``(direction list, seeds, iterator)``."""
    if not isinstance(model, nn.Module):
        raise NetspectraError(f"model must be an nn.Module; found {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or x.numel() == 0:
        raise NetspectraError("x must be a non-empty tensor (a batch of inputs)")
    if target is not None and not isinstance(target, torch.Tensor):
        raise NetspectraError(f"target must be a tensor; found {type(target).__name__}")
    alpha = positive(alpha, "alpha")
    n_points = at_least(n_points, MIN_POINTS, "n_points")
    choice(batchnorm, BATCHNORM_MODES, "batchnorm")
    choice(norm, DIRECTION_NORMS, "norm")
    choice(strategy, STRATEGIES, "strategy")
    memory_budget = at_least(memory_budget, 1, "memory_budget")
    if max_neurons is not None:
        max_neurons = at_least(max_neurons, 1, "max_neurons")
    if chunk_points is not None:
        chunk_points = at_least(chunk_points, 1, "chunk_points")
    dirs, seeds = _direction_list(model, directions, seed, modules, norm)
    it = _iter_walk(model, x, dirs, target=target, loss_fn=loss_fn, layers=layers, alpha=alpha,
                    n_points=n_points, batchnorm=batchnorm, max_neurons=max_neurons,
                    memory_budget=memory_budget, strategy=strategy, chunk_points=chunk_points,
                    seed=seed, progress=progress)
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
    labels, index, _, _ = next(it)
    ts = np.linspace(0.0, 1.0, n_points)
    losses, layer_paths = [], {label: [] for label in labels}
    for i, (loss, paths, store) in enumerate(it):
        _check_finite(i, ts, loss, paths, store, target is not None)
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
    dirs, seeds, it = _walk(model, x, directions, target=target, loss_fn=loss_fn,
                            layers=layers, alpha=alpha, n_points=n_points, batchnorm=batchnorm,
                            seed=seed, modules=modules, norm=norm, max_neurons=max_neurons,
                            memory_budget=memory_budget, strategy=strategy,
                            chunk_points=chunk_points, progress=progress)
    labels, _, kept, used = next(it)
    ts = np.linspace(0.0, 1.0, n_points)
    n_k = n_points // 2
    layer_power = np.zeros((len(labels), len(dirs), n_k))
    layer_valid = np.zeros((len(labels), len(dirs)), dtype=np.int64)
    losses = []
    conventions = {"derivative": derivative, "detrend": detrend}
    for i, (loss, paths, store) in enumerate(it):
        _check_finite(i, ts, loss, paths, store, target is not None)
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
            warnings.warn(f"{int((~valid).sum())} loss path(s) are constant; their spectra "
                          "are zero", stacklevel=2)
    if (layer_valid == 0).any():
        warnings.warn("some layers have only constant paths along some directions (dead "
                      "units?); their spectra are zero (see Walk.layer_valid)", stacklevel=2)
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
