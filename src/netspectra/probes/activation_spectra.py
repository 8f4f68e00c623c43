"""Spectra of the activations of any model (DC paper Figs. 2 and 3, for any ``nn.Module``).

For every captured layer call: the one-sided amplitude spectrum (mean over batch and
channels; per channel on request), the share of the power at 0 Hz, the power centroid and the
95 %-power bandwidth in Hz, at that layer's own sampling rate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._plotting import figure_axes
from .._validation import flag, positive
from .._warnings import warn_caller
from ..errors import NetspectraError
from ..results import Result, atomic_write_json
from ..theory import bandwidth, dc_share, power_centroid
from .capture import Capture, capture_outputs

__all__ = ["ActivationSpectra", "LayerSpectrum", "activation_spectra"]


@dataclass(frozen=True)
class LayerSpectrum(Result):
    """The spectrum of one call of one layer.

    Attributes
    ----------
    name, call : str, int
        Qualified module name and call index (0 for the first call in the forward pass).
    fs : float
        The layer's sampling rate in Hz: the input's ``fs`` divided by the (rounded) ratio of
        input length to layer length, so pooling by 4 gives ``fs / 4`` while 'valid'
        convolutions that drop a few samples keep ``fs``.
    shape : list of int
        The captured output shape.
    frequencies : ndarray
        Bin frequencies in Hz (1-D: ``rfftfreq``; 2-D: ring radii, spacing ``fs / max(H, W)``).
    amplitude : ndarray
        One-sided amplitude spectrum averaged over batch and channels; a tone ``a cos`` shows
        ``a``, a constant ``c`` shows ``c`` at 0 Hz.
    power : ndarray
        One-sided power per bin averaged over batch and channels; sums to the mean square.
    channel_amplitude : ndarray or None
        ``(C, n_bins)`` amplitude per channel (batch mean) when requested.
    dc_share, power_centroid_hz, bandwidth_hz : float
        Share of ``power`` at 0 Hz, power-weighted mean frequency, 95 %-power bandwidth.
    """

    name: str
    call: int
    fs: float
    shape: list
    frequencies: np.ndarray
    amplitude: np.ndarray
    power: np.ndarray
    channel_amplitude: np.ndarray | None
    dc_share: float
    power_centroid_hz: float
    bandwidth_hz: float

    @property
    def label(self) -> str:
        """``name``, or ``name#k`` for call ``k ≥ 1`` of a module called several times."""
        return self.name if self.call == 0 else f"{self.name}#{self.call}"

    def plot(self, ax=None):
        """Amplitude spectrum on a log axis; returns the Figure."""
        fig, ax = figure_axes(ax, (6, 3.5))
        ax.semilogy(self.frequencies, np.maximum(self.amplitude, 1e-300), label=self.label)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("amplitude")
        ax.set_title(f"{self.label}: DC share {self.dc_share:.2f}, "
                     f"95 % bandwidth {self.bandwidth_hz:.3g} Hz")
        return fig


@dataclass(frozen=True)
class ActivationSpectra:
    """The spectra of all captured layer calls, in call order, for an input sampled at ``fs``."""

    fs: float
    layers: tuple[LayerSpectrum, ...]

    @property
    def labels(self) -> list[str]:
        return [layer.label for layer in self.layers]

    def __getitem__(self, label: str) -> LayerSpectrum:
        for layer in self.layers:
            if layer.label == label:
                return layer
        raise NetspectraError(f"no layer {label!r}; captured: {', '.join(self.labels)}")

    def save(self, directory: str | Path) -> Path:
        """Write ``index.json`` and one sub-directory per layer call; returns ``directory``."""
        directory = Path(directory)
        for i, layer in enumerate(self.layers):
            layer.save(directory / f"{i:03d}")
        atomic_write_json(directory / "index.json", {"fs": self.fs, "labels": self.labels})
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ActivationSpectra:
        directory = Path(directory)
        index = json.loads((directory / "index.json").read_text())
        layers = tuple(LayerSpectrum.load(directory / f"{i:03d}")
                       for i in range(len(index["labels"])))
        return cls(index["fs"], layers)

    def plot(self, ax=None):
        """All layers' amplitude spectra on one log axis; returns the Figure."""
        fig, ax = figure_axes(ax, (7, 4))
        for layer in self.layers:
            ax.semilogy(layer.frequencies, np.maximum(layer.amplitude, 1e-300), label=layer.label)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("amplitude")
        ax.legend(fontsize="small")
        return fig


def _layer_rate(fs: float, n_in: int, n_out: int) -> float:
    if n_out <= n_in:
        return fs / max(1, round(n_in / n_out))
    return fs * round(n_out / n_in)


