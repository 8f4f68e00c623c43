"""The weight-space walk engine: vectorised equals looped, the model left as found, bad input."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netspectra import NetspectraError
from netspectra.models import ToyCNN
from netspectra.probes import (
    Walk,
    gradient_direction,
    random_direction,
    walk,
    walk_paths,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _toy(depth=3, seed=0, **kwargs):
    return ToyCNN(depth, 4, image_size=12, generator=torch.Generator().manual_seed(seed),
                  **kwargs).double()


def _batch(n=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 3, 12, 12, generator=gen, dtype=torch.float64),
            torch.randint(0, 10, (n,), generator=gen))


def _naive_paths(model, x, y, directions, alpha, n_points, layers):
    """One point at a time with W + tD written into a copy of the model (the oracle)."""
    model = copy.deepcopy(model)
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.train()
    names = dict(model.named_modules())
    params = dict(model.named_parameters())
    start = {n: p.detach().clone() for n, p in params.items()}
    losses, captured = [], {name: [] for name in layers}
    for d in directions:
        loss_path, outs = [], {name: [] for name in layers}
        hooks = [names[name].register_forward_hook(
            lambda _m, _i, o, store=outs[name]: store.append(o.detach().reshape(-1).clone()))
            for name in layers]
        for t in np.linspace(0, 1, n_points):
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(start[n] + alpha * t * d[n] if n in d else start[n])
                loss_path.append(float(F.cross_entropy(model(x), y)))
        for h in hooks:
            h.remove()
        losses.append(loss_path)
        for name in layers:
            captured[name].append(torch.stack(outs[name]).numpy())
    return np.array(losses), {name: np.stack(v) for name, v in captured.items()}


@pytest.mark.parametrize("n_directions", [1, 3])
@pytest.mark.parametrize("strategy", ["loop", "vmap"])
def test_engine_equals_one_point_at_a_time_loop(n_directions, strategy):
    model, (x, y) = _toy(), _batch()
    directions = [random_direction(model, seed=s) for s in range(n_directions)]
    layers = ["unit1", "unit3"]
    paths = walk_paths(model, x, directions, target=y, layers=layers, alpha=1.5, n_points=12,
                       strategy=strategy, chunk_points=5, progress=False)
    loss, outs = _naive_paths(model, x, y, directions, 1.5, 12, layers)
    np.testing.assert_allclose(paths.loss, loss, rtol=1e-10)
    for name in layers:
        np.testing.assert_allclose(paths.layers[name], outs[name], rtol=1e-9, atol=1e-12)
    # The same directions drawn by the walk from its seeds give the same spectra.
    seeded = walk(model, x, n_directions, target=y, layers=layers, n_points=12, alpha=1.5,
                  strategy=strategy, progress=False)
    again = walk(model, x, [seeded.direction(i) for i in range(n_directions)], target=y,
                 layers=layers, n_points=12, alpha=1.5, strategy="loop", progress=False)
    np.testing.assert_allclose(again.layer_power, seeded.layer_power, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(again.loss, seeded.loss, rtol=1e-6)


def _state(model):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [m.training for m in model.modules()])


def _assert_same_state(model, before):
    tensors, modes = before
    for k, v in model.state_dict().items():
        assert torch.equal(v, tensors[k]), k
    assert [m.training for m in model.modules()] == modes


def test_model_left_bit_identical_also_when_the_walk_raises():
    model, (x, y) = _toy(), _batch()
    model.train()
    model.unit2.eval()  # mixed modes must come back as they were
    before = _state(model)
    result = walk(model, x, 2, target=y, layers=["unit2"], n_points=10, progress=False)
    assert result.batchnorm == "batch"
    _assert_same_state(model, before)
    calls = {"n": 0}

    def exploding(out, target):  # called once to check the target, then once per point
        calls["n"] += 1
        return F.cross_entropy(out, target) * (float("nan") if calls["n"] > 5 else 1.0)

    with pytest.raises(NetspectraError, match=r"non-finite loss along direction 0 at point 4 "):
        walk(model, x, 1, target=y, loss_fn=exploding, n_points=10, progress=False)
    _assert_same_state(model, before)
    assert all(p.grad is None for p in model.parameters())


def test_batchnorm_modes_differ_and_running_uses_eval_statistics():
    model, (x, y) = _toy(), _batch()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
    batch = walk(model, x, 1, target=y, n_points=8, progress=False)
    running = walk(model, x, 1, target=y, n_points=8, batchnorm="running", progress=False)
    assert running.batchnorm == "running"
    assert not np.allclose(batch.loss, running.loss)
    model.eval()
    with torch.no_grad():
        assert running.loss[0, 0] == pytest.approx(float(F.cross_entropy(model(x), y)))


def test_one_layer_walk_runs_the_prefix_once_and_equals_a_full_walk():
    model, (x, y) = _toy(depth=4), _batch()
    calls = {"stem": 0}
    handle = model.stem.register_forward_hook(lambda *_: calls.__setitem__("stem",
                                                                           calls["stem"] + 1))
    with pytest.warns(UserWarning, match="before every varied parameter") as caught:
        part = walk(model, x, 1, target=y, modules="unit3", layers=["unit2", "unit4"],
                    n_points=10, progress=False)
    handle.remove()
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert calls["stem"] == 1 and part.layers == ["unit4"]
    assert all(name.startswith("unit3.") for name in part.direction_names)

    class Wrapped(nn.Module):  # not a Sequential: every point runs the whole network
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, v):
            return self.inner(v)

    full = walk(Wrapped(model), x, {f"inner.{n}": d for n, d in part.direction(0).items()},
                target=y, layers=["inner.unit4"], n_points=10, progress=False)
    np.testing.assert_allclose(full.loss, part.loss, rtol=1e-6)
    np.testing.assert_allclose(full.layer_power, part.layer_power, rtol=1e-5, atol=1e-12)
    # The saved direction is float32, so compare with a loop walk along that one.
    same = {"target": y, "layers": ["unit4"], "n_points": 10, "progress": False}
    looped = walk(model, x, part.direction(0), strategy="loop", **same)
    batched = walk(model, x, part.direction(0), strategy="vmap", chunk_points=4, **same)
    np.testing.assert_allclose(batched.loss, looped.loss, rtol=1e-12)
    np.testing.assert_allclose(batched.layer_power, looped.layer_power, rtol=1e-9, atol=1e-15)


def test_memory_budget_keeps_a_seeded_subset_and_results_are_reproducible(tmp_path):
    model, (x, y) = _toy(), _batch()
    kwargs = {"target": y, "layers": ["unit1", "unit2"], "n_points": 10, "progress": False}
    full = walk(model, x, 2, **kwargs)
    assert full.neurons == [6 * 4 * 3 * 3] * 2
    small = walk(model, x, 2, memory_budget=2 * 10 * 8 * 50, max_neurons=None, **kwargs)
    assert small.neurons == [50, 50]
    np.testing.assert_array_equal(small.layer_power, walk(model, x, 2, memory_budget=8000,
                                                          max_neurons=None,
                                                          **kwargs).layer_power)
    paths = walk_paths(model, x, 1, max_neurons=7, **kwargs)
    every = walk_paths(model, x, 1, max_neurons=None, **kwargs)
    index = paths.neuron_index["unit1"]
    assert len(index) == 7 and np.all(np.diff(index) > 0)
    # Indices are logical (N, C, H, W) ones, whatever the memory layout of the outputs.
    np.testing.assert_array_equal(paths.layers["unit1"], every.layers["unit1"][..., index])
    small.save(tmp_path)
    loaded = Walk.load(tmp_path)
    np.testing.assert_array_equal(loaded.layer_power, small.layer_power)
    assert loaded.direction_seeds == small.direction_seeds
    assert loaded.plot() is not None


def test_vmap_chunks_count_the_widest_activation_not_only_the_output(monkeypatch):
    # A loss-only walk records nothing, yet each point's forward holds a 2 × 20000 hidden
    # activation: the memory budget must split the path into chunks of a few points.
    import netspectra.probes._engine as engine

    calls, real_vmap = [], engine.vmap

    def counting_vmap(*args, **kwargs):  # the engine builds one vmap per chunk
        calls.append(1)
        return real_vmap(*args, **kwargs)

    monkeypatch.setattr(engine, "vmap", counting_vmap)
    gen = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 20000), nn.ReLU(), nn.Linear(20000, 2)).double()
    x = torch.randn(2, 4, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1])
    point_bytes = 8 * (3 * 2 * 20000 + sum(p.numel() for p in model.parameters()))
    kwargs = {"target": y, "n_points": 16, "progress": False}
    chunked = walk_paths(model, x, 1, strategy="vmap", memory_budget=4 * point_bytes, **kwargs)
    assert 3 <= len(calls) <= 8
    np.testing.assert_allclose(chunked.loss, walk_paths(model, x, 1, strategy="loop",
                                                        **kwargs).loss, rtol=1e-10)


@pytest.mark.parametrize("faster", ["loop", "vmap"])
def test_measure_keeps_the_faster_strategy_and_times_each_setting_once(monkeypatch, faster):
    import netspectra.probes._strategy as strategies

    races = []

    def fixed_race(candidates, **_):
        races.append(sorted(candidates))
        for fn in candidates.values():  # the trials must run, on both strategies
            fn()
        return {how: 1.0 if how == faster else 2.0 for how in candidates}

    monkeypatch.setattr(strategies, "race", fixed_race)
    monkeypatch.setattr(strategies, "MEASURED", {})
    model, (x, y) = _toy(), _batch()
    kwargs = {"target": y, "layers": ["unit2"], "n_points": 12, "progress": False}
    measured = walk(model, x, 2, strategy="measure", **kwargs)
    assert measured.strategy == faster and races == [["loop", "vmap"]]
    named = walk(model, x, 2, strategy=faster, **kwargs)
    np.testing.assert_array_equal(measured.layer_power, named.layer_power)
    np.testing.assert_array_equal(measured.loss, named.loss)
    _assert_same_state(model, _state(_toy()))  # the trials leave the model as found
    walk(model, x, 1, strategy="measure", **kwargs)
    assert len(races) == 1  # the same setting again: remembered
    walk(model, x, 1, strategy="measure", **kwargs | {"layers": ["unit1", "unit3"]})
    assert len(races) == 2  # another recording: timed anew


def test_measure_times_real_runs_and_auto_keeps_the_loop_on_cpu(monkeypatch):
    import netspectra.probes._strategy as strategies

    monkeypatch.setattr(strategies, "MEASURED", {})
    model, (x, y) = _toy(), _batch()
    measured = walk(model, x, 1, target=y, n_points=10, strategy="measure", progress=False)
    assert measured.strategy in ("loop", "vmap") and len(strategies.MEASURED) == 1
    assert walk(model, x, 1, target=y, n_points=10, progress=False).strategy == "loop"
    assert len(strategies.MEASURED) == 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("derivative", "detrend"), [(False, False), (True, False), (False, True),
                                                     (True, True)])
def test_walk_spectra_equal_the_theory_reference(dtype, derivative, detrend):
    from netspectra.probes._path_spectra import mean_path_power
    from netspectra.theory import path_power_spectrum

    gen = torch.Generator().manual_seed(3)
    n = 21
    paths = torch.randn(n, 40, generator=gen, dtype=torch.float64).cumsum(0)
    paths[:, 5] = 2.5  # constant: a dead unit
    paths[:, 6] = 1.0 + 0.3 * torch.linspace(0, 1, n, dtype=torch.float64)  # constant detrended
    paths = paths.to(dtype)
    ulps = torch.randint(-4, 5, (n,), generator=gen).to(dtype)
    paths[:, 7] = 1e3 * (1 + ulps * torch.finfo(dtype).eps)  # rounding noise: constant too
    mean, count = mean_path_power(paths, derivative=derivative, detrend=detrend)
    _, power, valid = path_power_spectrum(paths.numpy(), axis=0, derivative=derivative,
                                          detrend=detrend)
    assert int(count) == valid.sum() == 40 - 2 - detrend
    np.testing.assert_allclose(mean.numpy(), power[valid].mean(axis=0), rtol=1e-12)
    none, zero = mean_path_power(torch.ones(n, 3, dtype=dtype))
    assert int(zero) == 0 and not none.any()


class _Branching(nn.Module):
    """Data-dependent control flow: fine one point at a time, refused by vmap."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)

    def forward(self, v):
        out = self.layer(v)
        return out if out.sum() > -1e9 else -out


