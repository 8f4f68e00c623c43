"""layer-spectra (RR Fig. 3) and layer-walk (RR Fig. 15) at tiny settings: the paper's claims,
result.json, figures, resumable units and invalid input.

Settings: a 30-unit, 8-channel Toy-CNN on 16 digits, 40 points per path. Seeds 0-4 all show
the claims with margin (relu's last-layer h 0.48-0.61 against 0.95-0.97 at unit1; layer-walk
thirds 0.47-0.73 against 1.01-1.23).
"""

import json

import numpy as np
import pytest
from _claim_checks import saved_claims, verdict

from netspectra import NetspectraError
from netspectra.experiments import reproduce
from netspectra.probes import Walk

# In this process (one 1-thread worker) unless a test is about the workers.
TINY = {"depth": 30, "width": 8, "batch_size": 16, "points": 40, "workers": 1}


@pytest.fixture(scope="module")
def spectra(quick_run):
    return quick_run("layer-spectra", **TINY)


@pytest.fixture(scope="module")
def layer_walk(quick_run):
    return quick_run("layer-walk", layers_step=2, **TINY)


def test_all_layer_walk_blueshifts_with_depth(spectra):
    res, _ = spectra
    h = res["h_per_layer"]
    assert list(h) == ["relu", "tanh", "softplus", "relu_shortcut"]
    assert all(len(values) == TINY["depth"] for values in h.values())
    # Lower layers follow 1/k (h ≈ 1, RR §4.2) in every variant.
    for values in h.values():
        assert abs(values[0] - 1) < 0.25
    # Without shortcuts ReLU's deep layers are rougher; shortcuts keep h near 1 throughout.
    assert h["relu"][-1] < h["relu"][0] - 0.2
    assert h["relu_shortcut"][-1] > h["relu"][-1] + 0.2
    assert np.all(np.abs(np.array(h["relu_shortcut"]) - 1) < 0.15)
    claims = saved_claims(spectra[1])
    assert verdict(claims, "lowest layer's paths follow 1/k")
    assert verdict(claims, "with shortcuts every layer stays near 1/k")
    # tanh and softplus are not asserted to blueshift here (see README): the verdict is the
    # run's own comparison of first and last unit.
    assert verdict(claims, "relu's deep layers blueshift (h")
    assert verdict(claims, "blueshift too") == all(h[v][-1] < h[v][0] for v in ("tanh", "softplus"))
    assert set(res["loss_h"]) == set(h) and all(np.isfinite(list(res["loss_h"].values())))


def test_first_layer_walk_scale_mismatch(spectra):
    res, _ = spectra
    h = res["h_per_layer_first_layer_walk"]
    # k²-weighted 1/k spectrum: flat (h ≈ 0) at the varied layer itself.
    for values in h.values():
        assert abs(values[0]) < 0.25
    # Deep ReLU layers without shortcuts rise towards high k (h < 0), unlike with shortcuts.
    assert h["relu"][-1] < -0.2
    assert h["relu_shortcut"][-1] > h["relu"][-1] + 0.3
    assert res["first_layer"] == "unit1"
    assert verdict(saved_claims(spectra[1]), "Fig. 3b")


