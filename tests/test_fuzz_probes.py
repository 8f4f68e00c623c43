"""Invalid input thrown at every public function of ``netspectra.probes`` and at the result
methods: only a NetspectraError naming the argument escapes (a TypeError for a wrong Python
type), huge requests are refused up front, and nothing returns NaN."""

from functools import partial

import numpy as np
import pytest
import torch
from _invalid import (
    FUZZ,
    bad_counts,
    bad_intervals,
    bad_positive_numbers,
    bad_seeds,
    check_clean,
    check_rejected,
    complex_arrays,
    empty_arrays,
    huge_counts,
    nonfinite_arrays,
    unknown_names,
    wrong_types,
)
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from netspectra.probes import (
    activation_spectra,
    branch_correlation,
    capture_outputs,
    gradient_direction,
    random_direction,
    walk,
    walk_paths,
)
from netspectra.probes.capture import functional_activation_users
from netspectra.theory import band_centres, band_correlation
from netspectra.theory.band_correlation import band_gains

pytestmark = pytest.mark.usefixtures("one_thread")


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Conv1d(3, 3, 1), nn.Flatten(),
                         nn.Linear(3 * 6, 2))


X = torch.randn(4, 2, 8, generator=torch.Generator().manual_seed(1))
Y = torch.tensor([0, 1, 0, 1])
WALK = {"target": Y, "n_points": 8, "progress": False}
PAIRS = [("1", "2")]  # a ReLU output and the next convolution's: both nonlinear in t


def _walkers():
    """``(function, keyword arguments)`` of every walking function, for the shared checks."""
    return [(walk, dict(WALK)), (walk_paths, dict(WALK)),
            (branch_correlation, {"pairs": PAIRS, "n_points": 8, "n_bands": 2,
                                  "progress": False})]


def _call(fn, model, x, **kwargs):
    if fn is branch_correlation:
        pairs = kwargs.pop("pairs")
        kwargs.pop("target", None)
        return fn(model, x, pairs, **kwargs)
    return fn(model, x, **kwargs)


@FUZZ
@given(wrong_types())
def test_model_must_be_a_module(model):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, model, X, names="model", wrong_type=True, **kwargs)
    for fn, args in ((activation_spectra, (X, 1.0)), (capture_outputs, (X,)),
                     (gradient_direction, (X, Y))):
        check_rejected(fn, model, *args, names="model", wrong_type=True)
    check_rejected(random_direction, model, seed=0, names="model", wrong_type=True)
    check_rejected(functional_activation_users, model, names="model", wrong_type=True)


_BAD_X = st.one_of(
    wrong_types(),
    st.just(X.numpy()),
    nonfinite_arrays(3, 3, min_side=2).map(torch.from_numpy),
    empty_arrays(3).map(lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))),
    st.sampled_from([torch.randn(4, 5, 8), torch.randn(4, 2, 2), torch.randn(4, 2, 9),
                     torch.randn(2, 8), torch.randn(4, 2, 8, 1), torch.ones(4, 2, 8).long(),
                     torch.randn(4, 2, 8, dtype=torch.complex64)]),
)


@FUZZ
@given(_BAD_X)
def test_x_that_does_not_fit_is_refused_naming_x(x):
    wrong = not isinstance(x, (torch.Tensor, np.ndarray))
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), x, names="x", wrong_type=wrong, **kwargs)
    check_rejected(capture_outputs, _model(), x, layers=["1"], names="x", wrong_type=wrong)
    check_rejected(gradient_direction, _model(), x, Y, names="x", wrong_type=wrong)
    check_rejected(activation_spectra, _model(), x, 1.0, names="x", wrong_type=wrong)


@FUZZ
@given(st.one_of(wrong_types(), st.sampled_from([torch.tensor([0, 1]), torch.zeros(4, 3),
                                                 torch.tensor([0, 1, 0, 7]), Y.numpy(),
                                                 torch.full((4, 2), float("nan"))])))
def test_target_that_does_not_fit_is_refused(target):
    wrong = not isinstance(target, (torch.Tensor, np.ndarray))
    for fn in (walk, walk_paths):
        check_rejected(fn, _model(), X, target=target, n_points=8, progress=False,
                       names="target", wrong_type=wrong)
    if target is not None:
        check_rejected(gradient_direction, _model(), X, target, names="target",
                       wrong_type=wrong)


