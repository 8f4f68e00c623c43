"""Every function and constructor of netspectra.data and netspectra.models (public, or kept in a
submodule for the library) against invalid input (hypothesis): only a one-line NetspectraError
naming the argument escapes (a TypeError where a value of the wrong Python type is passed),
huge sizes are refused before anything is allocated, and inputs whose shape does not fit a
network are refused by name."""

import numpy as np
import pytest
import torch
from _invalid import (
    FUZZ,
    bad_arrays,
    bad_counts,
    bad_intervals,
    bad_numbers,
    bad_positive_numbers,
    bad_seeds,
    calls,
    check_clean,
    check_rejected,
    exported_callables,
    not_bools,
    not_generators,
    unknown_names,
    wrong_ndim_arrays,
    wrong_types,
)
from hypothesis import given
from hypothesis import strategies as st

import netspectra.data as nd
import netspectra.models as nm
from netspectra._validation import MAX_LAYERS
from netspectra.data.images import random_flip
from netspectra.data.signals import class_dc_offsets
from netspectra.models._layers import CausalConv1d
from netspectra.models.init import torch_default_
from netspectra.models.toy_cnn import ToyUnit

IMAGES = nd.ImageSet(np.zeros((6, 3, 8, 8), np.float32), np.arange(6, dtype=np.int64), "six")
NAMES = nm.activations.ACTIVATION_MODULE_NAMES


def not_modules():
    return st.sampled_from([None, "model", torch.zeros(3), print, [torch.nn.ReLU()]])


def signals(channels: int, length: int):
    """Inputs a network for ``(N, channels, L >= length)`` signals does not take: NumPy arrays,
    other channel counts, too few samples, other numbers of dimensions."""
    return st.sampled_from([
        np.zeros((2, channels, length)), torch.zeros(2, channels + 1, length),
        torch.zeros(2, channels, max(length - 1, 0)), torch.zeros(length),
        torch.zeros(1, 2, channels, length), "signal",
    ])


def images(channels: int, size: int):
    """Inputs a network for ``(N, channels, size, size)`` images does not take."""
    return st.sampled_from([
        np.zeros((2, channels, size, size)), torch.zeros(2, channels + 1, size, size),
        torch.zeros(2, channels, size + 6, size + 6), torch.zeros(channels, size, size),
        torch.zeros(2, channels, size), None,
    ])


def forward_of(model):
    """``model(x)`` as a function of ``x`` (the forward pass with every hook)."""

    def forward(x):
        return model(x)

    forward.__qualname__ = f"{type(model).__name__}.forward"
    return forward


TWO_CONV = nm.TwoConvClassifier("linear", n_filters=2, n_hidden=2, kernel_size=3)
TINY_TOY = nm.ToyCNN(1, 2, image_size=12)
TINY_RESNET = nm.CifarResNet(8, in_channels=1)

