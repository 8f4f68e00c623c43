"""The engine of weight-space walks (:mod:`netspectra.probes.walks`): the setup forward,
memory sizing, the choice of strategy and the per-direction evaluation of the points.

Private: the documented API (:func:`~netspectra.probes.walk`,
:func:`~netspectra.probes.walk_paths` and their results) lives in
:mod:`netspectra.probes.walks`, and the measurements behind the choices made here in its
notes and in README *Speed of walks*.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from .._validation import MAX_BYTES, within_bytes
from ..errors import NetspectraError
from ._recorder import Recorder, Take, chosen_modules, subsets
from ._state import (
    as_model_input,
    forward_errors,
    ieee_float32,
    measuring_mode,
    preserved_state,
)
from ._strategy import settle, vmap_chunk

__all__ = ["check_finite", "iter_walk"]

# Transient memory of a forward pass without autograd in units of its largest module output
# (that output, the input it came from, a temporary), used to size vmap chunks.
_FORWARD_OVERHEAD = 3


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


def iter_walk(model, x, directions, *, target, loss_fn, layers, alpha, n_points, batchnorm,
              max_neurons, memory_budget, strategy, chunk_points, seed, progress,
              shared: Sequence[Sequence[str]] = ()) -> Iterator[tuple]:
    """Yield, per direction, ``(loss path, {label: (n_points, n_kept) view}, the buffer under
    those views or None)``; the first item yielded is the setup ``(labels, neuron index,
    neurons kept, strategy)``. Each group of ``shared`` names modules among ``layers`` that
    are called once each and output one shape; they are recorded at the same positions."""
    varied = set().union(*directions)
    prefix, rest = _split(model, varied)
    recorder = Recorder(chosen_modules(model, prefix, layers))
    if not recorder.names and target is None:
        raise NetspectraError("nothing to record: give a target (for the loss) or layers")
    handles = [m.register_forward_hook(recorder) for m in recorder.names]
    try:
        with preserved_state(model), ieee_float32(), torch.no_grad():
            measuring_mode(model, batchnorm)
            h = as_model_input(model, x)
            target = None if target is None else target.to(h.device)
            with forward_errors(model, x):
                if prefix is not None:
                    h = prefix(h)
                channels_last = h.dim() == 4 and h.device.type == "cpu"
                if channels_last:
                    h = h.contiguous(memory_format=torch.channels_last)
                out, widest = _widest_forward(rest, h)
            _check_loss(loss_fn, out, target)
            if recorder.names and not recorder.outputs:
                raise NetspectraError(f"none of the layers {sorted(recorder.names.values())} "
                                      "produced a tensor during the forward pass")
            labels = list(recorder.labels)
            _check_shared(labels, shared)
            sizes = [o.numel() for o in recorder.outputs]
            itemsize = out.element_size()
            share = memory_budget // max(1, n_points * itemsize * max(len(sizes), 1))
            cap = share if max_neurons is None else min(share, max_neurons)
            index = subsets(recorder.outputs, labels, max(1, cap), seed, shared, h.device)
            kept = [n if i is None else len(i) for n, i in zip(sizes, index, strict=True)]
            within_bytes(n_points * itemsize * sum(kept), "memory_budget",
                         "the recorded paths of one direction")
            recorder.takes = [Take(o, i) for o, i in zip(recorder.outputs, index, strict=True)]
            base = {n: _layout(p.detach(), channels_last) for n, p in model.named_parameters()
                    if n in varied}
            moved = sum(base[n].numel() for n in varied)
            point_bytes = itemsize * (sum(sizes) + _FORWARD_OVERHEAD * widest + moved)
            chunks = {"loop": 1, "vmap": chunk_points or vmap_chunk(
                n_points, min(memory_budget, MAX_BYTES) // point_bytes, itemsize * widest,
                h.device)}
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


def _check_loss(loss_fn, out: torch.Tensor, target: torch.Tensor | None) -> None:
    """Refuse, before the walk, a ``target`` that ``loss_fn`` cannot take with the model's
    output, or a ``loss_fn`` that does not return one number."""
    if target is None:
        return
    try:
        loss = loss_fn(out, target)
    except NetspectraError:
        raise
    except (RuntimeError, ValueError, IndexError, TypeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NetspectraError(f"target of shape {tuple(target.shape)} does not fit the loss "
                              f"of the model's output of shape {tuple(out.shape)}: {reason}"
                              ) from err
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise NetspectraError("loss_fn must return a single number (a 0-dim tensor); found "
                              f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else loss!r}")


def _check_shared(labels: list[str], shared: Sequence[Sequence[str]]) -> None:
    """Each module of a group in ``shared`` must be recorded exactly once per forward."""
    for group in shared:
        for name in group:
            calls = sum(label.split("#")[0] == name for label in labels)
            if calls != 1:
                raise NetspectraError(
                    f"paired layer {name!r} must output one tensor per forward pass after the "
                    f"first varied parameter; it output {calls}"
                )


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


def check_finite(i: int, ts, losses, paths, store, with_loss: bool) -> None:
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
