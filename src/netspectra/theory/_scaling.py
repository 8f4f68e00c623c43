"""Exact rescaling by powers of two, which keeps squares and sums of large finite values from
overflowing without changing a digit of the result."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["per_row_unit", "power_of_two_below"]


def power_of_two_below(v: float) -> float:
    """A power of two ``p`` with ``p <= v < 2p`` (1 for ``v <= 0``): dividing by it is exact."""
    return math.ldexp(1.0, math.frexp(v)[1] - 1) if v > 0 else 1.0


def per_row_unit(values: np.ndarray) -> np.ndarray:
    """Non-negative ``values`` with each row (last axis) divided by a power of two near its
    largest entry: the ratios within a row are unchanged, and sums over a row cannot overflow
    or underflow, whatever the rows' magnitudes."""
    peak = values.max(axis=-1, keepdims=True)
    return values / np.ldexp(1.0, np.frexp(peak)[1] - 1)
