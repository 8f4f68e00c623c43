"""DC paper Fig. 3 (Section V-B): activation spectra of a heart-rate CNN on a PPG window."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import find_peaks

from ..data import load_signal_windows, synthetic_ppg
from ..errors import NetspectraError
from ..models import HeartRateCNN
from ..probes import activation_spectra
from ..results import save_figure
from ._registry import Option, experiment

FS = 32.0
#: The network regresses standardised heart rate: (bpm − 110) / 40.
_HR_CENTRE, _HR_SCALE = 110.0, 40.0
LAYERS = ("block1.relu3", "block2.relu3")


def _predict_bpm(model: HeartRateCNN, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(torch.from_numpy(chunk).float().unsqueeze(1))
                         for chunk in np.array_split(x, max(1, len(x) // 256))])
    return out.numpy() * _HR_SCALE + _HR_CENTRE


def train_heart_rate_cnn(n_train: int, n_test: int, *, max_epochs: int, target_mae: float = 5.0,
                         seed: int = 0, n_samples: int = 256) -> tuple[HeartRateCNN, list[float]]:
    """Train :class:`HeartRateCNN` on synthetic PPG until the held-out MAE < ``target_mae`` bpm.

    Adam with a one-cycle learning rate (peak 3e-3 over ``max_epochs``), batch 64, L1 loss on
    standardised heart rate (it optimises the MAE itself; MSE plateaus near 5 bpm here);
    stops after the first epoch whose held-out MAE is below ``target_mae``. Returns the model
    (eval mode) and the held-out MAE in bpm after each epoch.
    """
    seconds = n_samples / FS
    train = synthetic_ppg(n_train, fs=FS, seconds=seconds, seed=np.random.SeedSequence([seed, 0]))
    test = synthetic_ppg(n_test, fs=FS, seconds=seconds, seed=np.random.SeedSequence([seed, 1]))
    gen = torch.Generator().manual_seed(seed)
    model = HeartRateCNN(n_samples, generator=gen)
    x = torch.from_numpy(train.x).float().unsqueeze(1)
    y = torch.from_numpy((train.heart_rate_bpm - _HR_CENTRE) / _HR_SCALE).float()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batches = -(-len(y) // 64)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3,
                                                   total_steps=max_epochs * batches)
    history: list[float] = []
    for _ in range(max_epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(64):
            loss = F.l1_loss(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        history.append(float(np.abs(_predict_bpm(model, test.x) - test.heart_rate_bpm).mean()))
        if history[-1] < target_mae:
            break
    model.eval()
    return model, history


def _peaks_bpm(frequencies: np.ndarray, amplitude: np.ndarray, count: int = 3) -> list[float]:
    """The ``count`` largest local maxima above 0 Hz, in bpm, largest first."""
    idx, _ = find_peaks(amplitude)
    idx = idx[np.argsort(amplitude[idx])[::-1][:count]]
    return [float(frequencies[i] * 60) for i in idx]


def _plot(window: np.ndarray, spectra, hr_bpm: float | None, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    axes[0].plot(np.arange(window.size) / FS, window, color="k", lw=0.8)
    axes[0].set(xlabel="time (s)", ylabel="PPG (standardised)", title="input window")
    for ax, layer in zip(axes[1:], spectra.layers, strict=True):
        rms = np.sqrt(layer.power.sum())
        ax.plot(layer.frequencies * 60, layer.amplitude / rms, color="C0")
        if hr_bpm is not None:
            for k, style in ((1, "--"), (2, ":")):
                ax.axvline(k * hr_bpm, color="C3", ls=style,
                           label=f"{'true heart rate' if k == 1 else '2 × heart rate'}: "
                                 f"{k * hr_bpm:.0f} bpm")
            ax.legend(fontsize="small")
        ax.set(xlabel="frequency (bpm)", ylabel="amplitude / RMS",
               title=f"{layer.label} (fs {layer.fs:g} Hz): DC share {layer.dc_share:.2f}")
    save_figure(fig, path)


@experiment(
    "ppg-activations",
    reproduces="DC Fig. 3",
    summary="spectra of the last ReLU of blocks 1 and 2 of a heart-rate CNN on PPG",
    options=(
        Option("--signal", "your windows: CSV or .npy, one window per row, 32 Hz", str),
        Option("--weights", "a HeartRateCNN state_dict (torch.save); skips training", str),
        Option("--window", "index of the window to analyse (default 0)", int, 0),
    ),
)
def run(out: Path, *, quick: bool, seed: int, signal: str | None = None,
        weights: str | None = None, window: int = 0) -> dict:
    """Train on synthetic PPG (or load ``weights``) and analyse one window (or ``signal``'s)."""
    user = load_signal_windows(signal) if signal else None
    n_samples = 256 if user is None else user.shape[1]
    if n_samples % 16:
        raise NetspectraError(f"windows must have a multiple of 16 samples; found {n_samples}")
    n_test = 256 if quick else 1024
    if weights:
        model = HeartRateCNN(n_samples)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise NetspectraError(f"--weights {weights!r} do not fit HeartRateCNN: {exc}") from exc
        model.eval()
        test = synthetic_ppg(n_test, seconds=n_samples / FS, seed=np.random.SeedSequence([seed, 1]))
        history = [float(np.abs(_predict_bpm(model, test.x) - test.heart_rate_bpm).mean())]
    else:
        model, history = train_heart_rate_cnn(1024 if quick else 8192, n_test,
                                              max_epochs=2 if quick else 24, seed=seed,
                                              n_samples=n_samples)
        torch.save(model.state_dict(), out / "heart_rate_cnn.pt")
    converged = history[-1] < 5.0
    if not converged:
        warnings.warn(f"held-out MAE {history[-1]:.1f} bpm is not below 5 bpm"
                      + (" (quick mode stops early)" if quick else ""), stacklevel=2)
    if user is None:
        demo = synthetic_ppg(window + 1, seconds=n_samples / FS,
                             seed=np.random.SeedSequence([seed, 2]))
        windows, hr = demo.x, float(demo.heart_rate_bpm[window])
    else:
        if not 0 <= window < len(user):
            raise NetspectraError(f"--window must be in [0, {len(user)}); found {window}")
        windows, hr = user, None
    x = torch.from_numpy(windows[window]).float().view(1, 1, -1)
    spectra = activation_spectra(model, x, FS, layers=LAYERS, mode="eval")
    spectra.save(out / "spectra")
    _plot(windows[window], spectra, hr, out / "ppg_activations.png")
    block1, block2 = spectra.layers
    return {
        "mae_bpm": history[-1],
        "mae_history_bpm": history,
        "converged": converged,
        "heart_rate_bpm": hr,
        "predicted_bpm": float(_predict_bpm(model, windows[window:window + 1])[0]),
        "dc_share_block1": block1.dc_share,
        "dc_share_block2": block2.dc_share,
        "peaks_bpm_block1": _peaks_bpm(block1.frequencies, block1.amplitude),
        "peaks_bpm_block2": _peaks_bpm(block2.frequencies, block2.amplitude),
    }