def test_models_vmap_cannot_batch_fall_back_to_the_loop(monkeypatch):
    import netspectra.probes._strategy as strategies

    monkeypatch.setattr(strategies, "MEASURED", {})
    model, x, y = _Branching().double(), torch.randn(4, 3, dtype=torch.float64), torch.tensor(
        [0, 1, 0, 1])
    kwargs = {"target": y, "n_points": 8, "progress": False}
    loop = walk(model, x, 1, strategy="loop", **kwargs)
    with pytest.warns(UserWarning, match="cannot be evaluated under torch.func.vmap") as caught:
        measured = walk(model, x, 1, strategy="measure", **kwargs)
    assert measured.strategy == "loop" and caught[0].filename == __file__
    np.testing.assert_array_equal(measured.loss, loop.loss)
    monkeypatch.setattr(strategies, "AUTO", {"cpu": "vmap"})  # what "auto" does on CUDA
    with pytest.warns(UserWarning, match="one at a time") as caught:
        assert walk(model, x, 1, **kwargs).strategy == "loop"
    assert caught[0].filename == __file__  # the warning points at the caller
    with pytest.raises(RuntimeError):
        walk(model, x, 1, strategy="vmap", **kwargs)


def test_first_layer_relu_paths_follow_one_over_k():
    # RR App. B.2: a first-layer ReLU path is ReLU(m t + n), so |z_k| ~ 1/k (h = 1).
    model = ToyCNN(2, 8, image_size=32, generator=torch.Generator().manual_seed(0))
    x, y = _batch(16)
    x = torch.nn.functional.interpolate(x.float(), size=32)
    result = walk(model, x, 2, target=y, layers=["stem"], modules="stem", n_points=64,
                  progress=False)
    assert result.fractal("stem").h == pytest.approx(1.0, abs=0.15)


