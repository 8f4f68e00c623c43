"""DC paper, Section V-A: the N-term ReLU series on four tones (Fig. 1, Table I, error vs N)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..results import Result, save_figure
from ..theory import (
    amplitude_spectrum,
    multitone_dc_mean,
    predicted_components,
    relu_series,
    relu_series_coefficients,
    series_convergence,
    tone_signal,
)
from ._claims import claim, listed, never_rises, paper_value
from ._registry import experiment

# V-A settings of the reference code: tones 5, 10, 20, 40 Hz of amplitude 1, fs = 1024 Hz, 8 s.
FREQUENCIES = (5.0, 10.0, 20.0, 40.0)
AMPLITUDES = (1.0, 1.0, 1.0, 1.0)
FS = 1024.0
DURATION = 8.0
N_FIGURE = 50
# Table I of the first version, as printed (3 significant digits at most).
TABLE_I = (1.0, 0.5, -0.125, 0.0625, -0.039, 0.027, -0.02, 0.016)
HEADLINE_N = (8, 50, 100, 200)
FIT_MIN = 8  # the convergence order is fitted from N = 8 on (fewer terms are pre-asymptotic)


@dataclass(frozen=True)
class SeriesFigure(Result):
    """Signals of DC Fig. 1: input ``x``, ``ReLU(x)`` and the ``n_terms``-term series (time in s,
    sampled at ``fs`` Hz)."""

    t: np.ndarray
    x: np.ndarray
    relu: np.ndarray
    approx: np.ndarray
    fs: float
    n_terms: int

    def plot(self, ax=None):
        """Time (first 0.4 s) and amplitude spectrum (log) of input, ReLU and approximation."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, (ax_t, ax_f) = plt.subplots(1, 2, figsize=(11, 3.8))
        else:
            fig, ax_t, ax_f = ax.figure, ax, None
        show = self.t < 0.4
        labels = ("input x", "ReLU(x)", f"{self.n_terms}-term series")
        styles = ({"color": "0.6"}, {"lw": 2.5}, {"ls": "--"})
        for y, label, style in zip((self.x, self.relu, self.approx), labels, styles, strict=True):
            ax_t.plot(self.t[show], y[show], label=label, **style)
            if ax_f is not None:
                f, amp = amplitude_spectrum(y, self.fs)
                ax_f.semilogy(f, np.maximum(amp, 1e-12), label=label, **style)
        ax_t.set(xlabel="time (s)", ylabel="amplitude", title="DC Fig. 1: time domain")
        ax_t.legend(fontsize=8)
        if ax_f is not None:
            ax_f.set(xlabel="frequency (Hz)", ylabel="amplitude", ylim=(1e-8, 2),
                     xlim=(0, self.fs / 2), title="amplitude spectrum")
            ax_f.legend(fontsize=8)
        return fig


def _printed_decimals(value: float) -> int:
    return len(repr(value).split(".")[1])


def _fit_residual(x: np.ndarray, y: np.ndarray) -> float:
    """RMS residual of a straight-line least-squares fit of ``y`` against ``x``."""
    line = np.polyfit(x, y, 1)
    return float(np.sqrt(np.mean((np.polyval(line, x) - y) ** 2)))


def _claims(coefficients: np.ndarray, conv, dc: dict) -> list[dict]:
    """Table I agrees when every coefficient rounds to the printed digits. The later version's
    Appendix B says the error falls exponentially in N: it holds when a line in (N, log error)
    fits the errors from N = FIT_MIN on better than a line in (log N, log error), a power law."""
    rounded = [round(float(c), _printed_decimals(p)) for c, p in zip(coefficients, TABLE_I,
                                                                     strict=True)]
    rr = dict(zip(conv.n_terms.tolist(), conv.rrmse_percent.tolist(), strict=True))
    tail = conv.n_terms >= FIT_MIN
    log_err = np.log(conv.rrmse_percent[tail])
    exponential = _fit_residual(conv.n_terms[tail].astype(float), log_err)
    power_law = _fit_residual(np.log(conv.n_terms[tail]), log_err)
    dc_error = abs(dc[f"series_n{N_FIGURE}"] / dc["exact_mean"] - 1)
    return [
        claim("Table I: the first eight series coefficients C(1/2, n) are as printed",
              rounded == list(TABLE_I), f"ours rounded to the printed digits: {rounded}"),
        claim("Fig. 1: the series approximates ReLU better as terms are added (N = "
              f"{listed(HEADLINE_N)})", never_rises(rr[n] for n in HEADLINE_N),
              f"relative RMS error {listed(rr[n] for n in HEADLINE_N)} %"),
        claim("Appendix B (later version): the series error falls exponentially in N",
              exponential < power_law,
              f"RMS residual of log error: exponential fit {exponential:.3g}, power-law fit "
              f"{power_law:.3g} (order {conv.order:.2f}), N = {FIT_MIN}..{conv.n_terms[-1]}"),
        claim("Eq. 7: ReLU adds a DC component, which the 50-term series predicts",
              dc["exact_mean"] > 0 and dc_error < 0.02,
              f"DC exact {dc['exact_mean']:.4f}, {N_FIGURE}-term series "
              f"{dc[f'series_n{N_FIGURE}']:.4f} ({100 * dc_error:.2f} % off)"),
    ]


