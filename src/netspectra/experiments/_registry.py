"""The experiment registry: one module per paper figure/table registers itself here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .._validation import choice
from ..results import atomic_write_json

__all__ = ["Experiment", "Option", "experiment", "registry", "reproduce"]


@dataclass(frozen=True)
class Option:
    """An extra command-line option of one experiment (``netspectra reproduce NAME --flag``)."""

    flag: str
    help: str
    type: Callable[[str], Any] = str
    default: Any = None
    nargs: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Experiment:
    """A reproducible experiment.

    ``run(out, quick=..., seed=..., **options)`` writes its figures and data into ``out`` and
    returns the headline numbers, which :func:`reproduce` stores in ``out/result.json``.
    """

    name: str
    reproduces: str
    summary: str
    run: Callable[..., dict[str, Any]]
    options: tuple[Option, ...] = field(default=())


_REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, *, reproduces: str, summary: str, options: tuple[Option, ...] = ()):
    """Decorator registering ``run`` as the experiment ``name``."""

    def register(run: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        _REGISTRY[name] = Experiment(name, reproduces, summary, run, tuple(options))
        return run

    return register


def registry() -> dict[str, Experiment]:
    """All experiments, by name, in registration order."""
    return dict(_REGISTRY)


def reproduce(
    name: str,
    out: str | Path = "netspectra-out",
    *,
    quick: bool = False,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Run experiment ``name`` into ``out/name`` and write ``out/name/result.json``.

    Returns the content of result.json: the experiment's headline numbers plus ``experiment``,
    ``seed``, ``quick``, ``version`` and ``seconds`` (wall time).
    """
    exp = _REGISTRY[choice(name, _REGISTRY, "experiment")]
    directory = Path(out) / name
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    headline = exp.run(directory, quick=quick, seed=seed, **options)
    result = {
        "experiment": name,
        "reproduces": exp.reproduces,
        "seed": seed,
        "quick": quick,
        "version": __version__,
        **headline,
    }
    result.setdefault("seconds", time.perf_counter() - start)
    atomic_write_json(directory / "result.json", result)
    return result
