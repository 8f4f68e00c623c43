"""Correlation of the summands of additions along weight-space walks, per frequency band
(Ringing ReLUs §3.5 FDSA, §4.4, Fig. 6), for any model whose summands are module outputs.

The walk engine records the outputs of both modules of each pair at the same seeded
positions (image, channel, pixel) at every point; each pair of paths is then correlated per
Gaussian frequency band by :func:`netspectra.theory.band_correlation`, one direction at a
time, so only one direction's paths are held.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._plotting import figure_axes
from .._validation import flag
from ..errors import NetspectraError
from ..results import Result
from ..theory.band_correlation import DEFAULT_BANDS, band_centres, band_correlation
from ._engine import check_finite
from .walks import DEFAULT_MAX_NEURONS, _walk

__all__ = ["BranchCorrelation", "branch_correlation"]

_DEFAULT_BUDGET = 512 * 2**20


@dataclass(frozen=True)
class BranchCorrelation(Result):
    """Mean absolute correlation of paired paths per frequency band (RR Fig. 6).

    Attributes
    ----------
    pairs : list of [str, str]
        The module pairs, the two summands of each addition.
    band_centres : ndarray, shape (n_bands,)
        Band centres in cycles per path, low to high
        (:func:`~netspectra.theory.band_centres`).
    band_sigma : float
        Standard deviation of every band's Gaussian gain, cycles per path.
    abs_correlation : ndarray, shape (n_bands,)
        ``|correlation|`` averaged over positions, then over pairs and directions (each pair
        and direction weighs the same), per band.
    pair_abs_correlation : ndarray, shape (n_pairs, n_directions, n_bands)
        ``|correlation|`` averaged over the positions of each pair, per direction and band.
    pair_correlation : ndarray, shape (n_pairs, n_directions, n_bands)
        The signed correlation averaged likewise (its sign: whether the summands move
        together).
    pair_valid : ndarray, shape (n_pairs, n_directions, n_bands)
        Positions behind each mean: those where neither path is constant in the band.
    neurons : list of int
        Positions recorded per pair (all, or the seeded subset shared by both summands).
    alpha, n_points, batchnorm, strategy, detrend, direction_seeds
        The walk (see :func:`~netspectra.probes.walk`) and the band convention.
    """

    pairs: list
    band_centres: np.ndarray
    band_sigma: float
    abs_correlation: np.ndarray
    pair_abs_correlation: np.ndarray
    pair_correlation: np.ndarray
    pair_valid: np.ndarray
    neurons: list
    alpha: float
    n_points: int
    batchnorm: str
    strategy: str
    detrend: bool
    direction_seeds: list | None

    def plot(self, ax=None):
        """Bars of :attr:`abs_correlation` per band, low to high frequency (as RR Fig. 6),
        with the spread over pairs as error bars; returns the Figure."""
        fig, ax = figure_axes(ax, (6, 3.5))
        per_pair = self.pair_abs_correlation.mean(axis=1)
        bands = np.arange(len(self.band_centres))
        ax.bar(bands, self.abs_correlation, yerr=per_pair.std(axis=0), capsize=2)
        ax.set_xticks(bands, [f"{c:.3g}" for c in self.band_centres])
        ax.set(xlabel="band centre (cycles per path)", ylabel="mean |correlation|",
               title=f"{len(self.pairs)} pairs, α = {self.alpha:g}, {self.n_points} points",
               ylim=(0, 1))
        return fig


def _check_pairs(pairs) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or not pairs:
        raise NetspectraError(
            "pairs must be a non-empty list of (module name, module name) pairs, the summands "
            f"of additions; found {pairs!r:.80}"
        )
    checked, seen = [], set()
    for i, pair in enumerate(pairs):
        if (isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2
                or not all(isinstance(n, str) for n in pair) or pair[0] == pair[1]):
            raise NetspectraError(
                f"pairs[{i}] must be two different module names; found {pair!r:.80}")
        if seen & set(pair):
            raise NetspectraError(
                f"pairs[{i}] names a module already paired; each module may be in one pair: "
                f"{pair!r}")
        seen |= set(pair)
        checked.append((pair[0], pair[1]))
    return checked


def _correlate(paths: dict[str, torch.Tensor], pairs, n_bands: int, detrend: bool):
    """Per pair: mean |corr|, mean corr and count of valid positions, each (n_bands,)."""
    rows = []
    for first, second in pairs:
        corr, valid = band_correlation(paths[first].cpu().numpy(),
                                       paths[second].cpu().numpy(), n_bands=n_bands, axis=0,
                                       detrend=detrend)
        count = valid.sum(axis=0)
        scale = 1.0 / np.maximum(count, 1)
        rows.append((np.abs(corr).sum(axis=0) * scale, corr.sum(axis=0) * scale, count))
    return [np.stack(r) for r in zip(*rows, strict=True)]


def branch_correlation(
    model: nn.Module,
    x: torch.Tensor,
    pairs: Sequence[tuple[str, str]],
    directions: int | Mapping[str, torch.Tensor] | Sequence[Mapping[str, torch.Tensor]] = 1,
    *,
    n_bands: int = DEFAULT_BANDS,
    detrend: bool = True,
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
) -> BranchCorrelation:
    """Correlation per frequency band between the two summands of additions along walks in
    weight space (RR §3.5 FDSA, §4.4, Fig. 6).

    For each direction the model is walked as by :func:`~netspectra.probes.walk` and the
    outputs of both modules of every pair are recorded at the same positions; for each
    position the two paths are band-passed with Gaussian filters in the Fourier domain and
    correlated per band (:func:`netspectra.theory.band_correlation`).

    Parameters
    ----------
    model : nn.Module
        Any model; left exactly as found.
    x : Tensor
        The input batch.
    pairs : list of (str, str)
        Qualified module names whose outputs are the two summands of one addition, each
        called once per forward pass and of one output shape; a module may be in one pair.
        For a :class:`~netspectra.models.CifarResNet`, ``model.summand_pairs``.
    directions
        As in :func:`~netspectra.probes.walk`. RR Fig. 6: 50 random directions.
    n_bands : int
        Gaussian bands tiling the path spectrum, low to high
        (:func:`~netspectra.theory.band_centres`); at most ``n_points // 2``.
    detrend : bool
        Subtract each path's line through its ends first (default): the summands share
        their trends, whose endpoint jump would otherwise correlate every band.
    alpha, n_points, batchnorm, seed, modules, norm, strategy, chunk_points, progress
        As in :func:`~netspectra.probes.walk`. RR Fig. 6: ``alpha=2``, ``n_points=200``,
        training-mode batch norm.
    max_neurons : int or None
        Positions recorded per pair, a seeded subset shared by both summands (default
        :data:`~netspectra.probes.walks.DEFAULT_MAX_NEURONS`; RR samples 10 % of the
        outputs); ``None``: all that fit ``memory_budget``.
    memory_budget : int
        Bytes for the recorded paths of one direction, both summands of every pair included.

    Returns
    -------
    BranchCorrelation
        Mean absolute correlation per band, per pair and direction, and the band centres.
    """
    pairs = _check_pairs(pairs)
    flag(detrend, "detrend")
    names = [name for pair in pairs for name in pair]
    _, seeds, it = _walk(model, x, directions, target=None, loss_fn=None, layers=names,
                         alpha=alpha, n_points=n_points, batchnorm=batchnorm, seed=seed,
                         modules=modules, norm=norm, max_neurons=max_neurons,
                         memory_budget=memory_budget, strategy=strategy,
                         chunk_points=chunk_points, progress=progress, shared=pairs)
    centres, sigma = band_centres(n_points, n_bands)
    # Closed also when this raises: the engine holds no_grad, hooks and the model's
    # saved state until it finishes.
    with closing(it):
        labels, _, kept, used = next(it)
        ts = np.linspace(0.0, 1.0, n_points)
        per_direction = []
        for i, (loss, paths, store) in enumerate(it):
            check_finite(i, ts, loss, paths, store, False)
            per_direction.append(_correlate(paths, pairs, n_bands, detrend))
    abs_mean, signed, count = (np.stack(v, axis=1) for v in zip(*per_direction, strict=True))
    return BranchCorrelation(
        pairs=[list(p) for p in pairs], band_centres=centres, band_sigma=sigma,
        abs_correlation=_average(abs_mean, count, centres), pair_abs_correlation=abs_mean,
        pair_correlation=signed, pair_valid=count,
        neurons=[kept[labels.index(first)] for first, _ in pairs], alpha=float(alpha),
        n_points=n_points, batchnorm=batchnorm, strategy=used, detrend=bool(detrend),
        direction_seeds=seeds,
    )


def _average(abs_mean: np.ndarray, count: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Mean over the (pair, direction) entries that hold a valid position, per band."""
    held = count > 0
    empty = ~held.any(axis=(0, 1))
    if empty.any():
        band = int(np.argmax(empty))
        raise NetspectraError(
            f"every paired path is constant in band {band} (centre {centres[band]:.3g} cycles "
            "per path) along every direction: do the walked parameters reach the pairs?"
        )
    return (abs_mean * held).sum(axis=(0, 1)) / held.sum(axis=(0, 1))