def test_layer_spectra_files_and_keys(spectra):
    res, directory = spectra
    saved = json.loads((directory / "result.json").read_text())
    for key in ("h_per_layer", "h_per_layer_first_layer_walk", "loss_h",
                "loss_h_first_layer_walk", "train_loss", "depth", "width", "alpha", "points",
                "batch_size", "epochs", "direction", "init", "directions", "seconds"):
        assert key in saved
    assert saved["h_per_layer"] == res["h_per_layer"]
    for name in ("all_layers_spectra.png", "first_layer_spectra.png", "h_per_layer.png"):
        assert (directory / name).stat().st_size > 10_000
    w = Walk.load(directory / "walks" / "relu" / "first_layer")
    assert w.derivative and w.layer_power.shape == (TINY["depth"], 1, TINY["points"] // 2)
    assert all(name.startswith("unit1.") for name in w.direction_names)


def test_layer_spectra_units_resume_and_stand_alone(spectra, tmp_path):
    res, directory = spectra
    (directory / res["units"] / "tanh.npz").unlink()
    again = reproduce("layer-spectra", directory.parent, quick=True, **TINY)
    assert again["h_per_layer"] == res["h_per_layer"]
    assert again["unit_seconds"]["relu"] == res["unit_seconds"]["relu"]  # loaded, not rerun
    alone = reproduce("layer-spectra", tmp_path, quick=True, activations=["tanh"],
                      shortcuts=["none"], **TINY)
    assert alone["variants"] == ["tanh"] and alone["h_per_layer"]["tanh"] == res["h_per_layer"][
        "tanh"]


def test_layer_spectra_options_in_workers(tmp_path):
    settings = {"depth": 6, "width": 4, "batch_size": 8, "points": 16, "workers": 2}
    res = reproduce("layer-spectra", tmp_path, quick=True, activations=["tanh"],
                    shortcuts=["all"], direction="gradient", init="delta_orthogonal", epochs=1,
                    **settings)
    assert res["variants"] == ["tanh", "tanh_shortcut"]
    assert (res["workers"], res["threads"]) == (2, 1)
    assert len(res["train_loss"]["tanh"]) == 1 and np.isfinite(res["train_loss"]["tanh"][0])
    # Walking up the loss gradient raises the loss at first, in both walks.
    for name in ("all_layers", "first_layer"):
        w = Walk.load(tmp_path / "layer-spectra" / "walks" / "tanh" / name)
        assert w.direction_seeds is None and w.loss[0, 1] > w.loss[0, 0]


@pytest.mark.parametrize(("options", "named"), [
    ({"activations": ["swish"]}, "activation"),
    ({"shortcuts": ["all", "relu"]}, "activation"),
    ({"direction": "gradient", "directions": 2}, "directions"),
    ({"direction": "sideways"}, "direction"),
    ({"points": 4}, "points"),
    ({"init": "xavier"}, "init"),
    ({"epochs": -1}, "epochs"),
    ({"workers": 64}, "cores"),
])
def test_layer_spectra_invalid_input(tmp_path, options, named):
    with pytest.raises(NetspectraError, match=named):
        reproduce("layer-spectra", tmp_path, quick=True, **options)


def test_layer_walk_earlier_layers_rougher(layer_walk):
    res, directory = layer_walk
    assert res["walked_layers"] == list(range(1, TINY["depth"] + 1, 2))
    h = np.array(res["h_per_walked_layer"])
    assert h.shape == (len(res["walked_layers"]),) and np.all(np.isfinite(h))
    third = len(h) // 3
    assert res["mean_h_first_third"] == pytest.approx(h[:third].mean())
    assert res["mean_h_first_third"] < res["mean_h_last_third"] - 0.2
    assert verdict(saved_claims(directory), "Fig. 15")
    with np.load(directory / "loss_paths.npz") as data:
        assert data["loss"].shape == (len(h), 1, TINY["points"])
        # Every walk starts from the same network and batch.
        np.testing.assert_allclose(data["loss"][:, 0, 0], data["loss"][0, 0, 0], rtol=1e-5)
    assert (directory / "layer_walk.png").stat().st_size > 10_000
    assert json.loads((directory / "result.json").read_text())["h_per_walked_layer"] == h.tolist()


def test_layer_walk_same_seed_same_numbers_in_workers(layer_walk, tmp_path):
    res, _ = layer_walk
    settings = {**TINY, "layers_step": 2}
    again = reproduce("layer-walk", tmp_path, quick=True, **{**settings, "workers": 2})
    assert again["workers"] == 2 and again["h_per_walked_layer"] == res["h_per_walked_layer"]
    other = reproduce("layer-walk", tmp_path, quick=True, seed=1, **settings)
    assert other["h_per_walked_layer"] != res["h_per_walked_layer"]


def test_layer_walk_invalid_input(tmp_path):
    with pytest.raises(NetspectraError, match="layers_step"):
        reproduce("layer-walk", tmp_path, quick=True, layers_step=0)
    with pytest.raises(NetspectraError, match="activation"):
        reproduce("layer-walk", tmp_path, quick=True, activation="swish")
