"""The Ringing ReLUs networks: structure, seeding, initialisation and hand-computed outputs."""

import numpy as np
import pytest
import torch
from torch import nn

from netspectra import NetspectraError
from netspectra.models import CifarResNet, ToyCNN, delta_orthogonal_, make_activation
from netspectra.models.activations import ACTIVATION_MODULE_NAMES
from netspectra.models.resnet import ShortcutA
from netspectra.models.toy_cnn import ToyUnit
from netspectra.theory import activation
from netspectra.theory.activations import ACTIVATION_NAMES

pytestmark = pytest.mark.usefixtures("one_thread")


def _images(n=2, size=32, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kwargs", [
    {"depth": 1}, {"depth": 3}, {"depth": 3, "shortcut": True}, {"depth": 2, "averaging": 2},
    {"depth": 2, "num_classes": 7, "image_size": 20},
])
def test_toy_cnn_output_shape(kwargs):
    model = ToyCNN(**kwargs)
    out = model(_images(size=kwargs.get("image_size", 32)))
    assert out.shape == (2, kwargs.get("num_classes", 10))


@pytest.mark.parametrize("name", ACTIVATION_MODULE_NAMES)
def test_toy_cnn_runs_with_every_activation(name):
    out = ToyCNN(depth=2, activation=name)(_images())
    assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_toy_cnn_children_and_stride5_stem():
    model = ToyCNN(depth=3)
    assert list(dict(model.named_children())) == ["stem", "unit1", "unit2", "unit3", "head"]
    assert model.unit_names == ["unit1", "unit2", "unit3"]
    names = dict(model.named_modules())
    assert {"stem", "unit1", "unit1.conv", "unit1.bn", "unit1.act", "head"} <= set(names)
    assert model.stem(_images()).shape == (2, 16, 7, 7)
    assert model[1] is model.unit1  # model[:k] is the prefix in front of unit k


@pytest.mark.parametrize("kwargs", [
    {"version": 1}, {"version": 2}, {"version": 1, "shortcut": False},
    {"version": 2, "shortcut": False}, {"wide": True}, {"shortcut_weight": 0.5},
    {"version": 2, "averaging": 2}, {"version": 1, "averaging": 2, "shortcut": False},
])
def test_cifar_resnet20_output_shape(kwargs):
    model = CifarResNet(20, **kwargs)
    assert model(_images()).shape == (2, 10)
    assert model.block_names == [f"block{i}" for i in range(1, 10)]
    assert list(dict(model.named_children())) == ["stem", *model.block_names, "head"]


def test_cifar_resnet_stages_and_block_layers():
    model = CifarResNet(20, wide=True)
    assert [model[k].conv2.out_channels for k in (1, 4, 7)] == [28, 56, 112]
    assert [model[k].conv1.stride for k in (1, 4, 7)] == [(1, 1), (2, 2), (2, 2)]
    names = dict(model.named_modules())
    assert {f"block1.{m}" for m in ("conv1", "bn1", "act1", "conv2", "bn2", "act2")} <= set(names)


def test_averaging_widens_only_conv_bn_act_sequences():
    v1 = CifarResNet(20, averaging=3).block1
    assert (v1.conv1.out_channels, v1.conv2.out_channels) == (48, 16)
    v1_ns = CifarResNet(20, averaging=3, shortcut=False).block1
    assert (v1_ns.conv1.out_channels, v1_ns.conv2.out_channels) == (48, 48)
    v2 = CifarResNet(20, version=2, averaging=3).block1
    assert (v2.conv1.out_channels, v2.bn1.num_features, v2.conv2.out_channels) == (48, 16, 16)
    assert ToyCNN(depth=1, averaging=3).unit1.conv.out_channels == 48


@torch.no_grad()
def test_averaging_sums_feature_groups_by_hand():
    unit = ToyUnit(1, 2, "relu", averaging=3).eval()
    unit.bn.eps = 0.0  # fresh running statistics: bn is then exactly the identity
    unit.conv.weight.zero_()
    scales = torch.tensor([1.0, -2.0, 3.0, -4.0, 5.0, -6.0])
    unit.conv.weight[:, 0, 1, 1] = scales  # channel k = scales[k] · x
    x = torch.randn(1, 1, 4, 5)
    # channel c sums groups g = 0, 1, 2, i.e. channels c, c + 2, c + 4
    expected = torch.cat([9 * torch.relu(x), 12 * torch.relu(-x)], dim=1)
    torch.testing.assert_close(unit(x), expected)


@pytest.mark.parametrize("version", [1, 2])
def test_zero_shortcut_weight_is_the_noshort_network(version):
    scaled = CifarResNet(20, version=version, shortcut_weight=0.0, generator=_seeded(3))
    plain = CifarResNet(20, version=version, shortcut=False)
    plain.load_state_dict(scaled.state_dict())
    resnet = CifarResNet(20, version=version)
    resnet.load_state_dict(scaled.state_dict())
    x = _images(4)
    torch.testing.assert_close(scaled(x), plain(x), rtol=0, atol=0)
    assert not torch.allclose(resnet(x), plain(x))


def test_option_a_shortcut_subsamples_and_zero_pads():
    x = torch.randn(2, 16, 8, 8)
    y = ShortcutA(16, 32, 2)(x)
    assert y.shape == (2, 32, 4, 4)
    torch.testing.assert_close(y[:, 8:24], x[:, :, ::2, ::2])
    assert not y[:, :8].any() and not y[:, 24:].any()
    assert torch.equal(ShortcutA(16, 16, 1)(x), x)


