"""A user's own model, named on the command line: ``MODULE:FACTORY`` plus optional weights.

``MODULE`` is an importable module (``mypkg.nets``) or a Python file (``path/to/nets.py``);
``FACTORY`` is a callable in it that takes no arguments and returns an ``nn.Module`` (a class
with default arguments works too). Weights are a ``state_dict`` saved with ``torch.save``, read
with ``weights_only=True`` so that a file can never run code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import NetspectraError

__all__ = ["load_model", "load_state_dict"]


def _import(module: str):
    if module.endswith(".py"):
        path = Path(module)
        if not path.is_file():
            raise NetspectraError(f"model file {module!r} does not exist")
        spec = importlib.util.spec_from_file_location(f"_netspectra_user_{path.stem}", path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(loaded)
        except Exception as exc:
            del sys.modules[spec.name]
            raise NetspectraError(f"model file {module!r} failed to import: "
                                  f"{type(exc).__name__}: {exc}") from exc
        return loaded
    try:
        return importlib.import_module(module)
    except Exception as exc:
        raise NetspectraError(f"model module {module!r} failed to import: "
                              f"{type(exc).__name__}: {exc}") from exc


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A ``state_dict`` saved with ``torch.save``, read with ``weights_only=True`` on the CPU.

    Raises :class:`NetspectraError` for a missing file, a folder, a file that is not a
    ``torch.save`` archive, one that would need unpickling arbitrary objects, or one that does
    not hold a mapping of names to tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise NetspectraError(f"weights {str(path)!r} must be an existing file")
    try:
        with warnings.catch_warnings():  # torch's pickle-protocol notes precede the real error
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's unpickler raises any exception type on garbage
        raise NetspectraError(f"weights {str(path)!r} are not a torch.save file of tensors "
                              f"(read with weights_only=True; {type(exc).__name__})") from exc
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise NetspectraError(f"weights {str(path)!r} must hold a state_dict (names → tensors); "
                              f"found {type(state).__name__}")
    return dict(state)


def load_model(spec: str, weights: str | Path | None = None) -> nn.Module:
    """Build the model ``spec`` names (``"module:factory"`` or ``"file.py:factory"``).

    Parameters
    ----------
    spec : str
        ``MODULE:FACTORY``; ``FACTORY()`` must return an ``nn.Module``.
    weights : path, optional
        A ``state_dict`` for the model (:func:`load_state_dict`), loaded strictly: every key
        must match.

    Returns
    -------
    nn.Module
        The model in eval mode, on the CPU unless the factory put it elsewhere.
    """
    module_name, sep, factory_name = str(spec).rpartition(":")
    if not sep or not module_name or not factory_name:
        raise NetspectraError(f"model must be MODULE:FACTORY (e.g. mypkg.nets:make or "
                              f"nets.py:make); found {spec!r}")
    factory = getattr(_import(module_name), factory_name, None)
    if not callable(factory):
        raise NetspectraError(f"{module_name!r} has no callable {factory_name!r}")
    try:
        model = factory()
    except Exception as exc:
        raise NetspectraError(f"{spec}() failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise NetspectraError(f"{spec}() must return a torch.nn.Module; found "
                              f"{type(model).__name__}")
    if weights is not None:
        try:
            model.load_state_dict(load_state_dict(weights))
        except RuntimeError as exc:
            lines = str(exc).strip().splitlines()
            detail = " ".join(line.strip() for line in lines[1:3]) or lines[0]
            raise NetspectraError(f"weights {str(weights)!r} do not fit {spec}: {detail}") from exc
    return model.eval()
