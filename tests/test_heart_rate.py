"""HeartRateCNN (DC paper V-B) and its Keras .h5 loader, against NumPy in Keras' layout."""

import json
import os
import sys

import numpy as np
import pytest
import torch
from scipy.signal import find_peaks
from torch import nn

from netspectra.data import synthetic_ppg
from netspectra.errors import NetspectraError
from netspectra.experiments import reproduce
from netspectra.experiments.ppg_activations import KERAS_INPUT_SCALE, train_heart_rate_cnn
from netspectra.models import HeartRateCNN, load_keras_heart_rate
from netspectra.probes import activation_spectra

try:
    import h5py
except ImportError:  # the optional extra 'h5'
    h5py = None
needs_h5py = pytest.mark.skipif(h5py is None, reason="h5py (extra 'h5') is not installed")

CHANNELS, POOLS = (32, 48, 64), (4, 2, 2)
PROJECTIONS = ("query", "key", "value", "attention_output")


def keras_weights(rng, steps=4, heads=2, key_dim=8):
    """Random weights in Keras' layout: [(layer kind, {role: array})] in model order."""
    def normal(*shape, scale=1.0):
        return rng.normal(0.0, scale, shape)

    layers, c_in = [], 1
    for c in CHANNELS:
        for _ in range(3):
            layers.append(("conv", {"kernel": normal(5, c_in, c, scale=(5 * c_in) ** -0.5),
                                    "bias": normal(c, scale=0.1)}))
            c_in = c
    att = {}
    for p in PROJECTIONS:
        last = p == "attention_output"
        att[f"{p}/kernel"] = (normal(heads, key_dim, 64, scale=(heads * key_dim) ** -0.5) if last
                              else normal(64, heads, key_dim, scale=0.125))
        att[f"{p}/bias"] = normal(64, scale=0.1) if last else normal(heads, key_dim, scale=0.1)
    layers.append(("attention", att))
    layers.append(("norm", {"gamma": 1 + normal(64, scale=0.1), "beta": normal(64, scale=0.1)}))
    layers.append(("dense", {"kernel": normal(64 * steps, 32, scale=(64 * steps) ** -0.5),
                             "bias": normal(32, scale=0.1)}))
    layers.append(("dense", {"kernel": normal(32, 1, scale=32**-0.5), "bias": normal(1)}))
    return layers


def keras_config(*, dilation=2, pools=(4, 2, 2), epsilon=0.001, value_dim=None, extra=()):
    """A Keras model config of the architecture (the settings the weights do not show)."""
    def layer(name, **config):
        return {"class_name": name, "config": {"name": name.lower(), **config}}

    conv = layer("Conv1D", kernel_size=[5], strides=[1], dilation_rate=[dilation],
                 padding="causal", activation="relu", use_bias=True)
    blocks = [{"class_name": "Functional", "config": {"layers": [
        layer("InputLayer"), conv, conv, conv,
        layer("AveragePooling1D", pool_size=[p], strides=[p], padding="valid"),
        layer("Dropout", rate=0.5)]}} for p in pools]
    return {"class_name": "Functional", "config": {"layers": [
        layer("InputLayer"), *blocks,
        layer("MultiHeadAttention", num_heads=2, key_dim=8, value_dim=value_dim, use_bias=True,
              output_shape=None),
        layer("LayerNormalization", epsilon=epsilon, center=True, scale=True), *extra,
        layer("Flatten"), layer("Dense", activation="relu", use_bias=True),
        layer("Dense", activation="linear", use_bias=True)]}}


def write_keras_h5(path, layers, *, nested=True, full=True, config=None):
    """Write ``layers`` as Keras 2 does: one group per layer in model order (``layer_names``),
    each listing its variables (``weight_names``); the convolutions inside 3 block models
    (``nested``) or not; under ``model_weights`` with the model ``config`` (a full-model save)
    or at the root."""
    def names(values):  # as Keras: fixed-length bytes; no names is an empty float array
        return np.array([v.encode() for v in values])

    with h5py.File(path, "w") as f:
        if full:
            f.attrs["model_config"] = json.dumps(config or keras_config())
        root = f.create_group("model_weights") if full else f
        top = [["input_7", []]]
        for i, (kind, weights) in enumerate(layers):
            layer = f"{kind}_{i + 40}"
            entries = [(f"{layer}/{role}:0", value) for role, value in weights.items()]
            if kind == "conv" and nested and i % 3:
                top[-1][1] += entries
            else:
                top.append([f"model_{i + 20}" if kind == "conv" and nested else layer, entries])
            if kind == "norm":
                top.append(["flatten_3", []])
        root.attrs["layer_names"] = names(name for name, _ in top)
        for name, entries in top:
            group = root.create_group(name)
            group.attrs["weight_names"] = names(w for w, _ in entries)
            for w, value in entries:
                group.create_dataset(w, data=value.astype(np.float32))