@pytest.mark.parametrize("build", [
    lambda g: ToyCNN(depth=2, generator=g),
    lambda g: ToyCNN(depth=2, init="delta_orthogonal", generator=g),
    lambda g: CifarResNet(20, version=2, generator=g),
])
def test_same_seed_same_weights_other_seed_other_weights(build):
    a, b, c = (build(_seeded(s)).state_dict() for s in (0, 0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


def test_seeded_default_init_has_pytorch_bounds():
    conv = ToyCNN(depth=1, generator=_seeded(0)).unit1.conv.weight
    bound = 1 / (16 * 9) ** 0.5
    assert conv.abs().max() <= bound and conv.abs().max() > 0.95 * bound


@torch.no_grad()
def test_delta_orthogonal_centre_tap_is_orthogonal_rest_zero():
    model = ToyCNN(depth=2, init="delta_orthogonal", generator=_seeded(0))
    for unit in (model.unit1, model.unit2):
        w = unit.conv.weight
        centre = w[:, :, 1, 1].double()
        torch.testing.assert_close(centre @ centre.T, torch.eye(16, dtype=torch.float64),
                                   atol=1e-6, rtol=0)
        off = w.clone()
        off[:, :, 1, 1] = 0
        assert not off.any()
    stem = model.stem.conv.weight[:, :, 1, 1].double()  # 16 × 3: orthonormal columns
    torch.testing.assert_close(stem.T @ stem, torch.eye(3, dtype=torch.float64),
                               atol=1e-6, rtol=0)
    head = model.head[1]  # 10 × 784: orthonormal rows
    torch.testing.assert_close(head.weight.double() @ head.weight.double().T,
                               torch.eye(10, dtype=torch.float64), atol=1e-6, rtol=0)
    assert not head.bias.any()


def test_delta_orthogonal_gain_scales_and_returns_module():
    conv = nn.Conv2d(4, 4, 3, bias=True)
    assert delta_orthogonal_(conv, gain=2.0, generator=_seeded(0)) is conv
    centre = conv.weight.detach()[:, :, 1, 1].double()
    torch.testing.assert_close(centre @ centre.T, 4 * torch.eye(4, dtype=torch.float64),
                               atol=1e-5, rtol=0)
    assert not conv.bias.any()
    with pytest.raises(NetspectraError, match="gain"):
        delta_orthogonal_(conv, gain=0.0)


def test_lrelu_with_slope_one_is_identity():
    x = torch.randn(100)
    assert torch.equal(make_activation("lrelu", slope=1.0)(x), x)
    assert make_activation("lrelu").negative_slope == 0.01
    assert isinstance(make_activation("hardtanh"), nn.Hardtanh)
    assert isinstance(make_activation("linear"), nn.Identity)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: make_activation("swish"), "unknown activation 'swish'.*relu, tanh, softplus"),
    (lambda: ToyCNN(depth=1, activation="swish"), "lrelu"),
    (lambda: make_activation("relu", slope=0.1), "slope applies to 'lrelu' only"),
    (lambda: make_activation("lrelu", slope=float("nan")), "slope must be finite"),
    (lambda: CifarResNet(21), r"6n \+ 2.*found 21"),
    (lambda: CifarResNet(4), "depth must be >= 8"),
    (lambda: CifarResNet(20, version=3), "version must be 1 or 2"),
    (lambda: CifarResNet(20, shortcut_weight=1.5), r"shortcut_weight must be in \[0, 1\]"),
    (lambda: CifarResNet(20, shortcut=False, shortcut_weight=0.5), "only with shortcut=True"),
    (lambda: CifarResNet(20, init="xavier"), "unknown init 'xavier'"),
    (lambda: ToyCNN(depth=0), "depth must be >= 1"),
    (lambda: ToyCNN(width=0), "width must be >= 1"),
    (lambda: ToyCNN(averaging=0), "averaging must be >= 1"),
    (lambda: ToyCNN(image_size=4), "image_size must be >= 5"),
    (lambda: ToyUnit(8, 16, shortcut=True), "shortcut needs in_channels == out_channels"),
])
def test_invalid_arguments_are_refused(call, match):
    with pytest.raises(NetspectraError, match=match):
        call()


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_modules_compute_the_theory_functions_of_the_same_name(name):
    # One vocabulary for networks and their Chebyshev analysis (RR App. F.1).
    slope = 0.2 if name == "lrelu" else None
    t = np.linspace(-6.0, 6.0, 241)
    module = make_activation(name, slope=slope)
    with torch.no_grad():
        out = module(torch.from_numpy(t)).numpy()
    np.testing.assert_allclose(out, activation(name, slope=slope)(t), rtol=1e-7, atol=1e-8)
    assert ACTIVATION_MODULE_NAMES == ACTIVATION_NAMES


@pytest.mark.parametrize(("make", "message"), [
    (lambda: ToyCNN(depth=1)(torch.zeros(2, 3, 28, 28)), r"x must have shape \(N, 3, 32, 32\)"),
    (lambda: ToyCNN(depth=1)(np.zeros((2, 3, 32, 32), np.float32)), "torch.from_numpy"),
    (lambda: CifarResNet(20)(torch.zeros(2, 1, 32, 32)), r"x must have shape \(N, 3, H, W\)"),
    (lambda: ToyCNN(depth=10**9), "depth must be <= 10000"),
    (lambda: ToyCNN(depth=1, width=2**40), "would need"),
    (lambda: CifarResNet(20, generator=0), "generator must be a torch.Generator"),
    (lambda: ToyUnit(4, 4, shortcut="no"), "shortcut must be True or False"),
    (lambda: delta_orthogonal_(None), "module must be a torch.nn.Module"),
])
def test_bad_sizes_and_inputs_are_refused_by_name(make, message):
    with pytest.raises(NetspectraError, match=message):
        make()
