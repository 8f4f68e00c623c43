"""Saving results: atomic files, and the base class of the frozen result dataclasses.

A result dataclass holds data, saves itself and draws itself; it never computes. Its array
fields go to ``arrays.npz`` and everything else to ``result.json`` in one directory, each file
written atomically (temporary file + ``os.replace``), so an interrupted run never leaves a torn
file behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

__all__ = ["Result", "atomic_write_json", "atomic_write_npz", "save_figure", "to_jsonable"]

R = TypeVar("R", bound="Result")


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays and tuples inside ``value`` into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _atomic_write(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    text = json.dumps(to_jsonable(data), indent=2, sort_keys=False) + "\n"
    return _atomic_write(Path(path), lambda fh: fh.write(text.encode()))


def atomic_write_npz(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write ``arrays`` as an uncompressed ``.npz`` to ``path`` atomically (no pickles)."""
    clean = {k: np.asarray(v) for k, v in arrays.items()}
    return _atomic_write(Path(path), lambda fh: np.savez(fh, **clean))


def save_figure(fig, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        _atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


class Result:
    """Mixin for frozen result dataclasses: ``save(directory)`` / ``load(directory)``.

    Fields holding ``np.ndarray`` values go to ``arrays.npz``; the others (numbers, strings,
    lists, dicts) go to ``result.json`` under ``"fields"``. Subclasses implement
    ``plot(ax=None) -> matplotlib.figure.Figure``.
    """

    json_name: ClassVar[str] = "result.json"
    arrays_name: ClassVar[str] = "arrays.npz"

    def save(self, directory: str | Path) -> Path:
        """Write this result into ``directory`` (created if needed); returns the directory."""
        directory = Path(directory)
        arrays, fields = {}, {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            (arrays if isinstance(value, np.ndarray) else fields)[f.name] = value
        if arrays:
            atomic_write_npz(directory / self.arrays_name, arrays)
        atomic_write_json(
            directory / self.json_name, {"type": type(self).__name__, "fields": fields}
        )
        return directory

    @classmethod
    def load(cls: type[R], directory: str | Path) -> R:
        """Read a result written by :meth:`save` (arrays are loaded with ``allow_pickle=False``)."""
        directory = Path(directory)
        payload = json.loads((directory / cls.json_name).read_text())
        kwargs = dict(payload["fields"])
        npz = directory / cls.arrays_name
        if npz.exists():
            with np.load(npz, allow_pickle=False) as data:
                kwargs.update({k: data[k] for k in data.files})
        return cls(**kwargs)  # type: ignore[call-arg]

    def plot(self, ax=None):  # pragma: no cover - each subclass draws itself
        raise NotImplementedError
