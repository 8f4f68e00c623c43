"""The DC paper's networks and signal generators against hand-computable oracles."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.data import load_signal_windows, sinusoid_classes, synthetic_ppg
from netspectra.data.signals import class_dc_offsets
from netspectra.models import (
    DifferentiationNet,
    HeartRateCNN,
    MinimalDCNet,
    MovingAverageNet,
    TwoConvClassifier,
    glorot_uniform_,
)
from netspectra.models._layers import CausalConv1d
from netspectra.theory import amplitude_spectrum, filtered_tone_dc


@settings(max_examples=20, deadline=None)
@given(k=st.integers(1, 4), d=st.integers(1, 3), seed=st.integers(0, 100))
def test_causal_conv_is_np_convolve_with_flipped_kernel(k, d, seed):
    rng = np.random.default_rng(seed)
    conv = CausalConv1d(1, 1, k, dilation=d, bias=False).double()
    w = rng.normal(size=k)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w).view(1, 1, k))
    x = rng.normal(size=30)
    taps = np.zeros((k - 1) * d + 1)
    taps[::d] = w[::-1]
    expected = np.convolve(x, taps)[:30]
    got = conv(torch.from_numpy(x).view(1, 1, -1)).detach().numpy().ravel()
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_glorot_uniform_bounds_and_variance():
    conv = torch.nn.Conv1d(16, 32, 3)
    glorot_uniform_(conv, torch.Generator().manual_seed(0))
    limit = np.sqrt(6 / (16 * 3 + 32 * 3))
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.1)
    assert torch.count_nonzero(conv.bias) == 0


@torch.no_grad()
def test_example_networks_compute_relu_of_difference_and_moving_average():
    x = torch.randn(1, 1, 40, dtype=torch.float64)
    diff = DifferentiationNet(n_layers=1, fs=8.0).double()
    np.testing.assert_allclose(diff(x), torch.relu(8.0 * torch.diff(x)), atol=1e-12)
    ma = MovingAverageNet(n_layers=1, width=4).double()
    expected = torch.relu(x.unfold(-1, 4, 1).mean(-1))
    np.testing.assert_allclose(ma(x), expected, atol=1e-12)
    assert len(list(DifferentiationNet(5).modules())) == 11  # Sequential + 5 × (conv, ReLU)


@torch.no_grad()
def test_minimal_dc_net_gives_the_filtered_tone_dc():
    # GAP output = a|H(f)|/π (eq. 10) up to the causal start (O(1/L)). A frequency that
    # divides fs would alias a harmonic onto 0 Hz, so 3.7 Hz (incommensurate) is used.
    net = MinimalDCNet(generator=torch.Generator().manual_seed(3)).double()
    t = np.arange(8192) / 32.0
    x = torch.from_numpy(1.5 * np.cos(2 * np.pi * 3.7 * t)).view(1, 1, -1)
    taps = net.conv.weight.numpy().ravel()[::-1]
    expected = filtered_tone_dc(1.5, 3.7, taps, 32.0)
    assert float(net(x)) == pytest.approx(float(expected), abs=2e-3)


@torch.no_grad()
def test_two_conv_classifier_linear_features_are_linear():
    model = TwoConvClassifier("linear", generator=torch.Generator().manual_seed(1)).double()
    x, y = torch.randn(2, 1, 1, 64, dtype=torch.float64)

    def features(v):
        return model.act2(model.conv2(model.act1(model.conv1(v))))

    np.testing.assert_allclose(features(2 * x - 3 * y), 2 * features(x) - 3 * features(y),
                               atol=1e-10)
    assert TwoConvClassifier("relu")(torch.randn(5, 1, 256)).shape == (5, 3)
    with pytest.raises(NetspectraError, match="activation"):
        TwoConvClassifier("tanh")


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_linear_classifier_from_window_sums_equals_forward(kernel_size):
    model = TwoConvClassifier("linear", kernel_size=kernel_size,
                              generator=torch.Generator().manual_seed(2)).double()
    x = torch.randn(6, 1, 40, dtype=torch.float64) + 0.7  # an offset, as linear + DC has
    direct = model(x)
    (grad_direct,) = torch.autograd.grad(direct.square().sum(), model.conv1.weight)
    collapsed = model.forward_from_window_sums(model.window_sums(x))
    (grad_collapsed,) = torch.autograd.grad(collapsed.square().sum(), model.conv1.weight)
    np.testing.assert_allclose(collapsed.detach(), direct.detach(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grad_collapsed, grad_direct, rtol=1e-11, atol=1e-13)
    with pytest.raises(NetspectraError, match="linear"):
        TwoConvClassifier("relu").forward_from_window_sums(model.window_sums(x).float())
    with pytest.raises(NetspectraError, match=r"x must have shape \(N, 1, "):
        model.window_sums(torch.zeros(2, 3, 40, dtype=torch.float64))


def test_heart_rate_cnn_shapes_and_probe_layers():
    model = HeartRateCNN().eval()
    assert model(torch.randn(3, 1, 256)).shape == (3,)
    names = dict(model.named_modules())
    assert {"block1.relu3", "block2.relu3", "block3.pool"} <= names.keys()


def test_sinusoid_classes_follow_section_vc():
    data = sinusoid_classes(50, seed=4)
    assert data.x.shape == (150, 256)
    assert np.bincount(data.labels).tolist() == [50, 50, 50]
    for c, f in enumerate((3.0, 5.0, 10.0)):
        assert abs(data.frequencies[data.labels == c] - f).max() < 0.6
    t = np.arange(256) / 32.0
    np.testing.assert_allclose(data.x[0], np.cos(2 * np.pi * data.frequencies[0] * t))
    np.testing.assert_array_equal(sinusoid_classes(50, seed=4).x, data.x)
    np.testing.assert_allclose(class_dc_offsets([0, 1, 2]), np.array([1, 5, 19]) * 2**0.5 / 4)


def test_synthetic_ppg_peaks_at_its_heart_rate():
    ppg = synthetic_ppg(20, noise=0.0, seed=1)
    assert ppg.x.shape == (20, 256) and ppg.fs == 32.0
    assert np.all((ppg.heart_rate_bpm >= 40) & (ppg.heart_rate_bpm <= 180))
    np.testing.assert_allclose(ppg.x.std(axis=1), 1.0)
    f, amp = amplitude_spectrum(ppg.x, fs=32.0)
    peak_bpm = f[np.argmax(amp[:, 1:], axis=1) + 1] * 60
    ratio = peak_bpm / ppg.heart_rate_bpm
    assert np.all(np.isclose(ratio, np.round(ratio), atol=0.12))  # the HR or a harmonic
    assert np.mean(np.isclose(ratio, 1, atol=0.12)) > 0.5
    noisy = synthetic_ppg(20, seed=1)
    np.testing.assert_array_equal(noisy.heart_rate_bpm, ppg.heart_rate_bpm)
    assert not np.allclose(noisy.x, ppg.x)


def test_load_signal_windows(tmp_path):
    x = np.arange(12.0).reshape(3, 4)
    np.savetxt(tmp_path / "w.csv", x, delimiter=",")
    np.save(tmp_path / "w.npy", x)
    np.testing.assert_array_equal(load_signal_windows(tmp_path / "w.csv"), x)
    np.testing.assert_array_equal(load_signal_windows(tmp_path / "w.npy"), x)
    np.save(tmp_path / "one.npy", x[0])
    assert load_signal_windows(tmp_path / "one.npy").shape == (1, 4)
    (tmp_path / "bad.csv").write_text("1,2\n3\n")
    for name, match in (("bad.csv", "numeric CSV"), ("w.txt2", "does not exist"),
                        ("w.csv.gz", "does not exist")):
        with pytest.raises(NetspectraError, match=match):
            load_signal_windows(tmp_path / name)
    (tmp_path / "w.json").write_text("[]")
    with pytest.raises(NetspectraError, match=r"\.csv or \.npy"):
        load_signal_windows(tmp_path / "w.json")


@pytest.mark.parametrize(("make", "message"), [
    (lambda: TwoConvClassifier(kernel_size=0), "kernel_size must be >= 1"),
    (lambda: CausalConv1d(1, 1, 3, dilation=0), "dilation must be >= 1"),
    (lambda: CausalConv1d(2**20, 2**20, 3), r"kernel would need 1.23e\+04 GiB"),
    (lambda: TwoConvClassifier()(torch.zeros(2, 3, 64)), r"x must have shape \(N, 1, L"),
    (lambda: TwoConvClassifier()(np.zeros((2, 1, 64))), "torch.Tensor.*torch.from_numpy"),
    (lambda: DifferentiationNet(3)(torch.zeros(1, 1, 3)), r"\(N, 1, L >= 4\); found \(1, 1, 3\)"),
    (lambda: MinimalDCNet(generator=7), "generator must be a torch.Generator"),
    (lambda: TwoConvClassifier("linear").window_sums(torch.zeros(2, 1, 4)), "L >= 5"),
])
def test_bad_sizes_and_inputs_are_refused_by_name(make, message):
    with pytest.raises(NetspectraError, match=message):
        make()
