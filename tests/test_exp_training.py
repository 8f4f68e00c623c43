"""RR §5 training experiments at tiny settings: trainability (Fig. 9) and averaging-training
(Figs. 8 left, 10): what holds over several seeds, result.json's layout, resuming, the
CIFAR-100 path and validation."""

import json

import numpy as np
import pytest
import torch

from netspectra import NetspectraError
from netspectra.data import load_digits32
from netspectra.experiments import reproduce
from netspectra.experiments._sweep import unit_seed
from netspectra.experiments.trainability import VARIANTS, last_layer_h
from netspectra.models import CifarResNet

_TIMINGS = ("seconds", "unit_seconds")


def _without_timings(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in _TIMINGS}


@pytest.fixture(scope="module")
def digits8():
    return load_digits32(size=8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_relu_nets_without_shortcuts_blueshift_at_init_and_shortcuts_prevent_it(
        digits8, seed):
    # Fig. 9 bottom row: h of the last layer falls with depth without shortcuts at α = 0
    # (ReLU), not with them, and not for α = 0.5. Measured on seeds 0-2: NoShort ReLU
    # ResNet56 0.25-0.35 against ≈ 1 for every other net here.
    def h(depth, shortcut, slope, version=1):
        gen = torch.Generator().manual_seed(unit_seed(seed, "init", depth, shortcut, slope))
        model = CifarResNet(depth, "lrelu", version=version, slope=slope, shortcut=shortcut,
                            generator=gen)
        return last_layer_h(model, digits8, batch_size=16, directions=1, points=100,
                            seed=seed, device=torch.device("cpu"))[0]

    deep_relu = h(56, False, 0.0)
    assert deep_relu < 0.6
    for other in (h(8, False, 0.0), h(56, True, 0.0), h(56, False, 0.5),
                  h(56, True, 0.0, version=2)):
        assert other > 0.85 and other - deep_relu > 0.4


def test_trainability_result_layout_figure_and_resume(tmp_path):
    kwargs = {"quick": True, "seed": 3, "depths": [8], "slopes": [0.0, 1.0], "epochs": 1,
              "size": 8, "directions": 1, "batch_size": 8, "log_every": 1, "workers": 1,
              "device": "cpu"}
    first = reproduce("trainability", tmp_path / "a", **kwargs)
    assert set(first["train_accuracy"]) == set(VARIANTS) == set(first["h_init"])
    for field in ("train_accuracy", "h_init"):
        for variant in VARIANTS:
            assert set(first[field][variant]) == {"8"}
            assert set(first[field][variant]["8"]) == {"0", "1"}
    steps = -(-1797 // 128)  # one epoch of the digits in batches of 128
    assert first["train_accuracy"]["v1_NS"]["8"]["0"] == pytest.approx(
        np.load(tmp_path / "a" / "trainability" / "trainability.npz")["train_accuracy"][
            2][-25:].mean())
    assert len(np.load(tmp_path / "a" / "trainability" / "trainability.npz")["step"]) == steps
    # slope 1 is a linear network: a line on a log-log plot of a smooth path, h ≈ 1
    assert all(abs(first["h_init"][v]["8"]["1"] - 1) < 0.1 for v in VARIANTS)
    assert (tmp_path / "a" / "trainability" / "trainability.png").stat().st_size > 0
    assert len(first["claims"]) == 8
    assert all(c["claim"].startswith("Fig. 9") and isinstance(c["holds"], bool)
               for c in first["claims"])
    again = reproduce("trainability", tmp_path / "a", **kwargs)  # every cell on disk
    assert _without_timings(again) == _without_timings(first)


def _write_cifar100(root, n, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-binary"
    folder.mkdir(parents=True)
    records = np.concatenate([rng.integers(0, 20, (n, 1)), rng.integers(0, 100, (n, 1)),
                              rng.integers(0, 256, (n, 3072))], axis=1).astype(np.uint8)
    (folder / "train.bin").write_bytes(records.tobytes())


def test_averaging_training_on_cifar100_holds_out_validation_images(tmp_path):
    _write_cifar100(tmp_path / "data", 200)
    result = reproduce("averaging-training", tmp_path / "out", quick=True, seed=0, runs=1,
                       epochs=2, depth=8, data="cifar100", data_root=str(tmp_path / "data"),
                       train_batch=64, workers=1, device="cpu")
    variants = ["S", "NS", "NS_avg3", "wide_NS"]
    for field in ("final_train_accuracy", "final_train_accuracy_std",
                  "final_validation_accuracy", "parameters"):
        assert list(result[field]) == variants
    assert result["data_name"] == "cifar100-train-fit" and result["size"] == 32
    # 198 training images in batches of 64: 4 steps an epoch
    arrays = np.load(tmp_path / "out" / "averaging-training" / "averaging_training.npz")
    assert arrays["epoch_step"].tolist() == [4, 8]
    assert arrays["NS.heldout_accuracy"].shape == (1, 2)
    # 2 held-out images: every validation accuracy is 0, 0.5 or 1
    assert all(v in (0.0, 0.5, 1.0) for v in result["final_validation_accuracy"].values())
    assert all(s == 0 for s in result["final_train_accuracy_std"].values())  # one run
    assert [c["claim"][:7] for c in result["claims"]] == ["Fig. 8:"] * 3


def test_averaging_training_parameter_counts(tmp_path):
    result = reproduce("averaging-training", tmp_path, quick=True, seed=0, runs=1, epochs=1,
                       depth=8, size=8, train_batch=512, workers=1, device="cpu")
    counts = result["parameters"]
    assert counts["S"] == counts["NS"]  # option-A shortcuts have no parameters
    # RR: the wide net has "approximately the same parameter count" as the averaging net
    assert abs(counts["wide_NS"] / counts["NS_avg3"] - 1) < 0.15
    assert counts["NS_avg3"] > 2 * counts["NS"]
    saved = json.loads((tmp_path / "averaging-training" / "result.json").read_text())
    assert saved["parameters"] == counts and saved["runs"] == 1


@pytest.mark.parametrize("name, options, message", [
    ("trainability", {"depths": [9]}, "depths must be 6n \\+ 2"),
    ("trainability", {"slopes": [1.5]}, r"slopes must (lie|be) in \[0, 1\]"),
    ("trainability", {"data": "cifar100"}, "--data cifar100 needs --data-root"),
    ("averaging-training", {"data": "mnist"}, "unknown data 'mnist'"),
    ("averaging-training", {"data": "digits", "data_root": "/x"}, "--data-root is for"),
    ("averaging-training", {"epochs": 5000}, "epochs must be"),
    ("averaging-training", {"train_batch": 0}, "train_batch must be"),
])
def test_invalid_options_are_refused_before_any_work(tmp_path, name, options, message):
    with pytest.raises(NetspectraError, match=message):
        reproduce(name, tmp_path, quick=True, **options)
