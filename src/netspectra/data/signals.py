"""Signals for the DC paper's experiments: the V-C sinusoid classes, synthetic PPG, user files.

All generators are seeded and return NumPy float64 arrays with one window per row.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validation import (
    as_integer_array,
    as_real_array,
    at_least,
    in_range,
    interval,
    pair,
    positive,
    rng_seed,
    within_bytes,
)
from ..errors import NetspectraError

__all__ = [
    "SinusoidClasses",
    "SyntheticPPG",
    "class_dc_offsets",
    "load_signal_batch",
    "load_signal_windows",
    "sinusoid_classes",
    "synthetic_ppg",
]

#: Class frequencies of DC paper Section V-C (Hz) and the amplitudes a_class of eq. 13.
VC_FREQUENCIES_HZ = (3.0, 5.0, 10.0)
VC_DC_AMPLITUDES = (1.0, 5.0, 19.0)

#: Fewest samples of a synthetic PPG window: each window is standardised, which needs a few.
_MIN_PPG_SAMPLES = 8


class SinusoidClasses(NamedTuple):
    """The three-class data of DC paper Section V-C (eqs. 11-12)."""

    x: np.ndarray
    """Windows ``cos(2π f t)``, shape ``(n_windows, n_samples)``."""
    labels: np.ndarray
    """Class index of each window (int64)."""
    frequencies: np.ndarray
    """The frequency ``f`` of each window in Hz."""


def sinusoid_classes(
    n_per_class: int = 1024,
    *,
    fs: float = 32.0,
    n_samples: int = 256,
    class_frequencies: tuple[float, ...] = VC_FREQUENCIES_HZ,
    sigma: float = 0.1,
    seed: int | np.random.SeedSequence = 0,
) -> SinusoidClasses:
    """Unit-amplitude, zero-phase tones whose frequency is drawn per window from N(f_class, σ²).

    DC paper Section V-C, eqs. 11-12: ``x(t) = cos(2π f t)``, ``f ~ N(f_class, 0.1²)`` Hz with
    ``f_class`` = 3, 5, 10 Hz, ``fs`` = 32 Hz, 256 samples, 1024 windows per class. Windows are
    returned shuffled.
    """
    n_per_class = at_least(n_per_class, 1, "n_per_class")
    n_samples = at_least(n_samples, 2, "n_samples")
    fs = positive(fs, "fs")
    centres = as_real_array(class_frequencies, "class_frequencies", ndim=1)
    sigma = in_range(sigma, "sigma", 0.0)
    within_bytes(24 * centres.size * n_per_class * n_samples, "n_per_class × n_samples",
                 "the windows")
    rng = np.random.default_rng(rng_seed(seed, "seed"))
    labels = np.repeat(np.arange(centres.size), n_per_class)
    freqs = rng.normal(centres[labels], sigma)
    order = rng.permutation(labels.size)
    labels, freqs = labels[order], freqs[order]
    t = np.arange(n_samples) / fs
    return SinusoidClasses(np.cos(2 * np.pi * np.outer(freqs, t)), labels.astype(np.int64), freqs)


def class_dc_offsets(labels, amplitudes: tuple[float, ...] = VC_DC_AMPLITUDES) -> np.ndarray:
    """The "linear + DC" input offset of DC paper eq. 13: ``a_class · √2 / 4`` per window.

    With the default amplitudes 1, 5, 19 the offsets are 0.35, 1.77 and 6.72.
    """
    labels = as_integer_array(labels, "labels")
    amps = as_real_array(amplitudes, "amplitudes", ndim=1)
    if labels.size and (labels.min() < 0 or labels.max() >= amps.size):
        raise NetspectraError(
            f"labels must lie in [0, {amps.size}); found {labels.min()}..{labels.max()}"
        )
    return amps[labels] * np.sqrt(2) / 4


class SyntheticPPG(NamedTuple):
    """Windows of synthetic photoplethysmography with their heart rate."""

    x: np.ndarray
    """Standardised windows (zero mean, unit variance), shape ``(n_windows, fs · seconds)``."""
    heart_rate_bpm: np.ndarray
    """Mean heart rate of each window in beats per minute."""
    fs: float
    """Sampling rate in Hz."""


def _pulse(phase: np.ndarray, notch_depth: np.ndarray, width: np.ndarray) -> np.ndarray:
    """One cardiac cycle per unit of ``phase``: a systolic peak and a later, smaller diastolic
    wave; the dip between them is the dicrotic notch. Its sharp edges give the harmonics."""
    cyc = np.mod(phase, 1.0)
    systolic = np.exp(-0.5 * ((cyc - 0.25) / width) ** 2)
    diastolic = notch_depth * np.exp(-0.5 * ((cyc - 0.55) / (1.4 * width)) ** 2)
    return systolic + diastolic


def synthetic_ppg(
    n_windows: int,
    *,
    fs: float = 32.0,
    seconds: float = 8.0,
    heart_rate_range: tuple[float, float] = (40.0, 180.0),
    noise: float = 1.0,
    seed: int | np.random.SeedSequence = 0,
) -> SyntheticPPG:
    """Seeded, realistic synthetic PPG windows (stand-in for PPG-DaLiA, DC paper V-B).

    Each window has a heart rate drawn uniformly from ``heart_rate_range`` (bpm) that drifts
    slowly (a random linear trend of up to ±8 bpm plus a respiratory-rate wobble of ±2 bpm),
    a pulse shape with a systolic peak and a dicrotic notch (so the spectrum shows the heart
    rate and its harmonics, Fig. 3), baseline wander (0.05–0.4 Hz), white sensor noise and
    motion-like bursts (band-limited 0.5–4 Hz noise under a random envelope). ``noise`` scales
    the wander, sensor noise and motion together (0 = clean pulses).

    Returns windows of ``round(fs · seconds)`` samples (default 256: 8 s at 32 Hz), each
    standardised, and the mean heart rate of each window in bpm.
    """
    n_windows = at_least(n_windows, 1, "n_windows")
    fs = positive(fs, "fs")
    seconds = positive(seconds, "seconds")
    lo, hi = interval(*pair(heart_rate_range, "heart_rate_range"), "heart_rate_range")
    if lo <= 0:
        raise NetspectraError(f"heart_rate_range must be positive bpm; found ({lo}, {hi})")
    noise = in_range(noise, "noise", 0.0)
    if hi / 60 * 3 > fs / 2:
        raise NetspectraError(
            f"fs={fs} Hz is too low: the third harmonic of {hi} bpm exceeds the Nyquist frequency"
        )
    # About ten float64 temporaries of the windows' shape are alive at once.
    within_bytes(80 * n_windows * fs * seconds, "n_windows × fs × seconds", "the windows")
    n = round(fs * seconds)
    if n < _MIN_PPG_SAMPLES:
        raise NetspectraError(
            f"fs · seconds must give at least {_MIN_PPG_SAMPLES} samples; found {fs:g} Hz × "
            f"{seconds:g} s = {n}"
        )
    rng = np.random.default_rng(rng_seed(seed, "seed"))
    t = np.arange(n) / fs
    col = (n_windows, 1)

    def draw(low, high):
        return rng.uniform(low, high, col)

    drift = draw(-8, 8) * (t / seconds - 0.5)
    wobble = 2.0 * np.sin(2 * np.pi * draw(0.15, 0.4) * t + draw(0, 2 * np.pi))
    hr = np.clip(draw(lo, hi) + drift + wobble, lo, hi)
    phase = np.cumsum(hr / 60, axis=1) / fs + draw(0, 1)
    x = _pulse(phase, draw(0.3, 0.7), draw(0.06, 0.10))
    x = x - x.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)

    wander = draw(0.2, 0.8) * np.sin(2 * np.pi * draw(0.05, 0.4) * t + draw(0, 2 * np.pi))
    burst = rng.normal(size=(n_windows, n))
    spectrum = np.fft.rfft(burst, axis=1)
    f = np.fft.rfftfreq(n, 1 / fs)
    spectrum[:, (f < 0.5) | (f > 4.0)] = 0
    burst = np.fft.irfft(spectrum, n, axis=1)
    burst /= burst.std(axis=1, keepdims=True) + 1e-12
    centre, width = draw(0, seconds), draw(0.5, 2.5)
    envelope = draw(0, 0.8) * np.exp(-0.5 * ((t - centre) / width) ** 2)
    x = x + noise * (wander + envelope * burst + 0.05 * rng.normal(size=(n_windows, n)))
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return SyntheticPPG(x, hr.mean(axis=1), fs)


def _read_npy(path: Path) -> np.ndarray:
    """A ``.npy`` array whose header is checked before anything is read: real numbers only
    (no pickled objects, no complex values) and no more values than the file holds."""
    try:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise NetspectraError(f"signal file {path.name!r} is .npy version {version}; "
                                      "expected 1.0 or 2.0")
            shape, _, dtype = read_header(fh)
            held = path.stat().st_size - fh.tell()
    except NetspectraError:
        raise
    except ValueError as exc:
        raise NetspectraError(f"signal file {path.name!r} is not a valid .npy file") from exc
    if dtype.kind not in "biuf":
        raise NetspectraError(f"signal file {path.name!r} must hold real numbers; found dtype "
                              f"{dtype}")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > held:
        raise NetspectraError(f"signal file {path.name!r} claims shape {shape} ({claimed} "
                              f"bytes) but holds {held} bytes")
    return np.load(path, allow_pickle=False)


def _read_signal_file(path: str | Path, ndim: tuple[int, ...]) -> np.ndarray:
    """A CSV (comma-separated, one window per row) or ``.npy`` array with ``ndim`` dimensions,
    as float64."""
    path = Path(path)
    if not path.is_file():
        raise NetspectraError(f"signal file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        raw = _read_npy(path)
    elif suffix in (".csv", ".txt"):
        try:
            raw = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError as exc:
            raise NetspectraError(f"signal file {str(path)!r} is not a numeric CSV: {exc}") from exc
    else:
        raise NetspectraError(f"signal file must end in .csv or .npy; found {str(path)!r}")
    return as_real_array(raw, f"signal file {path.name}", ndim=ndim)


def load_signal_windows(path: str | Path) -> np.ndarray:
    """Read a user's windows: a CSV (comma-separated, one window per row) or a ``.npy`` array.

    A 1-D array is one window. Returns float64 ``(n_windows, n_samples)``; raises
    :class:`~netspectra.errors.NetspectraError` for a missing file, another extension, ragged
    CSV rows, non-finite values, and a ``.npy`` file that is not one, holds objects or complex
    numbers, or claims more values than it holds.
    """
    return np.atleast_2d(_read_signal_file(path, (1, 2)))


def load_signal_batch(path: str | Path) -> np.ndarray:
    """Read a batch of model inputs from a CSV or ``.npy`` file, laid out as a model takes it.

    A 1-D array is one single-channel signal and a 2-D array (any CSV) one single-channel
    signal per row: both become ``(N, 1, L)``. A 3-D ``.npy`` array is taken as ``(N, C, L)``
    signals and a 4-D one as ``(N, C, H, W)`` images, as stored. The checks are those of
    :func:`load_signal_windows` (a ``.npy`` header is read before any data).

    Returns
    -------
    ndarray
        float64 ``(N, C, L)`` or ``(N, C, H, W)``.
    """
    x = _read_signal_file(path, (1, 2, 3, 4))
    return np.atleast_2d(x)[:, None, :] if x.ndim <= 2 else x
