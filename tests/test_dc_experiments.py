"""The DC paper's experiments at tiny settings: result.json keys and the paper's claims."""

import json
import platform
import warnings

import numpy as np
import pytest
import torch
from _claim_checks import saved_claims, verdict

from netspectra import NetspectraError
from netspectra.experiments import reproduce
from netspectra.experiments._sweep import tune_allocator
from netspectra.experiments.dc_training import VARIANTS, train_variant
from netspectra.experiments.zero_training import best_threshold_accuracy
from netspectra.models import HeartRateCNN


def test_example_networks_bandwidth(tmp_path):
    res = reproduce("example-networks", tmp_path, quick=True)
    bw = res["bandwidth_hz"]
    assert len(bw["differentiation"]) == len(bw["moving_average"]) == 5
    # Differentiation: every ReLU widens the spectrum; it ends far above the input tones.
    assert np.all(np.diff(bw["differentiation"]) >= 0) and bw["differentiation"][-1] > 200
    # Moving average: bounded by the 9-tap filter's main lobe (first null 1024/9 ≈ 114 Hz).
    assert max(bw["moving_average"]) < 1024 / 9
    claims = saved_claims(tmp_path / "example-networks")
    assert verdict(claims, "differentiation net") and verdict(claims, "moving-average net")
    assert json.loads((tmp_path / "example-networks" / "result.json").read_text())["bandwidth_hz"]
    assert (tmp_path / "example-networks" / "spectra.png").stat().st_size > 10_000


def test_best_threshold_accuracy_oracle():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert best_threshold_accuracy(np.array([5, 6, 1, 2, 9, 8.0]), labels) == 1.0
    # One window of class 0 sits among class 2: the best cut misclassifies exactly it.
    assert best_threshold_accuracy(np.array([5, 9.5, 1, 2, 9, 8.0]), labels) == 5 / 6
    assert best_threshold_accuracy(np.zeros(6), labels) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)  # brute force over all cut pairs and class orders
    feature, labels = rng.integers(0, 6, 40).astype(float), rng.integers(0, 3, 40)
    cuts = np.unique(np.r_[-1.0, feature + 0.5])
    brute = max(np.mean(np.select([feature < lo, feature < hi], [p[0], p[1]], p[2]) == labels)
                for lo in cuts for hi in cuts if lo <= hi
                for p in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)))
    assert best_threshold_accuracy(feature, labels) == pytest.approx(brute)


def test_zero_training_dc_alone_classifies(tmp_path):
    res = reproduce("zero-training", tmp_path, quick=True)
    assert res["accuracy_median"] > 0.9  # chance is 1/3
    assert res["accuracy_fraction_above_0.9"] > 0.5
    np.testing.assert_allclose(res["dc_measured"], res["dc_predicted"], rtol=0.05)
    claims = saved_claims(tmp_path / "zero-training")
    assert verdict(claims, "DC alone") and verdict(claims, "a|H(f)|/π")


