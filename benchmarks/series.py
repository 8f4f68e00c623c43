"""Time of the N-term ReLU series: 10^6 samples x 100 terms (goal < 1 s on one core).

Compares :func:`netspectra.theory.relu_series` (Horner in m = x²/A - 1) with a naive power sum
``Σ C(1/2, n) m**n`` that raises m to each power separately. Run with OMP_NUM_THREADS=1:

    OMP_NUM_THREADS=1 python benchmarks/series.py [--samples 1000000] [--terms 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from netspectra.theory import relu_series, relu_series_coefficients
from netspectra.theory.series import series_scale


def naive_power_sum(x: np.ndarray, n_terms: int) -> np.ndarray:
    a = series_scale(x)
    m = x * x / a - 1.0
    c = relu_series_coefficients(n_terms)
    return 0.5 * x + 0.5 * np.sqrt(a) * sum(c[n] * m**n for n in range(n_terms))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10**6)
    parser.add_argument("--terms", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = np.random.default_rng(0).normal(size=args.samples)
    fast = best_of(lambda: relu_series(x, args.terms), args.repeats)
    naive = best_of(lambda: naive_power_sum(x, args.terms), args.repeats)
    agree = np.max(np.abs(relu_series(x, args.terms) - naive_power_sum(x, args.terms)))
    print(f"relu_series: {args.samples} samples x {args.terms} terms: {fast:.3f} s "
          f"(goal < 1 s for 10^6 x 100)")
    print(f"naive power sum: {naive:.3f} s; ratio naive / recurrence = {naive / fast:.1f}")
    print(f"max |difference| = {agree:.2e}")


if __name__ == "__main__":
    main()