CASES = {
    # data
    "load_digits32": calls(nd.load_digits32, "size", bad_counts(2)),
    "load_cifar10": st.one_of(
        calls(nd.load_cifar10, "root", st.sampled_from([None, 3, ["a"]])),
        calls(nd.load_cifar10, "root", st.just("/nonexistent/cifar"), names="CIFAR-10"),
        calls(nd.load_cifar10, "train", not_bools(), root="/nonexistent"),
    ),
    "load_cifar100": st.one_of(
        calls(nd.load_cifar100, "root", st.sampled_from([None, 3.5])),
        calls(nd.load_cifar100, "labels", unknown_names(["fine", "coarse"]), root="."),
        calls(nd.load_cifar100, "train", not_bools(), root="."),
    ),
    "holdout_split": st.one_of(
        calls(nd.holdout_split, "data", st.sampled_from([None, np.zeros((6, 3, 8, 8))])),
        calls(nd.holdout_split, "fraction", st.one_of(bad_numbers(), st.sampled_from(
            [0.0, 1.0, -0.5, 2.0])), data=IMAGES),
        calls(nd.holdout_split, "seed", bad_seeds(), data=IMAGES),
    ),
    "ImageSet": st.one_of(
        calls(nd.ImageSet, "images", st.one_of(bad_arrays(4), st.just(np.zeros((6, 3, 8, 8),
              np.int64))), labels=np.arange(6), name="x"),
        calls(nd.ImageSet, "labels", st.sampled_from([np.arange(5), np.zeros(6), [0] * 6,
              np.zeros((6, 1), np.int64)]), images=IMAGES.images, name="x"),
        calls(nd.ImageSet, "name", st.sampled_from([None, 3]), images=IMAGES.images,
              labels=IMAGES.labels),
    ),
    "random_flip": st.one_of(
        calls(random_flip, "images", st.one_of(wrong_ndim_arrays(4), wrong_types()), rng=0),
        calls(random_flip, "rng", bad_seeds(), images=IMAGES.images),
    ),
    "minibatch": st.one_of(
        calls(nd.minibatch, "data", st.sampled_from([None, IMAGES.images]), batch_size=2,
              seed=0),
        calls(nd.minibatch, "batch_size", st.one_of(bad_counts(1), st.just(7)), data=IMAGES,
              seed=0),
        calls(nd.minibatch, "seed", bad_seeds(), data=IMAGES, batch_size=2),
        calls(nd.minibatch, "augment", not_bools(), data=IMAGES, batch_size=2, seed=0),
    ),
    "sinusoid_classes": st.one_of(
        calls(nd.sinusoid_classes, "n_per_class", bad_counts(1)),
        calls(nd.sinusoid_classes, "n_samples", bad_counts(2), n_per_class=1),
        calls(nd.sinusoid_classes, "fs", bad_positive_numbers(), n_per_class=1),
        calls(nd.sinusoid_classes, "class_frequencies", bad_arrays(1), n_per_class=1),
        calls(nd.sinusoid_classes, "sigma", st.one_of(bad_numbers(), st.just(-0.1)),
              n_per_class=1),
        calls(nd.sinusoid_classes, "seed", bad_seeds(), n_per_class=1),
    ),
    "class_dc_offsets": st.one_of(
        calls(class_dc_offsets, "labels", st.sampled_from([[0.5, 1.0], [3], [-1],
                                                           ["a"], [None]])),
        calls(class_dc_offsets, "amplitudes", bad_arrays(1), labels=[0]),
    ),
    "synthetic_ppg": st.one_of(
        calls(nd.synthetic_ppg, "n_windows", bad_counts(1)),
        calls(nd.synthetic_ppg, "fs", bad_positive_numbers(), n_windows=1),
        calls(nd.synthetic_ppg, "seconds", st.one_of(bad_positive_numbers(), st.just(0.1)),
              n_windows=1, names=("seconds", "fs")),
        calls(nd.synthetic_ppg, "heart_rate_range", bad_intervals(), n_windows=1),
        calls(nd.synthetic_ppg, "noise", st.one_of(bad_numbers(), st.just(-1.0)), n_windows=1),
        calls(nd.synthetic_ppg, "seed", bad_seeds(), n_windows=1),
        calls(nd.synthetic_ppg, "fs", st.just(1e300), n_windows=1, seconds=1e300,
              names="n_windows"),
    ),
    "load_signal_windows": calls(nd.load_signal_windows, "path",
                                 st.sampled_from(["/nonexistent.csv", "."]),
                                 names="signal file"),
    "load_signal_batch": calls(nd.load_signal_batch, "path",
                               st.sampled_from(["/nonexistent.npy", ".", "x.json"]),
                               names="signal file"),
    # models
    "CausalConv1d": st.one_of(*(
        calls(CausalConv1d, arg, bad_counts(1), **{"in_channels": 1, "out_channels": 1,
                                                   "kernel_size": 2, **{arg: None}})
        for arg in ("in_channels", "out_channels", "kernel_size", "dilation")),
        calls(CausalConv1d, "bias", not_bools(), in_channels=1, out_channels=1,
              kernel_size=2),
    ),
    "CausalConv1d.forward": calls(forward_of(CausalConv1d(2, 1, 3)), "x", signals(2, 1),
                                  names="x"),
    "glorot_uniform_": st.one_of(
        calls(nm.glorot_uniform_, "module", not_modules()),
        calls(nm.glorot_uniform_, "generator", not_generators(), module=torch.nn.Linear(2, 2)),
    ),
    "make_activation": st.one_of(
        calls(nm.make_activation, "name", unknown_names(NAMES), names="activation"),
        calls(nm.make_activation, "slope", bad_numbers(), name="lrelu"),
        calls(nm.make_activation, "slope", st.floats(-1, 1), name="tanh"),
    ),
    "DifferentiationNet": st.one_of(
        calls(nm.DifferentiationNet, "n_layers", st.one_of(bad_counts(1), st.just(
            MAX_LAYERS + 1))),
        calls(nm.DifferentiationNet, "fs", bad_positive_numbers()),
    ),
    "DifferentiationNet.forward": calls(forward_of(nm.DifferentiationNet(3)), "x", signals(1, 4),
                                        names="x"),
    "MovingAverageNet": st.one_of(
        calls(nm.MovingAverageNet, "n_layers", bad_counts(1)),
        calls(nm.MovingAverageNet, "width", bad_counts(1)),
    ),
    "MovingAverageNet.forward": calls(forward_of(nm.MovingAverageNet(2, 4)), "x", signals(1, 7),
                                      names="x"),
    "MinimalDCNet": st.one_of(
        calls(nm.MinimalDCNet, "kernel_size", bad_counts(1)),
        calls(nm.MinimalDCNet, "generator", not_generators()),
    ),
    "MinimalDCNet.forward": calls(forward_of(nm.MinimalDCNet()), "x", signals(1, 1), names="x"),
    "TwoConvClassifier": st.one_of(
        calls(nm.TwoConvClassifier, "activation", unknown_names(["relu", "linear"])),
        calls(nm.TwoConvClassifier, "init", unknown_names(["keras", "torch"])),
        calls(nm.TwoConvClassifier, "generator", not_generators()),
        *(calls(nm.TwoConvClassifier, arg, bad_counts(1), names=(arg, "kernel", "dense"))
          for arg in ("n_filters", "kernel_size", "n_hidden", "n_classes")),
    ),
    "TwoConvClassifier.forward": calls(forward_of(TWO_CONV), "x", signals(1, 1), names="x"),
    "TwoConvClassifier.window_sums": calls(TWO_CONV.window_sums, "x", signals(1, 5)),
    "TwoConvClassifier.forward_from_window_sums": calls(
        TWO_CONV.forward_from_window_sums, "sums",
        st.sampled_from([torch.zeros(2, 2, 2), torch.zeros(3, 3), np.zeros((2, 3, 3)), None])),
    "delta_orthogonal_": st.one_of(
        calls(nm.delta_orthogonal_, "module", not_modules()),
        calls(nm.delta_orthogonal_, "gain", bad_positive_numbers(), module=torch.nn.Linear(2, 2)),
        calls(nm.delta_orthogonal_, "generator", not_generators(), module=torch.nn.Linear(2, 2)),
    ),
    "torch_default_": st.one_of(
        calls(torch_default_, "module", not_modules()),
        calls(torch_default_, "generator", not_generators(), module=torch.nn.Linear(2, 2)),
    ),
    "ToyUnit": st.one_of(
        *(calls(ToyUnit, arg, bad_counts(1), **{"in_channels": 2, "out_channels": 2,
                                                arg: None})
          for arg in ("in_channels", "out_channels", "averaging")),
        calls(ToyUnit, "stride", bad_counts(1).filter(lambda v: not isinstance(v, int)
              or v < 1), in_channels=2, out_channels=2),
        calls(ToyUnit, "activation", unknown_names(NAMES), in_channels=2, out_channels=2),
        calls(ToyUnit, "shortcut", st.sampled_from(["yes", 1, None]), in_channels=2,
              out_channels=2),
        calls(ToyUnit, "shortcut", st.just(True), in_channels=2, out_channels=3),
    ),
    "ToyUnit.forward": calls(forward_of(ToyUnit(2, 2)), "x", images(2, 4).filter(
        lambda x: not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 2),
        names="x"),
    "ToyCNN": st.one_of(
        *(calls(nm.ToyCNN, arg, bad_counts(minimum), names=(arg, "depth"), depth=1, width=2)
          for arg, minimum in (("depth", 1), ("width", 1), ("in_channels", 1),
                               ("image_size", 5), ("num_classes", 1), ("averaging", 1))),
        calls(nm.ToyCNN, "activation", unknown_names(NAMES), depth=1),
        calls(nm.ToyCNN, "slope", bad_numbers(), depth=1, activation="lrelu"),
        calls(nm.ToyCNN, "init", unknown_names(["torch", "delta_orthogonal"]), depth=1),
        calls(nm.ToyCNN, "generator", not_generators(), depth=1),
    ),
    "ToyCNN.forward": calls(forward_of(TINY_TOY), "x", images(3, 12), names="x"),
    "CifarResNet": st.one_of(
        calls(nm.CifarResNet, "depth", st.one_of(bad_counts(8), st.sampled_from(
            [21, 6 * MAX_LAYERS + 2]))),
        calls(nm.CifarResNet, "version", st.sampled_from([0, 3, "1", True, None])),
        calls(nm.CifarResNet, "shortcut_weight", st.one_of(bad_numbers(), st.sampled_from(
            [-0.1, 1.5]))),
        calls(nm.CifarResNet, "shortcut", st.sampled_from(["no", None])),
        calls(nm.CifarResNet, "averaging", bad_counts(1), depth=8,
              names=("averaging", "depth")),
        calls(nm.CifarResNet, "num_classes", bad_counts(1), depth=8),
        calls(nm.CifarResNet, "in_channels", bad_counts(1), depth=8),
        calls(nm.CifarResNet, "generator", not_generators(), depth=8),
    ),
    "CifarResNet.forward": calls(forward_of(TINY_RESNET), "x", images(1, 8).filter(
        lambda x: not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 1),
        names="x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@FUZZ
@given(data=st.data())
def test_invalid_input_is_refused_with_a_clear_error(name, data, one_thread):
    data.draw(CASES[name], label=name).check()


def test_every_function_and_network_is_fuzzed():
    # The public names and those kept in the submodules (CausalConv1d, ToyUnit, random_flip, ...).
    exported = exported_callables(nd) | exported_callables(nm)
    assert {n for module in (nd, nm) for n in module.__all__} < exported
    covered = {name.split(".")[0] for name in CASES}
    # The heart-rate CNN and its loaders are fuzzed with their own tests; the ResNet's blocks
    # through CifarResNet; the NamedTuples are plain containers.
    assert exported - covered <= {"HeartRateCNN", "load_keras_heart_rate", "load_model",
                                  "load_state_dict", "SinusoidClasses", "SyntheticPPG",
                                  "BasicBlock", "PreActBlock", "ShortcutA"}


@pytest.mark.parametrize("n", [2**31, 2**62, 2**63 - 1, 2**64])
@pytest.mark.parametrize(("make", "name"), [
    (lambda n: nd.sinusoid_classes(n), "n_per_class"),
    (lambda n: nd.synthetic_ppg(n), "n_windows"),
    (lambda n: nd.load_digits32(size=n), "size"),
    (lambda n: nm.ToyCNN(1, n), "depth"),
    (lambda n: CausalConv1d(1, 1, n), "kernel_size"),
    (lambda n: nm.MovingAverageNet(1, n), "width"),
    (lambda n: nm.CifarResNet(20, averaging=n), "depth"),
])
def test_huge_requests_are_refused_before_allocating(make, name, n):
    check_rejected(make, n, names=name)


@FUZZ
@given(seed=st.integers(0, 2**64 - 1), n=st.integers(1, 4))
def test_valid_seeds_of_the_whole_range_work(seed, n):
    x = check_clean(nd.synthetic_ppg, n, seed=seed, names="seed")
    assert x.x.shape == (n, 256)
    labels = check_clean(nd.sinusoid_classes, n, seed=seed, names="seed").labels
    assert labels.shape == (3 * n,)