def test_dc_training_claims_and_resumable_units(tmp_path):
    settings = {"reps": 1, "epochs": 8, "n_per_class": 256, "workers": 1}
    res = reproduce("dc-training", tmp_path, quick=True, **settings)
    for key in ("final_loss", "distance_layer1", "distance_layer2", "heldout_accuracy"):
        assert set(res[key]) == set(VARIANTS)
    assert res["seconds"] > 0
    d2 = res["distance_layer2"]
    # The linear net moves farthest from its initialisation; ReLU and linear + DC stay closer.
    assert d2["linear"] > d2["relu"] and d2["linear"] > d2["linear_dc"]
    assert res["heldout_accuracy"]["relu"] > 0.9
    assert res["final_loss"]["relu"] < res["final_loss"]["linear"]
    claims = saved_claims(tmp_path / "dc-training")
    assert verdict(claims, "closer to their random initialisation")
    assert verdict(claims, "ReLU net converges to a lower loss")
    assert verdict(claims, "DC added") == (res["final_loss"]["linear_dc"]
                                           < res["final_loss"]["linear"])
    ours = {row["quantity"]: row["ours"] for row in res["paper_values"]}
    assert ours["final loss, relu (authors' run)"] == res["final_loss"]["relu"]
    # A unit run alone equals the same unit of the full run, and a rerun only loads.
    # The full run trained with 1 thread per worker; oneDNN's sums depend on the thread count.
    previous = torch.get_num_threads()
    torch.set_num_threads(res["threads"])
    try:
        alone = train_variant("linear_dc-rep000", seed=0, epochs=8, n_per_class=256)
    finally:
        torch.set_num_threads(previous)
    units = tmp_path / "dc-training" / res["units"]
    with np.load(units / "linear_dc-rep000.npz") as saved:
        np.testing.assert_array_equal(saved["distance"], alone["distance"])
        np.testing.assert_array_equal(saved["loss"], alone["loss"])
    (units / "relu-rep000.npz").unlink()
    again = reproduce("dc-training", tmp_path, quick=True, **settings)
    assert again["final_loss"] == res["final_loss"]


def test_ppg_activations_dc_is_prominent(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = reproduce("ppg-activations", tmp_path, quick=True)
    assert res["converged"] == (res["mae_bpm"] < 5)
    assert res["converged"] or any("not below 5 bpm" in str(w.message) for w in caught)
    for key in ("mae_bpm", "dc_share_block1", "dc_share_block2", "peaks_bpm_block1"):
        assert key in res
    assert res["dc_share_block1"] > 0.3 and res["dc_share_block2"] > 0.3
    claims = saved_claims(tmp_path / "ppg-activations")
    harmonics = [abs(p - res["heart_rate_bpm"] * round(p / res["heart_rate_bpm"])) <= 7.5
                 for p in res["peaks_bpm_block1"]]
    assert verdict(claims, "heart rate and its harmonics") == all(harmonics)
    assert res["network"] == "trained" and res["input_scale"] == 1.0
    assert res["mae_bpm_by_input_scale"] is None and len(res["mae_bpm_by_band"]) == 7
    spectra = tmp_path / "ppg-activations" / "spectra"
    assert (spectra / "index.json").exists()


def test_ppg_activations_on_user_signal_and_weights(tmp_path):
    weights = tmp_path / "w.pt"
    torch.save(HeartRateCNN().state_dict(), weights)
    t = np.arange(256) / 32.0
    windows = np.stack([np.cos(2 * np.pi * 1.5 * t), np.cos(2 * np.pi * 2.0 * t)])
    np.savetxt(tmp_path / "sig.csv", windows, delimiter=",")
    with pytest.warns(UserWarning, match="not below 5 bpm"):  # untrained weights
        res = reproduce("ppg-activations", tmp_path / "out", quick=True,
                        signal=str(tmp_path / "sig.csv"), weights=str(weights), window=1)
    assert res["heart_rate_bpm"] is None and len(res["mae_history_bpm"]) == 1
    assert res["network"] == "state_dict" and res["input_scale"] == 1.0
    assert res["mae_bpm_by_input_scale"]["1"] == res["mae_bpm"]
    assert 120.0 in res["peaks_bpm_block1"][:2]  # the 2 Hz input tone survives the convs
    # No true heart rate for a user's signal: only the DC claim is testable.
    [dc_claim] = saved_claims(tmp_path / "out" / "ppg-activations")
    assert "DC" in dc_claim["claim"]
    torch.save({"bogus": torch.zeros(1)}, weights)
    with pytest.raises(NetspectraError, match="do not fit"):
        reproduce("ppg-activations", tmp_path / "out", quick=True, weights=str(weights))


def test_tune_allocator_reports_glibc():
    assert tune_allocator() == (platform.libc_ver()[0] == "glibc")