def _write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@experiment(
    "relu-series",
    reproduces="DC Fig. 1, Table I",
    summary="N-term ReLU series on 4 tones: signals, spectra, coefficients, error vs N",
)
def run(out: Path, *, quick: bool, seed: int) -> dict:
    """Fig. 1 signals/spectra (N = 50), Table I and the error-vs-N study (N up to 1000)."""
    t = np.arange(int(FS * DURATION)) / FS
    x = tone_signal(AMPLITUDES, FREQUENCIES, t=t)
    relu = np.maximum(x, 0.0)
    figure = SeriesFigure(t, x, relu, relu_series(x, N_FIGURE), FS, N_FIGURE)
    figure.save(out / "fig1")
    save_figure(figure.plot(), out / "fig1.png")

    coefficients = relu_series_coefficients(8)
    _write_csv(out / "table_i.csv", ["n", "C(1/2,n)", "printed"],
               zip(range(8), coefficients, TABLE_I, strict=True))

    grid = [1, 2, 3, 4, 6, 8, 12, 16, 25, 35, 50, 70, 100, 140, 200]
    grid += [] if quick else [300, 500, 700, 1000]
    conv = series_convergence(x, grid, fit_min=FIT_MIN)
    conv.save(out / "convergence")
    save_figure(conv.plot(), out / "convergence.png")
    _write_csv(out / "convergence.csv", ["N", "rrmse_percent", "max_abs_error"],
               zip(conv.n_terms, conv.rrmse_percent, conv.max_abs_error, strict=True))

    comps = predicted_components(AMPLITUDES, FREQUENCIES, n_terms=N_FIGURE, fs=FS)
    comps.save(out / "components")
    f, amp = amplitude_spectrum(relu, FS)
    save_figure(comps.plot(measured_f=f, measured_amplitude=amp), out / "components.png")
    inband = comps.frequency <= 200
    measured = comps.measured(relu, FS)
    of_model = comps.measured(figure.approx, FS)
    _write_csv(out / "components.csv",
               ["frequency_hz", "predicted_amplitude", "fft_amplitude_exact_relu", "degree",
                "series_order"],
               zip(comps.frequency[inband], comps.amplitude[inband], measured[inband],
                   comps.degree[inband], comps.series_order[inband], strict=True))
    rr = dict(zip(conv.n_terms.tolist(), conv.rrmse_percent.tolist(), strict=True))
    dc = {
        "exact_mean": multitone_dc_mean(AMPLITUDES, FREQUENCIES),
        "sampled_relu_mean": float(relu.mean()),
        f"series_n{N_FIGURE}": comps.dc,
    }
    return {
        "coefficients": coefficients.tolist(),
        "table_i_printed": list(TABLE_I),
        "table_i_max_abs_difference": float(np.max(np.abs(coefficients - TABLE_I))),
        "rrmse_percent": {str(n): rr[n] for n in HEADLINE_N},
        "convergence_order": conv.order,
        "convergence_order_fit_range": [FIT_MIN, int(conv.n_terms[-1])],
        "dc": dc,
        # The predicted components against the FFT of the sampled model (an identity) and of
        # the exact ReLU (the model's truncation error).
        "components_vs_fft_of_series_max_abs": float(
            np.max(np.abs(of_model[inband] - comps.amplitude[inband]))
        ),
        "components_vs_fft_of_relu_max_abs_below_200hz": float(
            np.max(np.abs(measured[inband] - comps.amplitude[inband]))
        ),
        "claims": _claims(coefficients, conv, dc),
        "paper_values": [paper_value(f"Table I: C(1/2, {n})", p, float(c))
                         for n, (p, c) in enumerate(zip(TABLE_I, coefficients, strict=True))],
    }
