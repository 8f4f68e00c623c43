"""roughness-depth (RR Fig. 5) and loss-paths (RR Figs. 1, 4) at tiny settings: the paper's
claims that hold there, result.json, figures, resumable units and invalid input.

roughness-depth: 8-channel Toy-CNNs of depth 2 and 30 on 16 digits, 2 initialisations × 4
directions, 40 points, α = 5 (at α = 1 the effect needs depth ~50). Over seeds 0-5, relu
without shortcuts fell from h 0.96-1.14 to 0.13-0.51 and stayed the roughest variant at
depth 30 by ≥ 0.18; with shortcuts it stayed ≥ 0.94.

loss-paths: ResNet44 v2 on 4 digits, 2 directions, 48 points, α = 2 (ResNet20 shows no
effect: there relu without shortcuts has median h above the linear net's). Over seeds 0-3 the
median h of relu without shortcuts was -0.11 to 0.61, of the linear net ≥ 0.96 and of relu
with shortcuts ≥ 0.89; relu's grid panel (slope 0, ν 0) was rougher than the linear one by ≥ 0.5.
"""

import json

import numpy as np
import pytest
from _claim_checks import saved_claims, verdict

from netspectra import NetspectraError
from netspectra.cli import main
from netspectra.experiments import registry, reproduce
from netspectra.experiments._rr import image_data
from netspectra.experiments.loss_paths import VARIANTS as RESNET_VARIANTS
from netspectra.experiments.loss_paths import median_path
from netspectra.experiments.roughness_depth import VARIANTS as TOY_VARIANTS
from netspectra.experiments.roughness_depth import depth_unit, unit_key

TOY = {"depths": [2, 30], "inits": 2, "directions": 4, "width": 8, "batch_size": 16,
       "points": 40, "alpha": 5.0, "workers": 1}
RESNET = {"depth": 44, "batch_size": 4, "points": 48, "directions": 2, "slopes": [1.0, 0.0],
          "shortcut_weights": [0.0], "workers": 1}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def toy(quick_run):
    return quick_run("roughness-depth", **TOY)


@pytest.fixture(scope="module")
def resnet(quick_run):
    return quick_run("loss-paths", **RESNET)


def test_roughness_falls_with_depth_without_shortcuts(toy):
    res, _ = toy
    h = res["h"]
    assert list(h) == list(TOY_VARIANTS) and all(list(v) == ["2", "30"] for v in h.values())
    assert h["relu_noshort"]["30"] < h["relu_noshort"]["2"] - 0.3
    assert h["relu_short"]["30"] > h["relu_noshort"]["30"] + 0.3
    deepest = {v: d["30"] for v, d in h.items()}
    assert min(deepest, key=deepest.get) == "relu_noshort"
    claims = saved_claims(toy[1])
    assert verdict(claims, "relu loss paths get rougher") and verdict(claims, "the roughest")
    assert verdict(claims, "tanh and softplus") == all(
        h[v]["30"] < h[v]["2"] for v in ("tanh_noshort", "softplus_noshort",
                                         "tanh_noshort_delta"))


def test_roughness_depth_outputs(toy):
    res, directory = toy
    saved = json.loads((directory / "result.json").read_text())
    assert saved["h"] == res["h"] and saved["labels"]["tanh_noshort_delta"] == \
        "tanh no short delta init"
    for key in ("h_std", "h_of_mean_spectrum"):
        assert all(np.isfinite(list(d.values())).all() for d in res[key].values())
    assert res["band"] == [1, 10] and res["inits"] == 2 and res["depths"] == [2, 30]
    with np.load(directory / "roughness_depth.npz") as data:
        assert data["h"].shape == (7, 2, 2, 4) and data["mean_power"].shape == (7, 2, 20)
        np.testing.assert_allclose(data["h"].mean(axis=(2, 3))[1], list(res["h"]
                                                                        ["relu_noshort"].values()))
    rows = (directory / "roughness_depth.csv").read_text().splitlines()
    assert len(rows) == 1 + 7 * 2 and rows[0].startswith("variant,label,depth,h_mean")
    assert (directory / "roughness_depth.png").stat().st_size > 0


