"""The paper's claims an experiment checks and the printed values it reproduces.

Every experiment's result.json carries ``claims``: one entry per claim of the paper that the
run can test, computed from the run's own numbers (never asserted to hold), and
``paper_values``: the numbers the paper prints next to the ones measured. The report
(:mod:`netspectra.report`) shows both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["claim", "listed", "never_rises", "paper_value"]


def claim(text: str, holds: bool, evidence: str) -> dict[str, Any]:
    """One claim: a sentence naming the figure, whether the run bears it out, and the numbers
    behind that verdict."""
    return {"claim": text, "holds": bool(holds), "evidence": evidence}


def paper_value(quantity: str, paper: float | str, ours: float | str) -> dict[str, Any]:
    """A value the paper prints and the same quantity measured in this run."""
    return {"quantity": quantity, "paper": paper, "ours": ours}


def listed(values: Iterable[float], digits: int = 3) -> str:
    """``values`` as evidence text, ``"1.04/1.22/0.33"`` (``digits`` significant digits)."""
    return "/".join(f"{float(v):.{digits}g}" for v in values)


def never_rises(values: Iterable[float]) -> bool:
    """Whether a sequence never increases from one entry to the next."""
    return bool(np.all(np.diff(np.asarray(list(values), dtype=float)) <= 0))
