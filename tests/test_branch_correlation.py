"""Correlation of paired paths per frequency band (RR §4.4, Fig. 6): the theory against a
direct computation and known cases, the probe against the theory on recorded paths."""

import numpy as np
import pytest
import torch
from torch import nn

from netspectra import NetspectraError
from netspectra.theory import band_centres, band_correlation
from netspectra.theory.band_correlation import band_gains


def _direct(a: np.ndarray, b: np.ndarray, n_bands: int, detrend: bool) -> np.ndarray:
    """Band-pass each path in the time domain (irfft of the filtered spectrum) and take
    Pearson's correlation of every pair: the definition, one pair and band at a time."""
    n = a.shape[-1]
    t = np.arange(n) / (n - 1)
    gains = band_gains(n, n_bands)
    out = np.empty((a.shape[0], n_bands))
    for i, (p, q) in enumerate(zip(a, b, strict=True)):
        if detrend:
            p, q = (v - (v[0] + (v[-1] - v[0]) * t) for v in (p, q))
        for band, g in enumerate(gains):
            fp, fq = (np.fft.irfft(g * np.fft.rfft(v), n) for v in (p, q))
            out[i, band] = np.corrcoef(fp, fq)[0, 1]
    return out


def _walk_like(rng, shape, n):
    """Random-walk paths: power falling with frequency, like a network's paths."""
    return rng.standard_normal((*shape, n)).cumsum(axis=-1)


@pytest.mark.parametrize("n", [16, 17, 200])
@pytest.mark.parametrize("detrend", [True, False])
def test_band_correlation_equals_the_time_domain_definition(n, detrend):
    rng = np.random.default_rng(n)
    a = _walk_like(rng, (12,), n)
    b = 0.6 * a + _walk_like(rng, (12,), n) + rng.standard_normal((12, n))
    n_bands = 4 if n < 100 else 10
    corr, valid = band_correlation(a, b, n_bands=n_bands, detrend=detrend)
    assert valid.all() and corr.shape == (12, n_bands)
    np.testing.assert_allclose(corr, _direct(a, b, n_bands, detrend), atol=1e-10)


def test_shared_low_frequencies_correlate_and_independent_high_ones_do_not():
    # FDSA's picture: a shared slow component plus independent fast noise in each summand.
    rng = np.random.default_rng(0)
    n, pairs = 200, 2000
    k = np.arange(n // 2 + 1)

    def band_limited(keep, count):
        z = rng.standard_normal((count, k.size)) + 1j * rng.standard_normal((count, k.size))
        return np.fft.irfft(z * keep, n)

    shared = band_limited((k >= 1) & (k <= 12), pairs)
    a = shared + band_limited(k >= 40, pairs)
    b = 2.0 * shared + band_limited(k >= 40, pairs)
    corr, valid = band_correlation(a, b, detrend=False)  # periodic by construction
    centres, sigma = band_centres(n)
    assert valid.all() and sigma == 5.0 and centres[0] == 5.5
    mean = corr.mean(axis=0)
    assert mean[0] > 0.97
    assert np.all(np.abs(mean[5:]) < 0.03)  # centres ≥ 55.5: only the independent noise
    assert np.all(np.diff(np.abs(mean[:5])) < 0)  # decays from low to high


def test_identities_perfect_negated_scaled_and_offset():
    rng = np.random.default_rng(1)
    a = _walk_like(rng, (5, 3), 64)
    b = _walk_like(rng, (5, 3), 64)
    for detrend in (True, False):
        same, valid = band_correlation(a, a, n_bands=6, detrend=detrend)
        assert valid.all()
        np.testing.assert_allclose(same, 1.0, atol=1e-12)
        np.testing.assert_allclose(band_correlation(a, -a, n_bands=6, detrend=detrend)[0],
                                   -1.0, atol=1e-12)
        reference = band_correlation(a, b, n_bands=6, detrend=detrend)[0]
        moved = band_correlation(3.0 * a + 5.0, -0.5 * b - 7.0, n_bands=6, detrend=detrend)[0]
        np.testing.assert_allclose(moved, -reference, atol=1e-12)
    # The sample axis can be any axis.
    np.testing.assert_allclose(band_correlation(np.moveaxis(a, -1, 0), np.moveaxis(b, -1, 0),
                                                n_bands=6, axis=0)[0],
                               band_correlation(a, b, n_bands=6)[0], atol=1e-12)


def test_detrending_keeps_a_shared_trend_out_of_the_high_bands():
    # Paths sharing a steep trend with independent fast wiggles: the endpoint jump of the
    # raw paths spreads the trend's 1/k tail into every band and correlates them there.
    rng = np.random.default_rng(2)
    n = 100
    t = np.linspace(0, 1, n)
    trend = 20.0 * t
    a = trend + rng.standard_normal((500, n))
    b = trend + rng.standard_normal((500, n))
    raw = band_correlation(a, b, detrend=False)[0].mean(axis=0)
    detrended = band_correlation(a, b)[0].mean(axis=0)
    assert raw[-1] > 0.3
    assert np.all(np.abs(detrended[1:]) < 0.05)


def test_bands_tile_the_spectrum_and_constant_paths_are_not_valid():
    for n, n_bands in ((8, 1), (8, 4), (101, 7), (200, 10)):
        centres, sigma = band_centres(n, n_bands)
        gains = band_gains(n, n_bands)
        assert np.all(np.diff(centres) > 0) and centres[0] > 0.5 and centres[-1] < n // 2 + 0.5
        assert gains[:, 0].max() == 0  # DC excluded
        assert gains[:, 1:].max(axis=0).min() >= np.exp(-0.5) - 1e-12  # every bin covered
        assert sigma == pytest.approx((n // 2) / n_bands / 2)
    rng = np.random.default_rng(3)
    a = _walk_like(rng, (4,), 32)
    b = a.copy()
    b[1] = 7.0  # constant: a dead unit
    b[2] = 1.0 + 2.0 * np.linspace(0, 1, 32)  # linear: constant once detrended
    corr, valid = band_correlation(a, b, n_bands=4)
    assert valid[[0, 3]].all() and not valid[[1, 2]].any()
    assert np.all(corr[~valid] == 0) and np.all(np.isfinite(corr))
    assert band_correlation(a, b, n_bands=4, detrend=False)[1][2].all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"b": np.zeros((3, 9))}, "one shape"),
    ({"a": np.zeros((3, 7)), "b": np.zeros((3, 7))}, "at least 8"),
    ({"n_bands": 0}, "n_bands"),
    ({"n_bands": 17}, "at most 16"),
    ({"axis": 2}, "axis"),
    ({"a": np.full((3, 32), np.nan)}, "finite"),
])
def test_band_correlation_refuses_bad_input(kwargs, message):
    args = {"a": np.ones((3, 32)), "b": np.ones((3, 32))} | kwargs
    with pytest.raises(NetspectraError, match=message):
        band_correlation(args.pop("a"), args.pop("b"), **args)


