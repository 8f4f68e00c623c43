"""Run every registered experiment into one folder (``netspectra reproduce all``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .._validation import at_least, choice
from ..results import atomic_write_json
from ._registry import registry, reproduce, run_settings

__all__ = ["ERROR_NAME", "reproduce_all"]

#: Written into an experiment's folder when its last run failed; removed by a run that succeeds.
ERROR_NAME = "error.json"


def _is_complete(directory: Path, settings: dict[str, Any]) -> bool:
    try:
        result = json.loads((directory / "result.json").read_text())
    except (OSError, ValueError):
        return False
    recorded = {key: result.get(key) for key in settings}
    return recorded == settings and not (directory / ERROR_NAME).exists()


def reproduce_all(
    out: str | Path = "netspectra-out",
    *,
    quick: bool = False,
    seed: int = 0,
    force: bool = False,
    workers: int | None = None,
    names: Sequence[str] | None = None,
    progress: bool = True,
) -> dict[str, str]:
    """Run every experiment (or ``names``) into ``out/<name>``; returns name → status.

    An experiment whose ``result.json`` records the same settings (seed, quick, version and
    options) is not rerun unless ``force``; status ``"done"``. One that raises does not stop the
    others: its error goes to ``out/<name>/error.json`` for the report; status ``"failed"``.
    ``workers`` is passed to the experiments that run units in worker processes.
    """
    exps = registry()
    names = list(exps) if names is None else [choice(n, exps, "experiment") for n in names]
    if workers is not None:
        workers = at_least(workers, 1, "workers")
    status: dict[str, str] = {}
    bar = tqdm(names, desc="experiments", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        accepts = {opt.dest for opt in exps[name].options}
        options = {"workers": workers} if workers is not None and "workers" in accepts else {}
        directory = Path(out) / name
        settings = run_settings(exps[name], quick=quick, seed=seed, options=options)
        if not force and _is_complete(directory, settings):
            status[name] = "done"
            continue
        try:
            reproduce(name, out, quick=quick, seed=seed, **options)
        except Exception as exc:  # one failure must not stop the others; the report shows it
            atomic_write_json(directory / ERROR_NAME,
                              {"error": f"{type(exc).__name__}: {exc}", **settings})
            status[name] = "failed"
        else:
            (directory / ERROR_NAME).unlink(missing_ok=True)
            status[name] = "ran"
    return status
