"""A sweep's units as tasks on a Ray cluster (the optional extra ``netspectra[ray]``).

Each unit is one Ray task that reserves ``cpus`` CPUs (its torch threads) and ``gpus`` GPUs
and returns the unit's arrays; the process that runs the sweep writes them into the unit
files, so the cluster's machines need no shared filesystem and an interrupted sweep resumes
as a local one does. The sweep's ``inputs`` go into Ray's object store once (``ray.put``):
each machine fetches them once for all its tasks. Every machine needs the same netspectra
installed, since a task imports the unit's function by name.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .._validation import at_least, in_range
from ..errors import NetspectraError
from ._sweep import _as_arrays, tune_allocator

__all__ = ["LOCAL", "check_ray_options", "ray_connection", "ray_units"]

#: ``--ray local``: start a Ray instance on this machine for the sweep, stopped after it.
LOCAL = "local"

# Seconds to wait for a cluster's address to answer: Ray itself retries for minutes.
_CONNECT_TIMEOUT = 10.0


def check_ray_options(ray: str | None, cpus_per_unit: int | None,
                      gpus_per_unit: float | None, device: str | None) -> tuple[int, float]:
    """The CPUs and GPUs each unit's task reserves (defaults 1 and 0), validated; a
    :class:`NetspectraError` when they are given without ``ray``, or GPUs for a CPU run
    (``device`` None: not known yet, not checked)."""
    if ray is None:
        given = [n for n, v in (("cpus_per_unit", cpus_per_unit),
                                ("gpus_per_unit", gpus_per_unit)) if v is not None]
        if given:
            raise NetspectraError(f"{' and '.join(given)} need ray (a Ray cluster's address "
                                  "or 'local'); found ray None")
        return 1, 0.0
    if not isinstance(ray, str) or not ray:
        raise NetspectraError(f"ray must be 'local', 'auto' or HOST:PORT; found {ray!r}")
    cpus = at_least(1 if cpus_per_unit is None else cpus_per_unit, 1, "cpus_per_unit")
    gpus = in_range(0.0 if gpus_per_unit is None else gpus_per_unit, "gpus_per_unit", 0)
    if gpus > 0 and device is not None and torch.device(device).type != "cuda":
        raise NetspectraError(f"gpus_per_unit reserves GPUs that device {device!r} leaves "
                              f"idle; found gpus_per_unit {gpus:g} (use --device cuda)")
    return cpus, gpus


@contextlib.contextmanager
def ray_connection(address: str | None) -> Iterator[None]:
    """Keep this process connected to the Ray cluster at ``address`` (as :func:`ray_units`
    takes it) while the block runs, so that every sweep inside uses one connection and
    ``"local"`` one instance, stopped at the end. Nothing happens for ``address`` None or
    when this process is already connected (that connection is kept)."""
    if address is None:
        yield
        return
    ray = _import_ray()
    connected = _connect(ray, address)
    try:
        yield
    finally:
        if connected:
            ray.shutdown()


def _task(unit: Callable[..., Mapping[str, Any]], key: str, threads: int,
          kwargs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """One unit inside a Ray worker process (which may run many units in turn)."""
    tune_allocator()
    torch.set_num_threads(threads)
    return _as_arrays(unit(key, **kwargs, **inputs))


def ray_units(unit: Callable[..., Mapping[str, Any]], kwargs: Mapping[str, Any],
              inputs: Mapping[str, Any], keys: Sequence[str], *, address: str, cpus: int,
              gpus: float) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """``(key, arrays)`` for every key as the cluster at ``address`` finishes them.

    Connects at once (a :class:`NetspectraError` if it cannot), unless there is nothing to
    compute or this process is already connected to Ray (``ray.init``), whose connection is
    then used and kept; otherwise ``"local"`` starts an instance here, and the connection ends
    with the iteration. An error or an interrupt cancels the tasks not yet finished.
    """
    if not keys:
        return iter(())
    ray = _import_ray()
    return _gather(ray, _connect(ray, address), unit, kwargs, inputs, keys, cpus, gpus)


def _gather(ray, connected: bool, unit: Callable[..., Mapping[str, Any]],
            kwargs: Mapping[str, Any], inputs: Mapping[str, Any], keys: Sequence[str],
            cpus: int, gpus: float) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    try:
        task = ray.remote(_task).options(num_cpus=cpus, num_gpus=gpus)
        shared = ray.put(dict(inputs))
        pending = {task.remote(unit, key, cpus, dict(kwargs), shared): key for key in keys}
        try:
            # One wait per unit, so that each unit file is written as soon as it can be; a
            # wait costs ~0.4 µs per task left (1.8 ms over 5000 measured), noise per unit.
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                yield pending.pop(ref), ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
    finally:
        if connected:
            ray.shutdown()


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise NetspectraError("ray needs Ray installed: pip install 'netspectra[ray]'") from exc
    return ray


def _connect(ray, address: str) -> bool:
    """Connect to ``address`` unless this process already is; True if it connected."""
    if ray.is_initialized():
        return False
    if address not in (LOCAL, "auto"):
        _check_reachable(address)
    extra = {"include_dashboard": False} if address == LOCAL else {}
    try:
        ray.init(address=address, logging_level=logging.WARNING, **extra)
    except (ConnectionError, ValueError) as exc:
        raise NetspectraError(f"ray {address!r} cannot be reached: {exc}") from exc
    return True


def _check_reachable(address: str) -> None:
    """A one-line error for an address that does not answer, instead of Ray's minutes of
    retries."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise NetspectraError(f"ray must be 'local', 'auto' or HOST:PORT; found {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise NetspectraError(f"ray {address!r} cannot be reached: {exc.strerror or exc} "
                              "(is the cluster started? `ray start --head`)") from exc