# ----------------------------------------------------------------------------------- the probe

class _TwoBranches(nn.Module):
    """``left(h) + right(h)`` after a nonlinear stem (so that no path is linear in ``t``), and
    ``same``: the left branch's output again in contiguous layout (a twin of ``left`` at
    other memory strides, as the walk runs 4-D inputs in channels-last)."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.stem, self.act = nn.Conv2d(2, 4, 3, padding=1), nn.Tanh()
        self.left, self.right = nn.Conv2d(4, 3, 3, padding=1), nn.Conv2d(4, 3, 3, padding=1)
        self.same = _Contiguous()
        for p in self.parameters():
            nn.init.normal_(p, std=0.5, generator=gen)

    def forward(self, v):
        h = self.act(self.stem(v))
        left = self.left(h)
        total = left + self.right(h) + 0 * self.same(left)
        return total.mean(dim=(2, 3))


class _Contiguous(nn.Module):
    def forward(self, v):
        return v.contiguous()


def _images(n=3, seed=1):
    return torch.randn(n, 2, 6, 6, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def test_probe_equals_the_theory_on_the_walks_paths():
    from netspectra.probes import branch_correlation, walk_paths

    model, x = _TwoBranches().double(), _images()
    kwargs = {"alpha": 2.0, "n_points": 32, "seed": 4, "max_neurons": None, "progress": False}
    result = branch_correlation(model, x, [("left", "right")], 2, n_bands=5, **kwargs)
    paths = walk_paths(model, x, 2, layers=["left", "right"], **kwargs)
    corr, valid = band_correlation(paths.layers["left"], paths.layers["right"], n_bands=5,
                                   axis=1)
    count = valid.sum(axis=1)
    np.testing.assert_allclose(result.pair_abs_correlation[0],
                               np.abs(corr).sum(axis=1) / count, rtol=1e-12)
    np.testing.assert_allclose(result.pair_correlation[0], corr.sum(axis=1) / count,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(result.pair_valid[0], count)
    np.testing.assert_allclose(result.abs_correlation,
                               result.pair_abs_correlation.mean(axis=(0, 1)), rtol=1e-12)
    assert result.neurons == [3 * 3 * 36] and result.band_centres.shape == (5,)


@pytest.mark.parametrize("strategy", ["loop", "vmap"])
def test_both_summands_are_recorded_at_the_same_positions(strategy):
    # The same values at other memory strides: only identical positions correlate to 1.
    from netspectra.probes import branch_correlation

    model, x = _TwoBranches().double(), _images()
    result = branch_correlation(model, x, [("left", "same")], 1, n_points=16, n_bands=3,
                                max_neurons=17, strategy=strategy, progress=False)
    assert result.neurons == [17]
    np.testing.assert_allclose(result.pair_correlation, 1.0, atol=1e-12)


def test_resnet_summand_pairs_and_the_probe_leave_the_model_as_found(tmp_path):
    from netspectra.models import CifarResNet
    from netspectra.probes import BranchCorrelation, branch_correlation

    gen = torch.Generator().manual_seed(0)
    v1 = CifarResNet(8, version=1, generator=gen)
    v2 = CifarResNet(8, version=2, generator=gen)
    assert v1.summand_pairs == [("block1.shortcut", "block1.bn2"),
                                ("block2.shortcut", "block2.bn2"),
                                ("block3.shortcut", "block3.bn2")]
    assert [b for _, b in v2.summand_pairs] == ["block1.conv2", "block2.conv2", "block3.conv2"]
    assert CifarResNet(8, shortcut=False).summand_pairs == []
    x = torch.randn(4, 3, 16, 16, generator=gen)
    before = {k: v.clone() for k, v in v2.state_dict().items()}
    result = branch_correlation(v2, x, v2.summand_pairs, 2, n_points=24, n_bands=4,
                                max_neurons=256, progress=False)
    assert all(torch.equal(before[k], v) for k, v in v2.state_dict().items())
    assert result.pair_abs_correlation.shape == (3, 2, 4) and result.neurons == [256] * 3
    assert np.all((result.abs_correlation > 0) & (result.abs_correlation <= 1))
    loaded = BranchCorrelation.load(result.save(tmp_path / "branch"))
    np.testing.assert_array_equal(loaded.pair_abs_correlation, result.pair_abs_correlation)
    assert loaded.pairs == [list(p) for p in v2.summand_pairs]
    assert loaded.plot() is not None


def test_relu_summands_decorrelate_with_frequency():
    # RR §4.4, Fig. 6 at tiny settings: the shortcut and the ReLU branch share the low
    # frequencies of a path more than the high ones.
    from netspectra.models import CifarResNet
    from netspectra.probes import branch_correlation

    for seed in (0, 1):
        gen = torch.Generator().manual_seed(seed)
        model = CifarResNet(14, "relu", version=2, generator=gen)
        x = torch.randn(8, 3, 16, 16, generator=gen)
        r = branch_correlation(model, x, model.summand_pairs, 2, alpha=2.0, n_points=48,
                               n_bands=6, max_neurons=512, seed=seed, progress=False)
        assert r.abs_correlation[0] > r.abs_correlation[-1] + 0.1


@pytest.mark.parametrize(("pairs", "message"), [
    ([], "non-empty"),
    ("left", "non-empty"),
    ([("left",)], r"pairs\[0\]"),
    ([("left", "left")], "two different"),
    ([("left", "right"), ("right", "same")], "already paired"),
    ([("left", "nope")], "unknown layer 'nope'"),
    ([("left", "stem")], "same shape"),
])
def test_probe_refuses_bad_pairs(pairs, message):
    from netspectra.probes import branch_correlation

    with pytest.raises(NetspectraError, match=message):
        branch_correlation(_TwoBranches().double(), _images(), pairs, 1, n_points=8,
                           n_bands=2, progress=False)


def test_probe_refuses_summands_called_twice_and_bands_beyond_the_spectrum():
    from netspectra.probes import branch_correlation

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, v):
            return self.a(self.a(v)) + self.b(v)

    with pytest.raises(NetspectraError, match="'a' must output one tensor"):
        branch_correlation(Twice(), torch.randn(2, 3), [("a", "b")], 1, n_points=8,
                           n_bands=2, progress=False)
    with pytest.raises(NetspectraError, match="n_bands must be at most 4"):
        branch_correlation(Twice(), torch.randn(2, 3), [("a", "b")], 1, n_points=8,
                           n_bands=5, progress=False)


def test_paired_paths_fit_the_memory_budget():
    from netspectra.probes import branch_correlation

    model, x = _TwoBranches().double(), _images(n=4)
    n_points, budget = 16, 2 * 16 * 8 * 50  # room for 50 positions per summand
    result = branch_correlation(model, x, [("left", "right")], 1, n_points=n_points,
                                n_bands=2, max_neurons=None, memory_budget=budget,
                                progress=False)
    assert result.neurons == [50]
    assert 2 * result.neurons[0] * n_points * 8 <= budget
