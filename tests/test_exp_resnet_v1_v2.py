"""resnet-v1-v2 (RR Fig. 7) at tiny settings: the paper's claim, result.json, figures, a unit
alone and invalid input.

ResNet20 v1 and v2 with shortcuts, 3 initialisations × 1 direction each, 8 digits, 32 points,
α = 1. Over seeds 0-3 the last block's mean h was v1 1.008-1.022 against v2 1.022-1.036
(v2 higher by 0.007-0.023) and its power above the fit band v1 0.047-0.048 against v2
0.044-0.046. The gap is small at every depth tried (README), but it held for every seed.
"""

import json

import numpy as np
import pytest
from _claim_checks import saved_claims

from netspectra import NetspectraError
from netspectra.experiments import registry, reproduce
from netspectra.experiments._last_layer import init_key
from netspectra.experiments._rr import image_data
from netspectra.experiments.resnet_v1_v2 import version_unit

TINY = {"depth": 20, "points": 32, "inits": 3, "directions": 1, "batch_size": 8,
        "workers": 1}
SEEDS = (0, 1, 2)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return {s: reproduce("resnet-v1-v2", out / str(s), quick=True, seed=s, **TINY)
            for s in SEEDS}, out


def test_v2_is_smoother_than_v1(runs):
    results, _ = runs
    for seed, res in results.items():
        h, high = res["h_last_layer"], res["high_frequency_power"]
        assert h["v2"] > h["v1"], (seed, h)
        assert high["v2"] < high["v1"], (seed, high)
        assert res["claims"][0]["holds"]


def test_outputs(runs):
    results, out = runs
    res, directory = results[0], out / "0" / "resnet-v1-v2"
    assert saved_claims(directory) == res["claims"]
    saved = json.loads((directory / "result.json").read_text())
    assert saved["h_last_layer"] == res["h_last_layer"] and saved["depth"] == 20
    assert set(res["h_std"]) == {"v1", "v2"} and all(s > 0 for s in res["h_std"].values())
    assert res["band"] == [1, 8]
    with np.load(directory / "resnet_v1_v2.npz") as data:
        assert list(data["groups"]) == ["v1", "v2"]
        assert data["h"].shape == (2, 3, 1) and data["mean_power"].shape == (2, 16)
        np.testing.assert_allclose(data["h"].mean(axis=(1, 2)),
                                   [res["h_last_layer"]["v1"], res["h_last_layer"]["v2"]])
    assert (directory / "resnet_v1_v2.png").stat().st_size > 0


def test_a_unit_alone_equals_the_unit_in_the_run(runs):
    results, out = runs
    key = init_key("v1", 2)
    with np.load(out / "0" / "resnet-v1-v2" / results[0]["units"] / f"{key}.npz") as saved:
        stored = {k: saved[k] for k in saved.files}
    alone = version_unit(key, seed=0, data_root=None, device="cpu", depth=20,
                         activation="relu", batch_size=8, directions=1, alpha=1.0, points=32,
                         images=image_data(None))
    assert set(alone) == set(stored)
    for name, value in alone.items():
        np.testing.assert_array_equal(value, stored[name])


def test_registered_with_paper_defaults():
    exp = registry()["resnet-v1-v2"]
    flags = {o.flag: o.default for o in exp.options}
    assert flags["--alpha"] == 1.0 and exp.reproduces == "RR Fig. 7"
    assert {"--depth", "--inits", "--directions", "--workers", "--threads"} <= set(flags)


@pytest.mark.parametrize("options, match", [
    ({"depth": 21}, "6n \\+ 2"),
    ({"depth": 2}, "depth"),
    ({"depth": 10**6}, "depth"),
    ({"inits": 0}, "inits"),
    ({"directions": 0}, "directions"),
    ({"activation": "nope"}, "activation"),
    ({"points": 11}, "points"),
])
def test_invalid_options(tmp_path, options, match):
    with pytest.raises(NetspectraError, match=match):
        reproduce("resnet-v1-v2", tmp_path, quick=True, **options)
