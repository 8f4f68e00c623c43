"""The experiment registry: one module per paper figure/table registers itself here."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .._validation import choice, seed_value
from ..errors import NetspectraError
from ..results import atomic_write_json, remove_stray_temporaries, to_jsonable

__all__ = [
    "EXECUTION_OPTIONS",
    "Experiment",
    "Option",
    "experiment",
    "registry",
    "reproduce",
    "run_settings",
]


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

    if name == "all":
        raise NetspectraError("'all' names every experiment (reproduce_all); choose another name")

    def register(run: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        _REGISTRY[name] = Experiment(name, reproduces, summary, run, tuple(options))
        return run

    return register


#: Options that decide how a run is executed, not its numbers (a sweep's units are the same
#: whatever the workers): result.json does not count them among the run's settings.
EXECUTION_OPTIONS = frozenset({"workers", "threads", "ray", "cpus_per_unit", "gpus_per_unit"})


def run_settings(exp: Experiment, *, quick: bool, seed: int,
                 options: dict[str, Any]) -> dict[str, Any]:
    """What decides a run's numbers, as result.json records it: seed, quick, the package
    version and the options given other than their defaults and :data:`EXECUTION_OPTIONS`.
    Two runs with equal settings give equal results (timings aside)."""
    defaults = {opt.dest: opt.default for opt in exp.options}
    chosen = {k: v for k, v in options.items()
              if v is not None and v != defaults.get(k) and k not in EXECUTION_OPTIONS}
    return {"seed": seed, "quick": quick, "version": __version__,
            "options": json.loads(json.dumps(to_jsonable(chosen), sort_keys=True))}


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

    ``seed`` is an integer in ``[0, 2**64 − 1]`` (torch's seed range). The output folder is
    checked before any work: a path that cannot hold the results raises
    :class:`~netspectra.errors.NetspectraError`. Runs into a folder that holds earlier runs
    reuse only the units computed with the same seed and settings, so the result equals that
    of the same run into a fresh folder. This function leaves your process as found (thread
    count, allocator): glibc's raised allocator thresholds, which speed up training, are set
    only in worker processes and in the ``netspectra`` command's own process
    (``_sweep.tune_allocator``).

    Returns the content of result.json: the experiment's headline numbers plus ``experiment``,
    ``reproduces``, the run's settings (``seed``, ``quick``, ``version``, ``options``: see
    :func:`run_settings`) and ``seconds`` (wall time).
    """
    exp = _REGISTRY[choice(name, _REGISTRY, "experiment")]
    seed = seed_value(seed)
    directory = _output_folder(out, name)
    start = time.perf_counter()
    headline = exp.run(directory, quick=quick, seed=seed, **options)
    result = {
        "experiment": name,
        "reproduces": exp.reproduces,
        **run_settings(exp, quick=quick, seed=seed, options=options),
        **headline,
    }
    result.setdefault("seconds", time.perf_counter() - start)
    atomic_write_json(directory / "result.json", result)
    return result


def _output_folder(out: str | Path, name: str) -> Path:
    """``out/name``, created, writable and free of stray temporary files, with no folder in
    the way of its ``result.json``; else a NetspectraError naming ``out``."""
    directory = Path(out) / name
    try:
        for path in (Path(out), directory):
            if path.exists() and not path.is_dir():
                raise NetspectraError(f"out must be a folder; found {str(path)!r}, which is "
                                      "not one")
        if (directory / "result.json").is_dir():
            raise NetspectraError(f"out holds a folder {str(directory / 'result.json')!r} "
                                  "where the result file goes")
        directory.mkdir(parents=True, exist_ok=True)
        remove_stray_temporaries(directory)
        probe = directory / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise NetspectraError(f"out {str(out)!r} cannot hold the results: "
                              f"{exc.strerror or exc}") from exc
    return directory
