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
import re
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from .errors import NetspectraError

# Only the base class is public; the atomic writers serve the library's own results and runs.
__all__ = ["Result"]

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


_TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stray_temporaries(directory: str | Path) -> list[Path]:
    """Delete the temporary files that interrupted atomic writes left in ``directory``.

    Only files named like this module's temporaries whose writing process is gone are
    removed, so a write in progress elsewhere on this machine is left alone. Returns the
    paths removed.
    """
    removed = []
    for path in Path(directory).glob(f".*{_TMP_SUFFIX}"):
        match = _TMP_NAME.match(path.name)
        if match and path.is_file() and not _process_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def _atomic_write(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's pid in the name tells remove_stray_temporaries whose write it was.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=_TMP_SUFFIX)
    try:
        # mkstemp creates the file private (0600); a result file gets the mode open() gives
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return _atomic_write(Path(path), lambda fh: fh.write(text.encode("utf-8")))


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(to_jsonable(data), indent=2, sort_keys=False) + "\n")


def atomic_write_npz(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write ``arrays`` as an uncompressed ``.npz`` to ``path`` atomically (no pickles: an
    object array raises :class:`~netspectra.errors.NetspectraError`)."""
    clean = {k: np.asarray(v) for k, v in arrays.items()}
    pickled = sorted(k for k, v in clean.items() if v.dtype.hasobject)
    if pickled:
        raise NetspectraError(f"arrays must hold numbers or text, not Python objects; found "
                              f"{pickled} (they would need pickling)")
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

    def _split(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays, fields = {}, {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            (arrays if isinstance(value, np.ndarray) else fields)[f.name] = value
        return arrays, fields

    def save(self, directory: str | Path) -> Path:
        """Write this result into ``directory`` (created if needed); returns the directory."""
        directory = Path(directory)
        arrays, fields = self._split()
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

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """This result as named arrays (``prefix + field``; the fields that are not arrays as
        JSON text under ``prefix + "fields"``), e.g. to travel inside a sweep's unit file."""
        arrays, fields = self._split()
        text = json.dumps(to_jsonable(fields))
        return {**{prefix + k: v for k, v in arrays.items()}, prefix + "fields": np.array(text)}

    @classmethod
    def from_arrays(cls: type[R], arrays: dict[str, np.ndarray], prefix: str) -> R:
        """The result :meth:`to_arrays` turned into ``arrays`` (other keys are ignored)."""
        kwargs = json.loads(str(arrays[prefix + "fields"]))
        kwargs.update({k.removeprefix(prefix): v for k, v in arrays.items()
                       if k.startswith(prefix) and k != prefix + "fields"})
        return cls(**kwargs)  # type: ignore[call-arg]

    def plot(self, ax=None):  # pragma: no cover - each subclass draws itself
        raise NotImplementedError
