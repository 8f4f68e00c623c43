"""Warnings point at the caller's line, however deep inside netspectra they arise."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netspectra.probes import activation_spectra, walk
from netspectra.theory import (
    AliasingWarning,
    RoughnessWarning,
    fractal_coefficient,
    predicted_components,
)


def test_aliasing_has_its_own_class_and_points_at_the_caller():
    with pytest.warns(AliasingWarning, match="Nyquist frequency 20 Hz") as caught:
        predicted_components([1.0, 1.0], [5.0, 15.0], n_terms=10, fs=40.0)
    assert issubclass(AliasingWarning, RuntimeWarning)  # filters on RuntimeWarning still apply
    assert caught[0].filename == __file__


def test_roughness_warning_points_at_the_caller_directly_and_through_walk_fractal():
    rng = np.random.default_rng(0)
    with pytest.warns(RoughnessWarning) as caught:
        fractal_coefficient(rng.uniform(0.5, 1.5, 40))
    assert caught[0].filename == __file__
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), torch.zeros(5).long()
    w = walk(model, x, 1, target=y, n_points=16, progress=False)
    flat = type(w)(**{**w.__dict__, "loss_power": rng.uniform(0.5, 1.5, (1, 8))})
    with pytest.warns(RoughnessWarning) as caught:
        flat.fractal("loss")
    assert caught[0].filename == __file__


class _Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 2, 3)
        self.act = nn.ReLU()

    def forward(self, v):
        return self.act(F.relu(self.conv(v)))


def test_capture_warnings_point_at_the_caller_through_activation_spectra():
    x = torch.randn(2, 1, 32, generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning, match="call activation functions in forward") as caught:
        activation_spectra(_Functional(), x, fs=32.0)
    assert caught[0].filename == __file__
    pooled = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.ReLU())
    with pytest.warns(UserWarning, match="skipped layers") as caught:
        activation_spectra(pooled, x, fs=32.0)
    assert caught[0].filename == __file__


def test_walk_warnings_point_at_the_caller():
    dead = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        dead[0].bias.fill_(-100.0)  # every unit dead: constant paths
    x, y = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), torch.zeros(5).long()
    with pytest.warns(UserWarning, match="only constant paths") as caught:
        walk(dead, x, 1, target=y, layers=["1"], n_points=8, alpha=0.1,
             progress=False)
    assert caught[0].filename == __file__