def test_directions_unit_filter_and_gradient():
    model, (x, y) = _toy(), _batch()
    d = random_direction(model, seed=3)
    assert float(torch.sqrt(sum(v.square().sum() for v in d.values()))) == pytest.approx(1.0)
    assert torch.equal(d["unit1.conv.weight"], random_direction(model, seed=3)[
        "unit1.conv.weight"])
    f = random_direction(model, seed=3, norm="filter")
    w = model.unit2.conv.weight
    np.testing.assert_allclose(f["unit2.conv.weight"].flatten(1).norm(dim=1),
                               w.detach().flatten(1).norm(dim=1), rtol=1e-10)
    assert torch.count_nonzero(f["unit2.bn.weight"]) == 0
    restricted = random_direction(model, seed=3, modules=["unit2"])
    assert set(restricted) == {"unit2.conv.weight", "unit2.bn.weight", "unit2.bn.bias"}
    before = _state(model)
    g = gradient_direction(model, x, y)
    _assert_same_state(model, before)
    assert all(p.grad is None for p in model.parameters())
    assert float(torch.sqrt(sum(v.square().sum() for v in g.values()))) == pytest.approx(1.0)
    # Walking down the gradient lowers the loss first.
    down = walk(model, x, {n: -v for n, v in g.items()}, target=y, alpha=0.05, n_points=8,
                progress=False)
    assert down.loss[0, 1] < down.loss[0, 0]


