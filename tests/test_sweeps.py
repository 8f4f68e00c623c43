"""Sweeps: one folder per unit function, seed and settings; torn unit files recomputed; stray
temporary files removed; for every experiment that runs units, any sequence of runs into
one output folder gives each run the result.json of the same run into a fresh folder; the
walk units get their images as an input, never from disk; and `reproduce all` checks its
execution options before any work."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from _runs import assert_runs_match_fresh

from netspectra import NetspectraError
from netspectra.experiments import (
    _sweep,
    branch_correlation,
    feature_averaging,
    layer_spectra,
    loss_paths,
    reproduce,
    reproduce_all,
    resnet_v1_v2,
    roughness_depth,
)
from netspectra.experiments._registry import EXECUTION_OPTIONS
from netspectra.experiments._rr import image_data
from netspectra.experiments._sweep import Sweep, plan_workers, resolve_device, unit_seed
from netspectra.results import atomic_write_npz, atomic_write_text, remove_stray_temporaries

pytestmark = pytest.mark.usefixtures("one_thread")

# Per experiment: tiny settings and the runs of the sequence. Each run is (seed, quick,
# options); the sequence reuses one output folder.
TINY_TOY = {"width": 4, "batch_size": 4, "points": 12, "workers": 1}
SEQUENCES = {
    "zero-training": [(0, True, {}), (1, True, {}), (0, True, {}), (1, False, {})],
    "dc-training": [(0, True, {"reps": 1, "epochs": 1, "n_per_class": 8, "workers": 1}),
                    (1, True, {"reps": 1, "epochs": 1, "n_per_class": 8, "workers": 1}),
                    (0, True, {"reps": 1, "epochs": 1, "n_per_class": 8, "workers": 1}),
                    (0, True, {"reps": 1, "epochs": 2, "n_per_class": 8, "workers": 1})],
    "roughness-depth": [(0, True, {"depths": [2], "inits": 1, "directions": 1, **TINY_TOY}),
                        (1, True, {"depths": [2], "inits": 1, "directions": 1, **TINY_TOY}),
                        (0, True, {"depths": [2], "inits": 1, "directions": 1, **TINY_TOY}),
                        (0, True, {"depths": [2], "inits": 1, "directions": 2, **TINY_TOY})],
    "layer-spectra": [(0, True, {"activations": ["relu"], "shortcuts": ["none"], "depth": 3,
                                 **TINY_TOY}),
                      (1, True, {"activations": ["relu"], "shortcuts": ["none"], "depth": 3,
                                 **TINY_TOY}),
                      (0, True, {"activations": ["relu"], "shortcuts": ["none"], "depth": 3,
                                 **TINY_TOY}),
                      (0, True, {"activations": ["relu"], "shortcuts": ["none"], "depth": 3,
                                 "alpha": 2.0, **TINY_TOY})],
    "layer-walk": [(0, True, {"depth": 3, **TINY_TOY}), (1, True, {"depth": 3, **TINY_TOY}),
                   (0, True, {"depth": 3, **TINY_TOY}),
                   (0, True, {"depth": 3, "activation": "tanh", **TINY_TOY})],
    "loss-paths": [(0, True, {"depth": 8, "batch_size": 2, "points": 12, "directions": 1,
                              "slopes": [0.0], "shortcut_weights": [0.0], "workers": 1}),
                   (1, True, {"depth": 8, "batch_size": 2, "points": 12, "directions": 1,
                              "slopes": [0.0], "shortcut_weights": [0.0], "workers": 1}),
                   (0, True, {"depth": 8, "batch_size": 2, "points": 12, "directions": 1,
                              "slopes": [0.0], "shortcut_weights": [0.0], "workers": 1}),
                   (0, True, {"depth": 8, "batch_size": 2, "points": 12, "directions": 1,
                              "slopes": [0.0], "shortcut_weights": [0.0], "version": 1,
                              "workers": 1})],
    "feature-averaging": [(s, True, {"depth": 3, "averaging": [1, 2], "inits": 1,
                                     "directions": 1, **TINY_TOY, **extra})
                          for s, extra in ((0, {}), (1, {}), (0, {}), (0, {"alpha": 2.0}))],
    "resnet-v1-v2": [(s, True, {"depth": 8, "batch_size": 2, "points": 12, "inits": 1,
                                "directions": 1, "workers": 1, **extra})
                     for s, extra in ((0, {}), (1, {}), (0, {}), (0, {"alpha": 2.0}))],
    "branch-correlation": [(s, True, {"depth": 8, "batch_size": 2, "points": 12, "bands": 4,
                                      "directions": 1, "activations": ["relu"], "workers": 1,
                                      **extra})
                           for s, extra in ((0, {}), (1, {}), (0, {}), (0, {"version": 1}))],
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_runs_into_one_folder_equal_fresh_runs(tmp_path, name):
    assert_runs_match_fresh(tmp_path, name, SEQUENCES[name])


def test_zero_training_seed_after_seed_is_its_own(tmp_path):
    # The reused folder once returned seed 0's kernels under "seed": 1, and full after quick
    # died with an IndexError (20 quick units of 384 windows against 3072).
    first = reproduce("zero-training", tmp_path, quick=True, seed=0)
    second = reproduce("zero-training", tmp_path, quick=True, seed=1)
    assert second["dc_measured"] != first["dc_measured"]
    assert second["units"] != first["units"]


def _units(key, *, seed, scale):
    return {"x": np.random.default_rng(unit_seed(seed, key)).normal(size=3) * scale}


def _sweep_of(tmp_path, keys=("u0", "u1", "u2"), seed=0, scale=1.0):
    return Sweep(tmp_path, "units", _units, keys, seed, {"scale": scale})


def test_folder_names_the_unit_seed_and_settings(tmp_path):
    base = _sweep_of(tmp_path)
    assert base.folder == _sweep_of(tmp_path).folder
    assert base.folder.parent == tmp_path and base.folder.name.startswith("units-")
    others = [_sweep_of(tmp_path, seed=1), _sweep_of(tmp_path, scale=2.0),
              Sweep(tmp_path, "units", _units, ["u0"], 0, {"scale": 1.0}, version=2)]
    assert len({s.folder for s in [base, *others]}) == 4
    # The keys are not part of the name: a subset of units shares the folder.
    assert _sweep_of(tmp_path, keys=["u1"]).folder == base.folder


def test_sweep_resumes_and_a_unit_alone_matches(tmp_path):
    sweep = _sweep_of(tmp_path)
    full = sweep.run(progress=False)
    assert sweep.done() == list(sweep.keys)
    saved = json.loads((sweep.folder / "settings.json").read_text())
    assert saved["seed"] == 0 and saved["settings"] == {"scale": 1.0}
    (sweep.folder / "u1.npz").unlink()
    inodes = {k: (sweep.folder / f"{k}.npz").stat().st_ino for k in ("u0", "u2")}
    resumed = sweep.run(progress=False)
    assert {k: (sweep.folder / f"{k}.npz").stat().st_ino for k in inodes} == inodes
    alone = _sweep_of(tmp_path / "alone", keys=["u1"]).run(progress=False)
    for key in full:
        np.testing.assert_array_equal(full[key]["x"], resumed[key]["x"])
    np.testing.assert_array_equal(alone["u1"]["x"], full["u1"]["x"])


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 torn", None])
def test_torn_unit_files_are_recomputed(tmp_path, damage):
    sweep = _sweep_of(tmp_path)
    full = sweep.run(progress=False)
    path = sweep.folder / "u1.npz"
    # A full disk leaves an empty file, the start of a zip, or half of a real unit file.
    path.write_bytes(path.read_bytes()[:300] if damage is None else damage)
    again = sweep.run(progress=False)
    np.testing.assert_array_equal(again["u1"]["x"], full["u1"]["x"])
    with np.load(path) as data:
        np.testing.assert_array_equal(data["x"], full["u1"]["x"])


def test_stray_temporaries_of_dead_writers_are_removed(tmp_path):
    sweep = _sweep_of(tmp_path)
    sweep.folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stray = sweep.folder / f".u1.npz.{dead}.abc123_x.tmp"
    live = sweep.folder / f".u2.npz.{os.getpid()}.def456_y.tmp"
    stray.write_bytes(b"half a unit")
    live.write_bytes(b"being written")
    sweep.run(progress=False)
    assert not stray.exists() and live.exists()
    assert remove_stray_temporaries(sweep.folder) == []
    # A failed atomic write removes its own temporary file; pickles are refused.
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(tmp_path / "bad.txt", "\ud800")
    with pytest.raises(NetspectraError, match="pickling"):
        atomic_write_npz(tmp_path / "bad.npz", {"x": np.array([None])})
    assert not list(tmp_path.glob(".bad.*")) and not list(tmp_path.glob("bad.*"))


def test_workers_give_the_units_of_one_process(tmp_path):
    sweep = _sweep_of(tmp_path / "a")
    sequential = sweep.run(progress=False)
    parallel = _sweep_of(tmp_path / "b").run(workers=2, threads=1, progress=False)
    for key in sequential:
        np.testing.assert_array_equal(sequential[key]["x"], parallel[key]["x"])


def test_in_process_sweeps_leave_the_allocator_alone(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_sweep, "tune_allocator", lambda: calls.append(1))
    reproduce("zero-training", tmp_path, quick=True)
    _sweep_of(tmp_path).run(progress=False)
    assert calls == []


def test_unit_seed_is_one_stable_scheme():
    assert unit_seed(0, "relu", 3) == unit_seed(0, "relu", 3)
    seeds = {unit_seed(s, *parts) for s in (0, 1) for parts in (("relu", 3), ("relu", 4),
                                                                ("tanh", 3), ())}
    assert len(seeds) == 8 and all(0 <= s < 2**32 for s in seeds)
    assert unit_seed(2**64 - 1, "x") >= 0


@pytest.mark.parametrize(("make", "match"), [
    (lambda p: Sweep(p, "u", _units, ["a/b"], 0, {"scale": 1.0}), "unit key"),
    (lambda p: Sweep(p, "u", _units, ["a", "a"], 0, {"scale": 1.0}), "distinct"),
    (lambda p: Sweep(p, "u", _units, ["a"], -1, {"scale": 1.0}), "seed"),
    (lambda p: Sweep(p, "u", _units, ["a"], 0, {"scale": 1.0}, inputs={"scale": 2}), "repeat"),
    (lambda p: Sweep(p, "u", _units, [f"k{i}" for i in range(_sweep.MAX_UNITS + 1)], 0, {}),
     "at most"),
])
def test_invalid_sweeps(tmp_path, make, match):
    with pytest.raises(NetspectraError, match=match):
        make(tmp_path)


def test_plans_and_devices():
    workers, threads = plan_workers(10)
    assert threads == 1 and workers >= 1
    assert plan_workers(10, device="cuda") == (1, 1)
    with pytest.raises(NetspectraError, match="workers × threads"):
        plan_workers(10, workers=1000, threads=1)
    assert resolve_device("cpu").type == "cpu"
    for bad in ("cuda:abc", "cpu:3", "tpu", 7):
        with pytest.raises(NetspectraError, match="device"):
            resolve_device(bad)


# Each walk experiment's unit function, a key and tiny settings.
_RESNET = {"depth": 8, "batch_size": 2, "alpha": 2.0, "points": 12}
_TOY = {"width": 4, "batch_size": 2, "directions": 1, "alpha": 1.0, "points": 12}
WALK_UNITS = {
    "branch-correlation": (branch_correlation.direction_unit, "relu-dir000",
                           {**_RESNET, "version": 2, "bands": 4, "positions": 16}),
    "feature-averaging": (feature_averaging.averaging_unit, "2-i000",
                          {**_TOY, "depth": 3, "activation": "relu"}),
    "layer-spectra": (layer_spectra.measure_variant, "relu", {"settings": {
        **_TOY, "depth": 3, "init": "torch", "epochs": 1, "direction": "random"}}),
    "loss-paths-fig1": (loss_paths.grid_unit, "grid-slope=0.0-nu=1.0",
                        {**_RESNET, "version": 2}),
    "loss-paths-fig4": (loss_paths.variant_unit, "relu_short",
                        {**_RESNET, "version": 2, "directions": 1}),
    "resnet-v1-v2": (resnet_v1_v2.version_unit, "v1-i000",
                     {**_RESNET, "activation": "relu", "directions": 1}),
    "roughness-depth": (roughness_depth.depth_unit, "relu_short-d2-i000", _TOY),
}


@pytest.mark.parametrize("name", list(WALK_UNITS))
def test_walk_units_read_no_data_from_disk(tmp_path, name):
    # The images come as a sweep input; data_root only names them in the folder's digest, so
    # a unit runs where that folder does not exist (a Ray worker without the data set).
    unit, key, settings = WALK_UNITS[name]
    arrays = unit(key, seed=0, data_root=str(tmp_path / "absent"), device="cpu",
                  images=image_data(None), **settings)
    assert arrays and all(np.asarray(value).size for value in arrays.values())


@pytest.mark.parametrize(("options", "match"), [
    ({"cpus_per_unit": 2}, "cpus_per_unit need ray"),
    ({"ray": ""}, "ray must be 'local', 'auto' or HOST:PORT"),
    ({"workers": 0}, "workers must be >= 1"),
    ({"threads": 0}, "threads must be >= 1"),
    pytest.param({"ray": "local", "gpus_per_unit": 1}, "gpus_per_unit needs CUDA",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here")),
])
def test_reproduce_all_checks_execution_options_before_any_work(tmp_path, options, match):
    with pytest.raises(NetspectraError, match=match):
        reproduce_all(tmp_path, quick=True, names=["zero-training"], progress=False, **options)
    assert not any(tmp_path.iterdir())


def test_one_list_of_execution_options():
    # reproduce_all hands Execution's fields to the experiments by these names, and
    # result.json leaves them out of the settings.
    names = {field.name for field in dataclasses.fields(_sweep.Execution)}
    assert names == {opt.dest for opt in _sweep.WORKER_OPTIONS} == EXECUTION_OPTIONS