def _relu(x):
    return np.maximum(x, 0.0)


def numpy_forward(layers, x):
    """Keras' computation in NumPy, channels-last, from the Keras-layout weights."""
    h = x[:, :, None]
    for block in range(3):
        for kind, w in layers[3 * block:3 * block + 3]:
            assert kind == "conv"
            k = w["kernel"]
            padded = np.pad(h, ((0, 0), (8, 0), (0, 0)))  # causal: (5 - 1) · dilation 2
            taps = [padded[:, 2 * j:2 * j + h.shape[1]] for j in range(5)]
            h = _relu(sum(t @ k[j] for j, t in enumerate(taps)) + w["bias"])
        p = POOLS[block]
        h = h[:, :h.shape[1] // p * p].reshape(len(h), -1, p, h.shape[2]).mean(axis=2)
    a = layers[9][1]
    q, k, v = (np.einsum("ntc,chd->nthd", h, a[f"{p}/kernel"]) + a[f"{p}/bias"]
               for p in ("query", "key", "value"))
    scores = np.einsum("nshd,nthd->nhts", k, q / np.sqrt(q.shape[-1]))
    probs = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    o = np.einsum("nhts,nshd->nthd", probs, v)
    o = np.einsum("nthd,hdc->ntc", o, a["attention_output/kernel"]) + a["attention_output/bias"]
    norm = layers[10][1]
    o = (o - o.mean(-1, keepdims=True)) / np.sqrt(o.var(-1, keepdims=True) + 1e-3)
    o = o * norm["gamma"] + norm["beta"]
    d1, d2 = layers[11][1], layers[12][1]
    flat = o.reshape(len(o), -1)
    return (_relu(flat @ d1["kernel"] + d1["bias"]) @ d2["kernel"] + d2["bias"])[:, 0]


@needs_h5py
@pytest.mark.parametrize(("nested", "full"), [(True, True), (False, False)])
def test_keras_h5_matches_numpy_forward(tmp_path, nested, full):
    layers = keras_weights(np.random.default_rng(0))
    write_keras_h5(tmp_path / "m.h5", layers, nested=nested, full=full)
    model = load_keras_heart_rate(tmp_path / "m.h5")
    assert not model.training
    assert (model.n_samples, model.attention.heads, model.attention.key_dim) == (64, 2, 8)
    x = np.random.default_rng(1).normal(size=(5, 64))
    expected = numpy_forward(layers, x)
    with torch.no_grad():
        got = model(torch.from_numpy(x).float().unsqueeze(1)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        got64 = model.double()(torch.from_numpy(x).unsqueeze(1)).numpy()
    np.testing.assert_allclose(got64, expected, rtol=1e-6, atol=1e-6)  # float32 weights


@needs_h5py
def test_ppg_activations_analyses_keras_weights(tmp_path):
    write_keras_h5(tmp_path / "m.h5", keras_weights(np.random.default_rng(2), steps=16))
    with pytest.warns(UserWarning, match="not below 5 bpm"):  # random weights
        res = reproduce("ppg-activations", tmp_path / "out", quick=True,
                        weights=str(tmp_path / "m.h5"))
    assert res["network"] == "keras-h5" and res["input_scale"] == KERAS_INPUT_SCALE
    assert np.isfinite(res["mae_bpm"]) and res["mae_history_bpm"] == [res["mae_bpm"]]
    assert set(res["mae_bpm_by_band"]) <= {f"{b}-{b + 20}" for b in range(40, 180, 20)}
    assert res["mae_bpm_by_input_scale"][f"{KERAS_INPUT_SCALE:g}"] == res["mae_bpm"]
    with pytest.warns(UserWarning, match="not below 5 bpm"):
        half = reproduce("ppg-activations", tmp_path / "out", quick=True,
                         weights=str(tmp_path / "m.h5"), input_scale=KERAS_INPUT_SCALE / 2)
    assert half["input_scale"] == KERAS_INPUT_SCALE / 2 and half["mae_bpm"] != res["mae_bpm"]
    write_keras_h5(tmp_path / "short.h5", keras_weights(np.random.default_rng(2), steps=4))
    with pytest.raises(NetspectraError, match="take windows of 64 samples; the windows have 256"):
        reproduce("ppg-activations", tmp_path / "out", quick=True,
                  weights=str(tmp_path / "short.h5"))


def test_attention_is_torch_multihead_attention_when_widths_agree():
    model = HeartRateCNN(64, heads=4, key_dim=16, generator=torch.Generator().manual_seed(0))
    att = model.attention
    for p in att.parameters():  # the Keras initialisation leaves biases at 0
        nn.init.normal_(p, std=0.2)
    ref = nn.MultiheadAttention(64, 4, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([att.query.weight, att.key.weight, att.value.weight]))
        ref.in_proj_bias.copy_(torch.cat([att.query.bias, att.key.bias, att.value.bias]))
        ref.out_proj.weight.copy_(att.output.weight)
        ref.out_proj.bias.copy_(att.output.bias)
        h = torch.randn(3, 7, 64)
        torch.testing.assert_close(att(h), ref(h, h, h, need_weights=False)[0])


def test_training_is_seeded_whatever_the_global_generator():
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        runs.append(train_heart_rate_cnn(128, 64, max_epochs=1, seed=3))
        assert torch.equal(torch.get_rng_state(), before)  # the caller's generator as found
    (first, history), (second, again) = runs
    assert history == again
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def _one_line_error(path, match):
    with pytest.raises(NetspectraError, match=match) as info:
        load_keras_heart_rate(path)
    assert "\n" not in str(info.value)


@needs_h5py
@pytest.mark.parametrize(("edit", "match"), [
    (lambda ls: ls[:-1], r"found conv×9, attention, norm, dense$"),
    (lambda ls: [ls[0], *ls], r"found conv×10, attention"),
    (lambda ls: [*ls[:9], ls[10], ls[9], *ls[11:]], "found conv×9, norm, attention"),
    (lambda ls: [(k, {**w, "kernel": w["kernel"][:3]}) if i == 4 else (k, w)
                 for i, (k, w) in enumerate(ls)], r"block2.conv2 kernel .* expected float"),
    (lambda ls: [*ls[:12], ("dense", {"kernel": np.ones((32, 2)), "bias": np.ones(2)})],
     r"head.3 kernel"),
    (lambda ls: [*ls[:10], ("norm", {"gamma": np.full(64, np.nan), "beta": np.zeros(64)}),
                 *ls[11:]], "norm gamma holds NaN"),
])
def test_keras_h5_refuses_other_architectures(tmp_path, edit, match):
    write_keras_h5(tmp_path / "m.h5", edit(keras_weights(np.random.default_rng(0))))
    _one_line_error(tmp_path / "m.h5", match)


@needs_h5py
@pytest.mark.parametrize(("config", "match"), [
    ({"dilation": 1}, r"Conv1D 'conv1d' has dilation_rate=\[1\]; expected \[2\]"),
    ({"pools": (2, 2, 4)}, r"pool_size=\[2\]; expected \[4\]"),
    ({"epsilon": 1e-5}, "epsilon=1e-05; expected 0.001"),
    ({"value_dim": 4}, "value_dim=4; expected 8"),
    ({"extra": [{"class_name": "Dense", "config": {}}]}, "model config has layers Conv1D"),
])
def test_keras_h5_refuses_other_layer_settings(tmp_path, config, match):
    layers = keras_weights(np.random.default_rng(0))
    write_keras_h5(tmp_path / "m.h5", layers, config=keras_config(**config))
    _one_line_error(tmp_path / "m.h5", match)
    write_keras_h5(tmp_path / "ok.h5", layers, config=keras_config(value_dim=8))
    assert load_keras_heart_rate(tmp_path / "ok.h5").attention.key_dim == 8


@needs_h5py
def test_keras_h5_refuses_files_that_are_not_keras_weights(tmp_path):
    _one_line_error(tmp_path / "missing.h5", "does not exist")
    _one_line_error(tmp_path, "does not exist or is not a file")
    (tmp_path / "empty.h5").write_bytes(b"")
    _one_line_error(tmp_path / "empty.h5", "not a readable Keras HDF5 file")
    (tmp_path / "junk.h5").write_bytes(os.urandom(4096))
    _one_line_error(tmp_path / "junk.h5", "not a readable Keras HDF5 file")
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.zeros(3)
    _one_line_error(tmp_path / "plain.h5", "layer_names")
    with h5py.File(tmp_path / "config.h5", "w") as f:
        f.attrs["model_config"] = "{not json"
    _one_line_error(tmp_path / "config.h5", "not a readable Keras HDF5 file")
    with h5py.File(tmp_path / "dangling.h5", "w") as f:
        f.attrs["layer_names"] = np.array([b"conv"])
    _one_line_error(tmp_path / "dangling.h5", "not a readable Keras HDF5 file")


def test_keras_h5_without_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(NetspectraError, match=r"netspectra\[h5\]"):
        load_keras_heart_rate(tmp_path / "m.h5")


def test_heart_rate_cnn_is_the_reference_architecture():
    model = HeartRateCNN().eval()
    assert model(torch.randn(2, 1, 256)).shape == (2,)
    assert model.norm.eps == 1e-3
    names = dict(model.named_modules())
    assert {"block1.relu3", "block2.relu3", "attention.query", "attention.output"} <= names.keys()
    widths = [m.out_channels for m in model.modules() if isinstance(m, nn.Conv1d)]
    assert widths == [32] * 3 + [48] * 3 + [64] * 3
    assert HeartRateCNN(heads=5).attention.query.out_features == 80  # Keras: heads × key_dim


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"heads": 0}, "heads must be >= 1"),
    ({"heads": 2.5}, "heads must be an integer"),
    ({"key_dim": 10**6}, r"heads × key_dim must be <= 4096"),
    ({"n_samples": 8}, "n_samples must be >= 16"),
    ({"n_samples": 2**40}, "n_samples must be <="),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"dropout": "x"}, "dropout must be a real number"),
    ({"init": "he"}, "unknown init"),
    ({"generator": 3}, "generator must be a torch.Generator"),
])
def test_heart_rate_cnn_refuses_bad_arguments(kwargs, match):
    with pytest.raises(NetspectraError, match=match):
        HeartRateCNN(**kwargs)