def _spectrum_1d(y: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Bins, amplitude (N, C, F) and one-sided power (N, C, F) along the last axis."""
    n = y.shape[-1]
    mag = torch.fft.rfft(y, dim=-1).abs() / n
    scale = torch.full((mag.shape[-1],), 2.0, dtype=mag.dtype, device=mag.device)
    scale[0] = 1.0
    if n % 2 == 0:
        scale[-1] = 1.0
    return mag.shape[-1], mag * scale, mag.square() * scale


def _spectrum_2d(y: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Radial spectrum: power summed over rings of width ``1/max(H, W)`` cycles per sample.

    The ring power sums to the mean square; the amplitude of ring ``r > 0`` is
    ``sqrt(2 · power)`` (as in 1-D, so a pattern ``a cos(2π k·x)`` shows ``a`` at ``|k|``).
    """
    h, w = y.shape[-2:]
    power2 = (torch.fft.fft2(y).abs() / (h * w)).square()
    fy = torch.fft.fftfreq(h, device=y.device, dtype=power2.dtype)
    fx = torch.fft.fftfreq(w, device=y.device, dtype=power2.dtype)
    radius = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    ring = torch.round(radius * max(h, w)).long().flatten()
    n_bins = int(ring.max()) + 1
    flat = power2.flatten(-2)
    power = torch.zeros(*flat.shape[:-1], n_bins, dtype=flat.dtype, device=flat.device)
    power.index_add_(-1, ring, flat)
    factor = torch.full((n_bins,), 2.0, dtype=power.dtype, device=power.device)
    factor[0] = 1.0
    return n_bins, torch.sqrt(power * factor), power


def _layer_spectrum(cap: Capture, fs: float, n_in: int, per_channel: bool) -> LayerSpectrum:
    y = cap.output.to(torch.float64 if cap.output.dtype == torch.float64 else torch.float32)
    two_d = y.ndim == 4
    n_out = y.shape[-1]
    rate = _layer_rate(fs, n_in, n_out)
    n_bins, amp, power = (_spectrum_2d if two_d else _spectrum_1d)(y)
    spacing = rate / max(y.shape[-2:]) if two_d else rate / n_out
    f = np.arange(n_bins) * spacing
    mean_power = power.mean(dim=(0, 1)).double().cpu().numpy()
    channel = amp.mean(dim=0).double().cpu().numpy() if per_channel else None
    return LayerSpectrum(
        name=cap.name, call=cap.call, fs=rate, shape=list(cap.output.shape),
        frequencies=f, amplitude=amp.mean(dim=(0, 1)).double().cpu().numpy(), power=mean_power,
        channel_amplitude=channel, dc_share=float(dc_share(mean_power)),
        power_centroid_hz=float(power_centroid(f, mean_power)),
        bandwidth_hz=float(bandwidth(f, mean_power, 0.95)),
    )


def activation_spectra(
    model: nn.Module,
    x: torch.Tensor,
    fs: float,
    *,
    layers: Sequence[str] | None = None,
    types: tuple[type[nn.Module], ...] | None = None,
    per_channel: bool = False,
    mode: str | None = None,
) -> ActivationSpectra:
    """Spectra of the outputs of chosen layers of ``model`` on the batch ``x``.

    Parameters
    ----------
    model : nn.Module
        Any model; left exactly as found (see :func:`~netspectra.probes.capture_outputs`).
    x : torch.Tensor
        ``(N, C, L)`` signals or ``(N, C, H, W)`` images, sampled at ``fs``.
    fs : float
        Sampling rate of ``x`` in Hz (samples per unit length for images).
    layers, types, mode
        Which module calls to capture and in which mode (see ``capture_outputs``); default:
        every activation module. Captured outputs must have the input's layout; layers
        chosen by type whose output does not (e.g. a ReLU after global pooling) are skipped
        with a warning, layers chosen by name raise.
    per_channel : bool
        Also keep the amplitude spectrum of each channel (batch mean).

    Returns
    -------
    ActivationSpectra
        One :class:`LayerSpectrum` per captured call, in call order. 2-D layers get a radial
        spectrum (ring power summed; amplitude ``sqrt(2 · ring power)``).
    """
    fs = positive(fs, "fs")
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise NetspectraError(
            f"x must be a tensor of shape (N, C, L) or (N, C, H, W); found {shape}"
        )
    flag(per_channel, "per_channel")
    captures = capture_outputs(model, x, layers=layers, types=types, mode=mode)
    broken = [c.label for c in captures if not bool(torch.isfinite(c.output).all())]
    if broken:
        raise NetspectraError(f"layers {', '.join(broken)} output NaN/Inf on this x; their "
                              "spectra would be NaN")
    usable = [c for c in captures if c.output.ndim == x.ndim and c.output.shape[-1] > 1]
    skipped = [f"{c.label} {tuple(c.output.shape)}" for c in captures if c not in usable]
    layout = "(N, C, H, W)" if x.ndim == 4 else "(N, C, L)"
    if skipped and layers is not None:
        raise NetspectraError(f"cannot read the output of {', '.join(skipped)} as {layout}")
    if not usable:
        raise NetspectraError(
            f"no captured layer has the input's layout {layout}; found {', '.join(skipped)}"
        )
    if skipped:
        warn_caller(f"skipped layers whose output is not laid out like the input: "
                    f"{', '.join(skipped)}")
    return ActivationSpectra(fs, tuple(_layer_spectrum(c, fs, x.shape[-1], per_channel)
                                       for c in usable))


