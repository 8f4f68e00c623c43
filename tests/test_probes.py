"""Activation spectra of any model: oracles, honest capture, the model left as found, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from torch import nn

from netspectra import NetspectraError
from netspectra.probes import ActivationSpectra, activation_spectra, capture_outputs
from netspectra.theory import amplitude_spectrum


def _tone(a=2.0, cycles=8, n=256, offset=0.0):
    t = np.arange(n)
    return torch.tensor(a * np.cos(2 * np.pi * cycles * t / n) + offset).view(1, 1, -1)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_relu_of_tone_matches_the_fourier_series():
    # ReLU(a cos): DC a/π, fundamental a/2, 2nd harmonic 2a/3π, mean square a²/4 -> DC share
    # 4/π². 1024 samples a period keep the aliased harmonics below the tolerance.
    spectra = activation_spectra(nn.Sequential(nn.ReLU()).double(), _tone(n=8192), fs=8192.0)
    layer = spectra["0"]
    assert layer.fs == 8192.0 and layer.frequencies[8] == 8.0
    np.testing.assert_allclose(layer.amplitude[[0, 8, 16]],
                               [2 / np.pi, 1.0, 4 / (3 * np.pi)], rtol=1e-5)
    np.testing.assert_allclose(layer.dc_share, 4 / np.pi**2, rtol=1e-5)
    np.testing.assert_allclose(layer.power.sum(), 1.0, rtol=1e-12)  # mean square a²/4


def test_amplitude_is_the_batch_and_channel_mean_of_the_theory_spectrum():
    x = torch.randn(3, 4, 50, dtype=torch.float64)
    layer = activation_spectra(nn.Sequential(nn.Tanh()).double(), x, fs=10.0,
                               per_channel=True).layers[0]
    f, amp = amplitude_spectrum(torch.tanh(x).numpy(), fs=10.0)
    np.testing.assert_allclose(layer.frequencies, f)
    np.testing.assert_allclose(layer.amplitude, amp.mean(axis=(0, 1)), rtol=1e-10)
    np.testing.assert_allclose(layer.channel_amplitude, amp.mean(axis=0), rtol=1e-10)


def test_sampling_rate_follows_pooling_not_valid_convolutions():
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.AvgPool1d(4), nn.ReLU())
    spectra = activation_spectra(model, torch.randn(2, 1, 256), fs=32.0)
    assert [layer.fs for layer in spectra.layers] == [32.0, 8.0]
    assert spectra.layers[1].frequencies[-1] <= 4.0


def test_two_dimensional_radial_spectrum():
    # A plane wave with wave vector (3, 4) cycles per image lies on the ring of radius 5.
    n, k, a, c = 32, 5, 3.0, 0.5
    yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    img = torch.tensor(a * np.cos(2 * np.pi * (3 * xx + 4 * yy) / n) + c).view(1, 1, n, n)
    layer = activation_spectra(nn.Sequential(nn.Identity()).double(), img, fs=1.0,
                               layers=["0"]).layers[0]
    np.testing.assert_allclose(layer.amplitude[[0, k]], [c, a], rtol=1e-12)
    np.testing.assert_allclose(layer.power.sum(), c**2 + a**2 / 2, rtol=1e-12)
    assert layer.frequencies[k] == pytest.approx(k / n)
    np.testing.assert_allclose(np.delete(layer.amplitude, [0, k]), 0, atol=1e-12)


def test_inplace_relu_is_captured_before_later_inplace_ops():
    class AddOneInPlace(nn.Module):
        def forward(self, x):
            return x.add_(1.0)

    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(inplace=True), AddOneInPlace())
    x = torch.randn(4, 1, 8)
    (cap,) = capture_outputs(model, x)
    expected = torch.relu(model[0](x))
    assert torch.equal(cap.output, expected)


def test_reused_module_is_reported_per_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 1, bias=False)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(self.act(x) - 0.5))

    spectra = activation_spectra(Twice(), torch.randn(2, 1, 64), fs=1.0)
    assert spectra.labels == ["act", "act#1"]
    assert spectra["act#1"].call == 1
    assert not np.allclose(spectra["act"].amplitude, spectra["act#1"].amplitude)


class _Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 2, 3)

    def forward(self, x):
        return F.relu(self.conv(x))


def test_functional_activations_warn_and_can_be_captured_by_name():
    model = _Functional()
    with pytest.warns(UserWarning, match="conv"), pytest.raises(NetspectraError, match="layers="):
        activation_spectra(model, torch.randn(1, 1, 32), fs=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectra = activation_spectra(model, torch.randn(1, 1, 32), fs=1.0, layers=["conv"])
    assert spectra.labels == ["conv"]


def test_hooks_removed_and_mode_restored_even_when_forward_raises():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU()

        def forward(self, x):
            self.act(x)
            raise RuntimeError("boom")

    model = Boom().eval()
    with pytest.raises(NetspectraError, match=r"x of shape \(1, 1, 4\).*module 'Boom'.*boom"):
        capture_outputs(model, torch.randn(1, 1, 4), mode="train")
    assert not model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize("mode", [None, "train", "eval"])
def test_parameters_buffers_and_mode_bit_identical(mode):
    model = nn.Sequential(nn.Conv1d(1, 3, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.5))
    model.train()
    before = _state(model)
    activation_spectra(model, torch.randn(4, 1, 40), fs=2.0, mode=mode)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())


def test_input_follows_model_dtype_and_results_roundtrip(tmp_path):
    model = nn.Sequential(nn.Conv1d(2, 2, 3), nn.ReLU()).double()
    spectra = activation_spectra(model, torch.randn(2, 2, 30), fs=3.0)
    loaded = ActivationSpectra.load(spectra.save(tmp_path / "s"))
    assert loaded.labels == spectra.labels
    np.testing.assert_array_equal(loaded.layers[0].amplitude, spectra.layers[0].amplitude)
    assert isinstance(spectra.plot(), Figure) and isinstance(spectra.layers[0].plot(), Figure)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    model = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU())
    x = torch.randn(2, 1, 64)
    cpu = activation_spectra(model, x, fs=1.0).layers[0]
    gpu = activation_spectra(model.cuda(), x, fs=1.0).layers[0]
    np.testing.assert_allclose(gpu.amplitude, cpu.amplitude, rtol=1e-4, atol=1e-6)
    assert next(model.parameters()).is_cuda


def test_errors_name_the_problem():
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.ReLU(), nn.Tanh())
    x = torch.randn(2, 1, 16)
    with pytest.raises(NetspectraError, match=r"unknown layer 'nope'.*0, 1, 2"):
        activation_spectra(model, x, fs=1.0, layers=["nope"])
    with pytest.raises(NetspectraError, match=r"\(N, C, L\) or \(N, C, H, W\)"):
        activation_spectra(model, torch.randn(2, 16), fs=1.0)
    with pytest.raises(NetspectraError, match="cannot read the output of 3"):
        activation_spectra(model, x, fs=1.0, layers=["1", "3"])
    with pytest.warns(UserWarning, match="skipped"):
        assert activation_spectra(model, x, fs=1.0).labels == ["1"]
    unused = nn.ModuleDict({"used": nn.Conv1d(1, 1, 1), "idle": nn.ReLU()})
    unused.forward = lambda inp: unused["used"](inp)
    with pytest.raises(NetspectraError, match="none of the chosen layers"):
        capture_outputs(unused, x)
    with pytest.raises(NetspectraError, match="fs"):
        activation_spectra(model, x, fs=0.0)


@settings(max_examples=25, deadline=None)
@given(shape=st.sampled_from([(2, 3, 17), (1, 1, 64), (2, 2, 5, 9), (1, 3, 8, 8)]),
       seed=st.integers(0, 1000))
def test_power_sums_to_the_mean_square(shape, seed):
    # Parseval, in 1-D and for the radial 2-D rings alike.
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    layer = activation_spectra(nn.Sequential(nn.ReLU()).double(), x, fs=4.0).layers[0]
    np.testing.assert_allclose(layer.power.sum(), float(torch.relu(x).square().mean()),
                               rtol=1e-10)
    assert 0 <= layer.dc_share <= 1 and 0 <= layer.bandwidth_hz <= layer.frequencies[-1]
