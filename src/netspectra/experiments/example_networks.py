"""DC paper Fig. 2: spectra after each layer of the differentiation and moving-average nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..models import DifferentiationNet, MovingAverageNet
from ..probes import activation_spectra
from ..results import save_figure
from ._claims import claim, listed
from ._registry import experiment

#: Section V-A signal: tones at 5, 10, 20, 40 Hz, amplitude 1, fs = 1024 Hz, 8 s.
TONES_HZ = (5.0, 10.0, 20.0, 40.0)
FS = 1024.0
#: Taps of the moving-average net's filter (weights 1/9); its first spectral null is FS / 9.
TAPS = 9


def va_signal(seconds: float = 8.0) -> np.ndarray:
    """The V-A test signal ``Σ cos(2π f t)`` over ``TONES_HZ`` (float64, ``seconds · 1024``)."""
    t = np.arange(round(FS * seconds)) / FS
    return np.cos(2 * np.pi * np.outer(TONES_HZ, t)).sum(axis=0)


def _plot(spectra: dict, path: Path) -> None:
    """One row per layer, one column per network: amplitude (relative to the peak, log)."""
    import matplotlib.pyplot as plt

    n_layers = len(next(iter(spectra.values())).layers)
    fig, axes = plt.subplots(n_layers, 2, figsize=(12, 1.9 * n_layers), sharex=True,
                             squeeze=False)
    for col, (title, result) in enumerate(spectra.items()):
        axes[0, col].set_title(f"{title} net (fs = {FS:.0f} Hz)")
        for row, layer in enumerate(result.layers):
            ax = axes[row, col]
            ax.semilogy(layer.frequencies, np.maximum(layer.amplitude / layer.amplitude.max(),
                                                      1e-12), lw=0.6, color=f"C{col}")
            ax.axvline(layer.bandwidth_hz, color="k", ls="--", lw=0.8,
                       label=f"95 % bandwidth {layer.bandwidth_hz:.0f} Hz")
            ax.set_ylim(1e-6, 2)
            ax.set_ylabel(f"layer {row + 1}\namplitude / peak")
            ax.legend(fontsize="small", loc="upper right")
        axes[-1, col].set_xlabel("frequency (Hz)")
        axes[-1, col].set_xlim(0, FS / 2)
    save_figure(fig, path)


def _claims(bandwidth: dict[str, list[float]]) -> list[dict]:
    """Differentiation: every ReLU keeps or widens the band and the last layer reaches past
    half of Nyquist ("fills the entire available spectrum"). Moving average: every layer stays
    inside the main lobe of the moving-average filter (first null at FS / TAPS)."""
    diff, avg = bandwidth["differentiation"], bandwidth["moving_average"]
    return [
        claim("Fig. 2: in the differentiation net each ReLU widens the spectrum until it fills "
              "the band", bool(np.all(np.diff(diff) >= 0)) and diff[-1] > FS / 4,
              f"95 % bandwidth per layer {listed(diff)} Hz (Nyquist {FS / 2:g} Hz)"),
        claim("Fig. 2: in the moving-average net the convolutions keep the spectrum inside the "
              "low-pass band", max(avg) < FS / TAPS,
              f"95 % bandwidth per layer {listed(avg)} Hz (filter's first null "
              f"{FS / TAPS:.0f} Hz)"),
    ]


@experiment(
    "example-networks",
    reproduces="DC Fig. 2",
    summary="spectra after each ReLU of the differentiation and moving-average example nets",
)
def run(out: Path, *, quick: bool, seed: int) -> dict:
    """Both 5-layer example nets on the V-A signal (1 s in quick mode, 8 s otherwise)."""
    x = torch.from_numpy(va_signal(1.0 if quick else 8.0)).view(1, 1, -1)
    nets = {"differentiation": DifferentiationNet(5, FS),
            "moving_average": MovingAverageNet(5, TAPS)}
    spectra = {name: activation_spectra(net.double(), x, FS) for name, net in nets.items()}
    for name, result in spectra.items():
        result.save(out / name)
    _plot({k.replace("_", " "): v for k, v in spectra.items()}, out / "spectra.png")
    bandwidth = {k: [layer.bandwidth_hz for layer in v.layers] for k, v in spectra.items()}
    return {
        "bandwidth_hz": bandwidth,
        "dc_share": {k: [layer.dc_share for layer in v.layers] for k, v in spectra.items()},
        "power_centroid_hz": {k: [layer.power_centroid_hz for layer in v.layers]
                              for k, v in spectra.items()},
        "claims": _claims(bandwidth),
        "paper_values": [],
    }
