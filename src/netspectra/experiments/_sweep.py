"""Resumable sweeps of seeded, independent units of work.

Each unit (a repetition, an initialisation, a direction …) is a pure function of its key and
seed. Its arrays are written atomically to ``directory/<key>.npz`` as soon as it finishes, so
an interrupted sweep resumes where it stopped, and a unit run alone equals the same unit
inside a full run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import NetspectraError
from ..results import atomic_write_npz

__all__ = ["run_units"]

_KEY = re.compile(r"^[A-Za-z0-9_.=-]+$")


def run_units(
    directory: str | Path,
    keys: Sequence[str],
    unit: Callable[[str], Mapping[str, np.ndarray | float]],
    *,
    desc: str = "units",
    progress: bool = True,
) -> dict[str, dict[str, np.ndarray]]:
    """Run ``unit(key)`` for every key not already done in ``directory``; return all results.

    Parameters
    ----------
    directory : path
        Where each unit's ``<key>.npz`` lives; created if needed.
    keys : sequence of str
        Unit names (letters, digits, ``_ . = -``), e.g. ``"relu-rep007"``.
    unit : callable
        Computes one unit from its key and returns named arrays/numbers. It must be
        deterministic in its key (seed it from the key).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for key in keys:
        if not _KEY.match(key):
            raise NetspectraError(f"unit key {key!r} must match {_KEY.pattern}")
    results: dict[str, dict[str, np.ndarray]] = {}
    todo = []
    for key in keys:
        path = directory / f"{key}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                results[key] = {k: data[k] for k in data.files}
        else:
            todo.append(key)
    for key in tqdm(todo, desc=desc, disable=not progress or not todo, leave=False):
        arrays = {k: np.asarray(v) for k, v in unit(key).items()}
        atomic_write_npz(directory / f"{key}.npz", arrays)
        results[key] = arrays
    return {key: results[key] for key in keys}