def test_heart_rate_cnn_refuses_inputs_of_another_shape():
    model = HeartRateCNN(64)
    wrong = (torch.zeros(2, 64), torch.zeros(2, 2, 64), torch.zeros(2, 1, 80), np.zeros((2, 1, 64)))
    for x in wrong:
        with pytest.raises(NetspectraError, match=r"x must be a tensor of shape \(N, 1, 64\)"):
            model(x)


REAL_WEIGHTS = os.environ.get("NETSPECTRA_PPG_WEIGHTS")


@needs_h5py
@pytest.mark.skipif(not REAL_WEIGHTS, reason="NETSPECTRA_PPG_WEIGHTS is not set")
def test_authors_trained_network_reads_heart_rate_and_shows_fig3():
    model = load_keras_heart_rate(REAL_WEIGHTS)
    data = synthetic_ppg(256, heart_rate_range=(70.0, 140.0), seed=5)
    x = torch.from_numpy(data.x * KERAS_INPUT_SCALE).float().unsqueeze(1)
    with torch.no_grad():
        error = np.abs(model(x).numpy() - data.heart_rate_bpm)
    assert error.mean() < 5.0 and np.median(error) < 3.0
    # Fig. 3 on the trained network: block 1's spectrum holds a prominent DC, and its largest
    # peaks are the heart rate and its harmonics (within one bin, 1/8 Hz = 7.5 bpm). Measured
    # over 256 windows of 70-140 bpm: the heart rate is among the 4 largest peaks in all,
    # twice it among the 6 largest in all (the 4 largest in 94 %), and 99 % of the 4 largest
    # peaks are harmonics.
    clean = synthetic_ppg(8, heart_rate_range=(70.0, 140.0), noise=0.0, seed=6)
    harmonic_share = []
    for window, bpm in zip(clean.x, clean.heart_rate_bpm, strict=True):
        x = torch.from_numpy(window * KERAS_INPUT_SCALE).float().view(1, 1, -1)
        layer = activation_spectra(model, x, 32.0, layers=["block1.relu3"])["block1.relu3"]
        freq_bpm, amp = layer.frequencies * 60, layer.amplitude
        peaks, _ = find_peaks(amp)
        top = freq_bpm[peaks[np.argsort(amp[peaks])[::-1][:6]]]
        assert np.abs(top[:4] - bpm).min() <= 7.5 and np.abs(top - 2 * bpm).min() <= 7.5
        harmonic_share.append(np.mean(np.abs(top[:4] - bpm * np.round(top[:4] / bpm)) <= 7.5))
        assert amp[0] > 2.5 * np.median(amp) and layer.dc_share > 0.05
    assert np.mean(harmonic_share) >= 0.9