@FUZZ
@given(bad_counts(8))
def test_bad_n_points(n_points):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), X, names="n_points",
                       wrong_type=isinstance(n_points, str), **kwargs | {"n_points": n_points})


@FUZZ
@given(bad_counts(1))
def test_bad_directions(directions):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), X, directions=directions,
                       names=["directions", "n_points"], wrong_type=True, **kwargs)


@FUZZ
@given(st.sampled_from(["max_neurons", "memory_budget", "chunk_points"]),
       st.one_of(st.integers(-(2**64), 0), st.sampled_from([1.5, np.nan, True, "3"])))
def test_bad_sizes(name, value):
    # Bound through partial: check_rejected has a memory_budget keyword of its own.
    for fn, kwargs in _walkers():
        check_rejected(partial(_call, fn, **kwargs | {name: value}), _model(), X, names=name)


@FUZZ
@given(st.sampled_from(["max_neurons", "memory_budget", "chunk_points"]), huge_counts())
def test_huge_sizes_are_caps_not_allocations(name, value):
    # Each only bounds what is recorded or batched, which the model's outputs bound.
    for fn, kwargs in _walkers():
        check_clean(partial(_call, fn, **kwargs | {name: value, "strategy": "vmap"}),
                    _model(), X, names=name)


@FUZZ
@given(bad_positive_numbers())
def test_bad_alpha(alpha):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), X, alpha=alpha, names="alpha", **kwargs)


@FUZZ
@given(st.floats(1e30, 1e300))
def test_huge_alpha_never_returns_nan(alpha):
    for fn, kwargs in _walkers():
        check_clean(_call, fn, _model(), X, alpha=alpha, names="alpha", **kwargs)


@FUZZ
@given(st.one_of(bad_seeds(), st.integers(2**64, 2**70)))
def test_bad_seeds(seed):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), X, seed=seed, names="seed", **kwargs)
    check_rejected(random_direction, _model(), seed=seed, names="seed")


@FUZZ
@given(st.sampled_from(["layers", "strategy", "batchnorm", "norm", "modules"]), st.data())
def test_unknown_names(argument, data):
    known = {"layers": ["0", "1", "2", "3", "4", ""],
             "strategy": ["auto", "loop", "vmap", "measure"],
             "batchnorm": ["batch", "running"], "norm": ["unit", "filter"],
             "modules": ["0", "2", "4", ""]}[argument]
    name = data.draw(unknown_names(known))
    expected = {"layers": "layer", "modules": "module"}.get(argument, argument)
    for fn, kwargs in (_walkers()[:2] if argument == "layers" else _walkers()):
        check_rejected(_call, fn, _model(), X, names=expected, **kwargs | {argument: name})
    if argument in ("norm", "modules"):
        check_rejected(random_direction, _model(), seed=0, names=expected,
                       **{argument: name})


@FUZZ
@given(st.one_of(wrong_types().filter(lambda v: v is not None), st.integers(),
                 st.lists(st.integers(), min_size=1, max_size=2)))
def test_layer_lists_of_the_wrong_type(layers):
    check_rejected(walk, _model(), X, layers=layers, names=["layer", "target", "record"],
                   wrong_type=True, **WALK)


@FUZZ
@given(st.one_of(wrong_types(), st.just({"0.weight": torch.full((3, 2, 3), float("nan"))}),
                 st.just({"0.weight": torch.zeros(2, 2)}), st.just([]), st.just("0.weight")))
def test_bad_direction_dicts(directions):
    for fn, kwargs in _walkers():
        check_rejected(_call, fn, _model(), X, directions=directions, names="direction",
                       wrong_type=True, **kwargs)


@FUZZ
@given(st.one_of(wrong_types(), st.just([]), st.just([("0",)]), st.just([("0", "0")]),
                 st.just([("0", "nope")]), st.just([("0", "4")]), st.just("0")))
def test_bad_pairs(pairs):
    check_rejected(branch_correlation, _model(), X, pairs, n_points=8, n_bands=2,
                   progress=False, names=["pairs", "layer", "shape"], wrong_type=True)


@FUZZ
@given(st.one_of(bad_counts(1), st.integers(5, 2**70)))
def test_bad_n_bands(n_bands):
    check_rejected(branch_correlation, _model(), X, PAIRS, n_points=8, n_bands=n_bands,
                   progress=False, names="n_bands")


