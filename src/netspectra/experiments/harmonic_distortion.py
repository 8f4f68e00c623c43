"""Ringing ReLUs §3.2–3.3: blueshift of a band pushed repeatedly through polynomial fits (eq. 6)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..results import Result, save_figure
from ..theory import (
    blueshift,
    chebyshev_fit,
    polynomial_spectrum,
    polynomial_spectrum_in_time,
    power_centroid,
)
from ._registry import experiment

FUNCTIONS = ("relu", "tanh", "softplus")
DEGREE = 25
INTERVAL = (-5.0, 5.0)
BAND = 8  # harmonics 1..8, unit variance
K_MAX = 128


@dataclass(frozen=True)
class BlueshiftComparison(Result):
    """95 %-power bandwidth and power centroid (harmonics, DC excluded) per function and step."""

    names: list
    bandwidth: np.ndarray
    centroid: np.ndarray

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(5, 3.5)) if ax is None else (ax.figure, ax))
        steps = np.arange(self.bandwidth.shape[1])
        for name, bw, cen in zip(self.names, self.bandwidth, self.centroid, strict=True):
            line, = ax.plot(steps, bw, "o-", label=f"{name}: 95 % bandwidth")
            ax.plot(steps, cen, ":", color=line.get_color(), label=f"{name}: centroid")
        ax.set(xlabel="step (applications of φ)", ylabel="harmonic k",
               title="Blueshift of an 8-harmonic band")
        ax.legend(fontsize=7)
        return fig


@experiment(
    "harmonic-distortion",
    reproduces="RR eq. 6, Figs. 2-3",
    summary="band pushed through degree-25 fits of relu/tanh/softplus: spectra, bandwidth growth",
)
def run(out: Path, *, quick: bool, seed: int) -> dict:
    """Push a unit-variance 8-harmonic band through each fit (renormalised after every step)."""
    steps = 3 if quick else 6
    results = {}
    k = np.arange(1, K_MAX + 1, dtype=np.float64)
    for name in FUNCTIONS:
        fit = chebyshev_fit(name, DEGREE, INTERVAL)
        results[name] = blueshift(name, fit.monomial, BAND, steps, K_MAX, seed=seed)
        results[name].save(out / name)
    comparison = BlueshiftComparison(
        list(FUNCTIONS),
        np.array([results[n].bandwidth for n in FUNCTIONS]),
        np.array([power_centroid(k, results[n].power[:, 1:]) for n in FUNCTIONS]),
    )
    comparison.save(out / "comparison")
    save_figure(comparison.plot(), out / "bandwidth.png")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FUNCTIONS), figsize=(13, 3.8), sharey=True)
    for axis, name in zip(axes, FUNCTIONS, strict=True):
        results[name].plot(axis)
    save_figure(fig, out / "spectra_per_step.png")

    # Eq. 6 against the time-domain evaluation on the input band, for the relu fit.
    z = np.zeros(2 * BAND + 1, dtype=np.complex128)
    z[BAND + 1:] = np.sqrt(results["relu"].power[0, 1:BAND + 1])
    z[:BAND] = z[BAND + 1:][::-1]
    relu_fit = chebyshev_fit("relu", DEGREE, INTERVAL).monomial
    eq6_error = float(np.max(np.abs(polynomial_spectrum(z, relu_fit)
                                    - polynomial_spectrum_in_time(z, relu_fit))))
    return {
        "steps": steps,
        "bandwidth_harmonics": {n: results[n].bandwidth.tolist() for n in FUNCTIONS},
        "centroid_harmonics": dict(zip(FUNCTIONS, comparison.centroid.tolist(), strict=True)),
        "first_step_bandwidth": {n: float(results[n].bandwidth[1]) for n in FUNCTIONS},
        "eq6_vs_time_domain_max_abs": eq6_error,
    }