def test_bad_input_is_refused_with_a_clear_message():
    model, (x, y) = _toy(), _batch()
    d = random_direction(model, seed=0)
    cases = [
        ({"directions": {"unit1.conv.weight": torch.zeros(2, 2)}}, "shape"),
        ({"directions": {"nope": torch.zeros(1)}}, "not a parameter"),
        ({"directions": [d | {"head.1.bias": torch.full((10,), float("nan"))}]}, "finite"),
        ({"alpha": 0}, "alpha"),
        ({"n_points": 7}, "n_points"),
        ({"layers": ["unit9"]}, "unknown layer 'unit9'"),
        ({"strategy": "fast"}, "strategy"),
        ({"batchnorm": "frozen"}, "batchnorm"),
        ({"target": None}, "nothing to record"),
        ({"modules": "unit7"}, "unknown module"),
    ]
    for kwargs, message in cases:
        args = {"directions": 1, "target": y, "progress": False} | kwargs
        with pytest.raises(NetspectraError, match=message):
            walk(model, x, **args)

    class Skips(nn.Sequential):
        def forward(self, v):
            return self[1](self[0](v))

    skipping = Skips(nn.Linear(3, 3), nn.Linear(3, 2), nn.ReLU())
    with pytest.raises(NetspectraError, match="produced a tensor"):
        walk(skipping, torch.randn(4, 3), 1, layers=["2"], progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_walk_equals_cpu_walk():
    model, (x, y) = _toy(), _batch()
    cpu = walk(model, x, 2, target=y, layers=["unit2"], n_points=10, progress=False)
    gpu = walk(model.cuda(), x, 2, target=y, layers=["unit2"], n_points=10, progress=False)
    assert gpu.strategy in ("loop", "vmap")  # measured
    np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-8)
    np.testing.assert_allclose(gpu.layer_power, cpu.layer_power, rtol=1e-6, atol=1e-12)