@FUZZ
@given(bad_positive_numbers(), st.sampled_from(["yes", 1, None]), unknown_names(["eval",
                                                                                 "train"]))
def test_activation_spectra_arguments(fs, per_channel, mode):
    check_rejected(activation_spectra, _model(), X, fs, names="fs")
    check_rejected(activation_spectra, _model(), X, 1.0, per_channel=per_channel,
                   names="per_channel")
    check_rejected(activation_spectra, _model(), X, 1.0, mode=mode, names="mode")


_RESULTS = {}


def _results():
    if not _RESULTS:
        model = _model()
        _RESULTS["walk"] = walk(model, X, 2, layers=["1"], **WALK)
        _RESULTS["branch"] = branch_correlation(model, X, PAIRS, 1, n_points=8, n_bands=2,
                                                progress=False)
        _RESULTS["spectra"] = activation_spectra(model, X, 1.0)
    return _RESULTS


@FUZZ
@given(unknown_names(["loss", "1"]), bad_intervals(), st.one_of(wrong_types(),
                                                                st.integers(2, 2**70),
                                                                st.integers(-(2**70), -3)))
def test_result_methods(name, band, index):
    w = _results()["walk"]
    check_rejected(w.spectrum, name, names="layer")
    check_rejected(w.fractal, "loss", band=band, names="band", wrong_type=True)
    check_rejected(w.direction, index, names="i", wrong_type=True)
    check_rejected(_results()["spectra"].__getitem__, name, names="layer")
    for result in (w, _results()["branch"], _results()["spectra"]):
        check_rejected(result.plot, ax="axes", names="ax")


# ------------------------------------------------- the theory behind branch_correlation

PATHS = np.random.default_rng(0).standard_normal((3, 16)).cumsum(axis=1)


def _small(value) -> bool:
    return not (isinstance(value, int) and not isinstance(value, bool) and value >= 2**31)


@FUZZ
@given(bad_counts(8).filter(_small), st.one_of(bad_counts(1), st.integers(9, 2**70)))
def test_band_layout_sizes(n_points, n_bands):
    # Huge n_points are valid for band_centres (a few numbers) and refused by band_gains
    # (test_band_gains_refuse_huge_paths_up_front).
    for fn in (band_centres, band_gains):
        check_rejected(fn, n_points, 4, names="n_points", wrong_type=isinstance(n_points, str))
        check_rejected(fn, 16, n_bands, names="n_bands", wrong_type=isinstance(n_bands, str))


@FUZZ
@given(huge_counts())
def test_band_gains_refuse_huge_paths_up_front(n_points):
    check_clean(band_centres, n_points, 4, names="n_points")
    check_rejected(band_gains, n_points, 4, names="n_points")


_BAD_PATHS = st.one_of(wrong_types(), nonfinite_arrays(1, 3, min_side=8, max_side=16),
                       complex_arrays(2, 2), empty_arrays(3),
                       st.sampled_from([np.ones((3, 7)), np.ones((2, 16)), np.ones(16)]))


@FUZZ
@given(_BAD_PATHS, st.booleans())
def test_band_correlation_refuses_bad_paths(paths, first):
    args = (paths, PATHS) if first else (PATHS, paths)
    check_rejected(band_correlation, *args, names=["a", "b"], wrong_type=True)


@FUZZ
@given(st.one_of(wrong_types(), st.integers(2, 2**70), st.integers(-(2**70), -3),
                 st.sampled_from([1.5, True])), st.one_of(bad_counts(1), st.integers(9, 99)))
def test_band_correlation_refuses_bad_axis_and_bands(axis, n_bands):
    check_rejected(band_correlation, PATHS, PATHS, axis=axis, names="axis", wrong_type=True)
    check_rejected(band_correlation, PATHS, PATHS, n_bands=n_bands, names="n_bands",
                   wrong_type=isinstance(n_bands, str))


@FUZZ
@given(st.floats(-1e300, 1e300), st.floats(1e-300, 1e300))
def test_band_correlation_of_extreme_but_finite_paths_is_finite(offset, scale):
    result = check_clean(band_correlation, offset + scale * PATHS, PATHS, names=["a", "b"])
    if result is not None:
        assert np.all(np.abs(result[0]) <= 1)
