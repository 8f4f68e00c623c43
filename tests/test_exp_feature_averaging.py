"""feature-averaging (RR Fig. 8, right) at tiny settings: the paper's claim, result.json,
figures, resumable units and invalid input.

Toy-CNNs of 50 units with averaging factors 1, 2 and 4, one initialisation and one direction
each, on 8 digits, 100 points, α = 1. Over seeds 0-3 the last unit's h was 0.13-0.15 (a = 1),
0.34-0.51 (a = 2) and 0.90-1.14 (a = 4), its power above the fit band 0.39, 0.11-0.22 and
≤ 0.017. The loss path's h does not rise with a at every step at such sizes (quick run, seeds
0-3, a = 3 → 4: 1.05 → 0.99, 0.98 → 1.22, 0.82 → 0.96, 1.22 → 0.99), so only the last layer's
is asserted.
"""

import json

import numpy as np
import pytest
import torch
from _claim_checks import saved_claims

from netspectra import NetspectraError
from netspectra.experiments import registry, reproduce
from netspectra.experiments._last_layer import init_key, last_layer_walk
from netspectra.experiments._rr import fresh_batch, image_data
from netspectra.experiments._sweep import unit_seed
from netspectra.experiments.feature_averaging import averaging_unit
from netspectra.models import ToyCNN

TINY = {"averaging": [1, 2, 4], "inits": 1, "directions": 1, "batch_size": 8, "workers": 1}
SEEDS = (0, 1, 2)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return {s: reproduce("feature-averaging", out / str(s), quick=True, seed=s, **TINY)
            for s in SEEDS}, out


def test_averaging_smooths_the_last_layer(runs):
    results, _ = runs
    for seed, res in results.items():
        h, high = res["h_last_layer"], res["high_frequency_power"]
        assert list(h) == ["1", "2", "4"]
        assert h["1"] + 0.1 < h["2"] and h["2"] + 0.2 < h["4"], (seed, h)
        assert high["1"] > high["2"] > high["4"], (seed, high)
        assert res["claims"][0]["holds"]


def test_outputs(runs):
    results, out = runs
    res, directory = results[0], out / "0" / "feature-averaging"
    assert saved_claims(directory) == res["claims"]
    saved = json.loads((directory / "result.json").read_text())
    assert saved["h_last_layer"] == res["h_last_layer"] and saved["averaging"] == [1, 2, 4]
    assert res["depth"] == 50 and res["points"] == 100 and res["band"] == [1, 25]
    assert all(v == 0.0 for v in res["h_std"].values())  # one initialisation per factor
    with np.load(directory / "feature_averaging.npz") as data:
        assert data["h"].shape == (3, 1, 1) and data["mean_power"].shape == (3, 50)
        assert data["mean_loss_power"].shape == (3, 50)
        np.testing.assert_allclose(data["h"][:, 0, 0], list(res["h_last_layer"].values()))
        # Each path normalised by its own AC power: every mean spectrum sums to 1.
        np.testing.assert_allclose(data["mean_power"].sum(axis=1), 1.0, rtol=1e-6)
    assert (directory / "feature_averaging.png").stat().st_size > 0


def test_a_unit_is_the_walk_of_its_network(runs):
    # The unit equals a walk of the network and batch its key names, built by hand.
    results, out = runs
    key = init_key("2", 0)
    units = out / "0" / "feature-averaging" / results[0]["units"]
    with np.load(units / f"{key}.npz") as saved:
        stored = {k: saved[k] for k in saved.files}
    s = unit_seed(0, key)
    model = ToyCNN(50, 16, "relu", averaging=2, generator=torch.Generator().manual_seed(s))
    x, y = fresh_batch(image_data(None), 8, s, torch.device("cpu"))
    by_hand = last_layer_walk(model, x, y, "unit50", directions=1, alpha=1.0, points=100,
                              seed=s, strategy="vmap")
    for name, value in by_hand.items():
        np.testing.assert_allclose(stored[name], value, rtol=1e-6)
    alone = averaging_unit(key, seed=0, data_root=None, device="cpu", depth=50, width=16,
                           activation="relu", batch_size=8, directions=1, alpha=1.0,
                           points=100, images=image_data(None))
    np.testing.assert_array_equal(alone["power"], stored["power"])


def test_registered_with_paper_defaults():
    exp = registry()["feature-averaging"]
    flags = {o.flag: o.default for o in exp.options}
    assert flags["--depth"] == 50 and flags["--alpha"] == 1.0 and flags["--points"] == 100
    assert {"--averaging", "--inits", "--directions", "--workers", "--threads"} <= set(flags)


@pytest.mark.parametrize("options, match", [
    ({"averaging": []}, "averaging"),
    ({"averaging": 3}, "averaging"),
    ({"averaging": [0, 1]}, "averaging"),
    ({"averaging": [1, 1000]}, "averaging"),
    ({"inits": 0}, "inits"),
    ({"depth": 0}, "depth"),
    ({"width": 10**6}, "width"),
    ({"activation": "swish2"}, "activation"),
    ({"points": 5}, "points"),
    ({"alpha": -1.0}, "alpha"),
    ({"batch_size": 10**7}, "batch_size"),
])
def test_invalid_options(tmp_path, options, match):
    with pytest.raises(NetspectraError, match=match):
        reproduce("feature-averaging", tmp_path, quick=True, **options)