def test_measurements_run_without_tf32_and_restore_the_users_setting():
    # cuDNN rounds float32 convolution inputs to TF32 by default: a noise floor in the
    # high frequencies of a path. Walks and captures switch it off and back.
    from netspectra.probes import capture_outputs
    from netspectra.probes._state import _tf32_switches

    seen = []

    class Spy(nn.Module):
        def forward(self, v):
            seen.append([getattr(space, name) for space, name, _ in _tf32_switches()])
            return v

    model = nn.Sequential(nn.Linear(3, 4), Spy(), nn.Linear(4, 2))
    user = [getattr(space, name) for space, name, _ in _tf32_switches()]
    exact = [value for _, _, value in _tf32_switches()]
    walk_paths(model, torch.randn(4, 3), 1, target=torch.tensor([0, 1, 0, 1]), n_points=8,
               progress=False)
    capture_outputs(model, torch.randn(4, 3), layers=["1"])
    assert seen and all(s == exact for s in seen)
    assert [getattr(space, name) for space, name, _ in _tf32_switches()] == user


class _AddsInPlace(nn.Module):
    """``conv → bn`` then ``+= 1`` on the batch-norm output: an in-place op after the
    recorded layer that is not an activation."""

    def __init__(self, inplace: bool) -> None:
        super().__init__()
        self.conv, self.bn, self.inplace = nn.Conv1d(3, 4, 3), nn.BatchNorm1d(4), inplace

    def forward(self, v):
        h = self.bn(self.conv(v))
        if self.inplace:
            h += 1.0
        else:
            h = h + 1.0
        return h.flatten(1)[:, :2]


def _inplace_twins(kind: str, inplace: bool) -> tuple[nn.Module, torch.Tensor, str]:
    gen = torch.Generator().manual_seed(3)
    if kind == "linear":
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=inplace), nn.Linear(8, 2))
        x, layer = torch.randn(6, 4, generator=gen), "0"
    elif kind == "conv1d":  # contiguous outputs, as every layout is on CUDA
        model = nn.Sequential(nn.Conv1d(3, 4, 3), nn.BatchNorm1d(4), nn.ReLU(inplace=inplace),
                              nn.Flatten(), nn.Linear(4 * 6, 2))
        x, layer = torch.randn(5, 3, 8, generator=gen), "1"
    elif kind == "conv2d":  # the walk runs 4-D inputs in channels-last on CPU
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=inplace),
                              nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
        x, layer = torch.randn(5, 3, 8, 8, generator=gen), "1"
    else:
        model, x, layer = _AddsInPlace(inplace), torch.randn(5, 3, 8, generator=gen), "bn"
    for p in model.parameters():
        nn.init.normal_(p, std=0.5, generator=torch.Generator().manual_seed(p.numel()))
    return model, x, layer


@pytest.mark.parametrize("kind", ["linear", "conv1d", "conv2d", "add"])
@pytest.mark.parametrize("strategy", ["loop", "vmap"])
@pytest.mark.parametrize("max_neurons", [None, 7])
def test_walks_record_what_the_layer_output_whatever_comes_after(kind, strategy, max_neurons):
    # An in-place op after the recorded layer (ReLU(inplace=True), +=) must not rewrite
    # what was recorded: the paths equal those of the same model built without it.
    paths = {}
    for inplace in (True, False):
        model, x, layer = _inplace_twins(kind, inplace)
        paths[inplace] = walk_paths(model, x, 2, target=torch.zeros(len(x), dtype=torch.long),
                                    layers=[layer], n_points=8, max_neurons=max_neurons,
                                    strategy=strategy, progress=False)
    recorded, honest = paths[True].layers[layer], paths[False].layers[layer]
    assert recorded.min() < 0  # the pre-activation values, not their ReLU
    np.testing.assert_array_equal(recorded, honest)
    np.testing.assert_array_equal(paths[True].loss, paths[False].loss)


def test_a_walk_that_raises_leaves_grad_mode_and_hooks_as_found():
    # The engine is a generator holding no_grad and hooks between directions: a walk that
    # raises in between must close it, even while the traceback keeps the walk's frame alive.
    from netspectra.probes import branch_correlation

    model, (x, y) = _toy(), _batch()
    with pytest.raises(NetspectraError, match="non-finite") as caught:
        walk(model, x, 2, target=y, layers=["unit2"], n_points=8, alpha=1e300, progress=False)
    with pytest.raises(NetspectraError, match="non-finite") as caught_pairs:
        branch_correlation(model, x, [("unit1", "unit2")], 2, n_points=8, n_bands=2,
                           alpha=1e300, progress=False)
    assert caught.traceback and caught_pairs.traceback
    assert torch.is_grad_enabled()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