def test_roughness_depth_resumes_and_a_unit_alone_matches(toy, tmp_path):
    res, directory = toy
    units = sorted((directory / res["units"]).glob("*.npz"))
    inodes = [path.stat().st_ino for path in units]  # a rewrite would replace the file
    again = reproduce("roughness-depth", directory.parent, quick=True, **TOY)
    assert again["h"] == res["h"] and again["units"] == res["units"]
    assert len(units) == 7 * 2 * 2 and [path.stat().st_ino for path in units] == inodes
    key = unit_key("relu_noshort", 30, 1)
    alone = depth_unit(key, seed=0, data_root=None, device="cpu", width=8, batch_size=16,
                       directions=4, alpha=5.0, points=40, images=image_data(None))
    with np.load(directory / res["units"] / f"{key}.npz") as saved:
        np.testing.assert_allclose(alone["h"], saved["h"], rtol=1e-6)
        np.testing.assert_allclose(alone["power"], saved["power"], rtol=1e-6)


def test_linear_and_shortcut_resnets_are_smoother(resnet):
    res, _ = resnet
    median = res["median_h"]
    assert list(median) == list(RESNET_VARIANTS)
    assert median["linear"] > median["relu_noshort"] + 0.3
    assert median["relu_short"] > median["relu_noshort"] + 0.2
    assert min(median, key=median.get) == "relu_noshort"
    # Fig. 1: switching the nonlinearity on roughens the feedforward net's path.
    assert res["grid_h"]["slope=0, nu=0"] < res["grid_h"]["slope=1, nu=0"] - 0.2
    claims = saved_claims(resnet[1])
    assert verdict(claims, "relu without shortcuts has the roughest")
    assert verdict(claims, "more nonlinear activation")
    assert not any("shortcut weight" in c["claim"] for c in claims)  # one ν: not testable


def test_loss_paths_outputs(resnet):
    res, directory = resnet
    for q25, q50, q75 in res["h_quartiles"].values():
        assert q25 <= q50 <= q75
    for variant, quartiles in res["h_quartiles"].items():
        assert res["median_h"][variant] == pytest.approx(quartiles[1])
    assert res["depth"] == 44 and res["version"] == 2 and res["band"] == [1, 12]
    with np.load(directory / "fig1_paths.npz") as fig1:
        assert fig1["loss"].shape == (1, 2, 48) and fig1["h"].shape == (1, 2)
    with np.load(directory / "fig4_median_paths.npz") as fig4:
        assert fig4["median_loss"].shape == (7, 48) and fig4["median_power"].shape == (7, 24)
        assert fig4["h"].shape == (7, 2)
    for name in ("fig1_loss_paths.png", "fig4_median_paths.png"):
        assert (directory / name).stat().st_size > 0


def test_median_path_is_an_actual_path():
    assert median_path(np.array([3.0, 1.0, 2.0])) == 2
    assert median_path(np.array([4.0, 1.0, 3.0, 2.0])) == 3  # the lower middle one
    assert median_path(np.array([0.5])) == 0


@pytest.mark.parametrize(("name", "options", "words"), [
    ("roughness-depth", {"depths": []}, ["depths", "[]"]),
    ("roughness-depth", {"depths": [2, 0]}, ["depths", "0"]),
    ("roughness-depth", {"inits": 0}, ["inits", "0"]),
    ("roughness-depth", {"directions": 0}, ["directions", "0"]),
    ("roughness-depth", {"alpha": -1.0}, ["alpha", "-1"]),
    ("loss-paths", {"depth": 21}, ["depth", "6n + 2", "21"]),
    ("loss-paths", {"version": 3}, ["version", "3"]),
    ("loss-paths", {"slopes": [1.5]}, ["slopes", "1.5"]),
    ("loss-paths", {"shortcut_weights": [0.5, -0.1]}, ["shortcut_weights", "-0.1"]),
    ("loss-paths", {"points": 4}, ["points", "4"]),
])
def test_invalid_input_is_refused_before_any_work(tmp_path, name, options, words):
    with pytest.raises(NetspectraError) as info:
        reproduce(name, tmp_path, quick=True, **options)
    assert all(w in str(info.value) for w in words)
    assert not list((tmp_path / name).glob("units-*"))


def test_cli_lists_both_and_reports_bad_input(tmp_path, capsys):
    assert {"roughness-depth", "loss-paths"} <= set(registry())
    assert main(["reproduce", "loss-paths", "--quick", "--depth", "21", "--out",
                 str(tmp_path)]) == 2
    assert main(["reproduce", "roughness-depth", "--quick", "--depths", "2", "0", "--out",
                 str(tmp_path)]) == 2
    assert "depth" in capsys.readouterr().err
