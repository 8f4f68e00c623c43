"""Every function of netspectra.theory against invalid input (hypothesis), the public ones and
those its submodules keep for the library: only a one-line NetspectraError naming the argument
escapes, huge sizes are refused up front, and valid input at the extremes of float64 gives
finite results."""

import numpy as np
import pytest
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
    huge_counts,
    not_axes,
    not_bools,
    unknown_names,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import netspectra.theory as nt
from netspectra import NetspectraError
from netspectra.theory.activations import ACTIVATION_NAMES
from netspectra.theory.convergence import convergence_order, max_abs_error
from netspectra.theory.dc import multitone_dc_series
from netspectra.theory.harmonic_distortion import polynomial_spectrum_in_time
from netspectra.theory.roughness import fractal_coefficients, mean_path_spectrum
from netspectra.theory.series import series_scale

X = np.cos(np.linspace(0.0, 12.0, 64))
PATHS = np.cumsum(np.random.default_rng(0).normal(size=(3, 32)), axis=1)
POWER = 1.0 / np.arange(1, 17) ** 2
FIT = nt.chebyshev_fit("tanh", 5)
COMPONENTS = nt.predicted_components([1.0], [5.0], n_terms=4)
CONVERGENCE = nt.series_convergence(X, [2, 4, 8])
BLUESHIFT = nt.blueshift("relu", [0.0, 0.5, 0.3], band=2, steps=1, k_max=8)
ROUGHNESS = nt.fractal_coefficient(POWER)


# One strategy of invalid calls per public function or method; a call is refused when it
# raises a NetspectraError naming the argument.
CASES = {
    "activation": st.one_of(
        calls(nt.activation, "name", unknown_names(ACTIVATION_NAMES), names="activation"),
        calls(nt.activation, "slope", bad_numbers(), name="lrelu"),
        calls(nt.activation, "slope", st.floats(-1, 1), name="relu"),
    ),
    "chebyshev_fit": st.one_of(
        calls(nt.chebyshev_fit, "activation", unknown_names(ACTIVATION_NAMES)),
        calls(nt.chebyshev_fit, "degree", bad_counts(0), names=("degree", "n_points"),
              activation="relu"),
        calls(nt.chebyshev_fit, "interval", bad_intervals(), activation="relu"),
        calls(nt.chebyshev_fit, "n_points", bad_counts(26), activation="relu"),
        calls(nt.chebyshev_fit, "slope", bad_numbers(), activation="lrelu"),
        calls(nt.chebyshev_fit, "activation", st.just(lambda t: np.full_like(t, np.nan)),
              names="activation"),
    ),
    "ChebyshevFit.__call__": st.one_of(
        calls(FIT, "t", bad_arrays()),
        calls(FIT, "t", st.floats(1e70, 1e300).map(lambda v: np.array([v]))),
    ),
    "ChebyshevFit.plot": st.one_of(
        calls(FIT.plot, "ax", not_axes()),
        calls(FIT.plot, "function", st.sampled_from([3, "tanh", np.ones(3)])),
    ),
    "predicted_components": st.one_of(
        calls(nt.predicted_components, "amplitudes", bad_arrays(1), frequencies=[5.0]),
        calls(nt.predicted_components, "frequencies", bad_arrays(1), amplitudes=[1.0]),
        calls(nt.predicted_components, "frequencies", st.just([-5.0]), amplitudes=[1.0]),
        calls(nt.predicted_components, "frequencies", st.just([1e307]), amplitudes=[1.0]),
        calls(nt.predicted_components, "amplitudes", st.just([1e308, 1e308]),
              frequencies=[1.0, 2.0]),
        calls(nt.predicted_components, "phases", bad_arrays(1, none=False), amplitudes=[1.0],
              frequencies=[5.0]),
        calls(nt.predicted_components, "n_terms", bad_counts(1), amplitudes=[1.0],
              frequencies=[5.0]),
        calls(nt.predicted_components, "scale", st.one_of(bad_positive_numbers().filter(
              lambda v: v is not None), st.just(0.1)), amplitudes=[1.0], frequencies=[5.0]),
        calls(nt.predicted_components, "fs", bad_positive_numbers().filter(
              lambda v: v is not None), amplitudes=[1.0], frequencies=[5.0]),
        calls(nt.predicted_components, "max_components", bad_counts(1), amplitudes=[1.0],
              frequencies=[5.0], names=("max_components", "n_terms")),
        calls(nt.predicted_components, "alias_tolerance", bad_numbers(), amplitudes=[1.0],
              frequencies=[5.0]),
    ),
    "tone_signal": st.one_of(
        calls(nt.tone_signal, "amplitudes", bad_arrays(1), frequencies=[5.0], t=X),
        calls(nt.tone_signal, "t", bad_arrays(), amplitudes=[1.0], frequencies=[5.0]),
        calls(nt.tone_signal, "t", st.just([1e10]), amplitudes=[1.0], frequencies=[1e300]),
        calls(nt.tone_signal, "t", st.just(np.broadcast_to(0.0, (2**28,))),
              amplitudes=np.ones(64), frequencies=np.ones(64)),
    ),
    "ToneComponents.measured": st.one_of(
        calls(COMPONENTS.measured, "signal", st.one_of(bad_arrays(1), st.just([1.0])), fs=64.0),
        calls(COMPONENTS.measured, "fs", bad_positive_numbers(), signal=X),
    ),
    "ToneComponents.plot": calls(COMPONENTS.plot, "ax", not_axes()),
    "rrmse_percent": st.one_of(
        calls(nt.rrmse_percent, "approx", bad_arrays(), exact=X),
        calls(nt.rrmse_percent, "exact", bad_arrays(), approx=X),
        calls(nt.rrmse_percent, "exact", st.just(X[:5]), approx=X),
        calls(nt.rrmse_percent, "exact", st.just(np.zeros(64)), approx=X),
    ),
    "max_abs_error": st.one_of(
        calls(max_abs_error, "approx", bad_arrays(), exact=X),
        calls(max_abs_error, "exact", st.just(X[:5]), approx=X),
    ),
    "convergence_order": st.one_of(
        calls(convergence_order, "n_terms", bad_arrays(1), errors=[1.0, 0.5]),
        calls(convergence_order, "n_terms", st.sampled_from([[0, 4], [-1, 4], [4, 4]]),
              errors=[1.0, 0.5]),
        calls(convergence_order, "errors", bad_arrays(1), n_terms=[1, 2]),
    ),
    "series_convergence": st.one_of(
        calls(nt.series_convergence, "x", bad_arrays(), n_terms=[1, 2]),
        calls(nt.series_convergence, "n_terms", st.one_of(
            bad_counts(1).map(lambda n: [2, n]), st.sampled_from([[], 5, "12"])), x=X),
        calls(nt.series_convergence, "fit_min", bad_counts(1), x=X, n_terms=[1, 2]),
        calls(nt.series_convergence, "scale", st.just(0.1), x=X, n_terms=[1, 2]),
    ),
    "SeriesConvergence.plot": calls(CONVERGENCE.plot, "ax", not_axes()),
    "rectified_tone_dc": calls(nt.rectified_tone_dc, "amplitude", bad_arrays()),
    "frequency_response": st.one_of(
        calls(nt.frequency_response, "taps", bad_arrays(1), frequencies=[1.0], fs=8.0),
        calls(nt.frequency_response, "frequencies", bad_arrays(), taps=[1.0], fs=8.0),
        calls(nt.frequency_response, "fs", bad_positive_numbers(), taps=[1.0], frequencies=[1.0]),
        calls(nt.frequency_response, "frequencies", st.just([1e308]), taps=[1.0, 1.0],
              fs=1e-300),
    ),
    "filtered_tone_dc": st.one_of(
        calls(nt.filtered_tone_dc, "amplitude", bad_arrays(), frequency=1.0, taps=[1.0],
              fs=8.0),
        calls(nt.filtered_tone_dc, "frequency", st.just([1.0, 2.0, 3.0]),
              amplitude=[1.0, 2.0], taps=[1.0], fs=8.0),
    ),
    "multitone_dc_series": st.one_of(
        calls(multitone_dc_series, "amplitudes", bad_arrays(1), frequencies=[5.0]),
        calls(multitone_dc_series, "n_terms", bad_counts(1), amplitudes=[1.0],
              frequencies=[5.0]),
    ),
    "multitone_dc_mean": st.one_of(
        calls(nt.multitone_dc_mean, "amplitudes", bad_arrays(1), frequencies=[5.0]),
        calls(nt.multitone_dc_mean, "samples", bad_counts(2), amplitudes=[1.0],
              frequencies=[5.0]),
        calls(nt.multitone_dc_mean, "max_denominator", bad_counts(1).filter(
              lambda v: not isinstance(v, int) or v < 1), amplitudes=[1.0, 1.0],
              frequencies=[3.0, 5.0]),
        calls(nt.multitone_dc_mean, "samples", huge_counts(), amplitudes=[1.0, 1.0],
              frequencies=[3.0, 5.0], max_denominator=2**40),
        calls(nt.multitone_dc_mean, "frequencies", st.just([1.0, np.pi]), amplitudes=[1, 1]),
    ),
    "polynomial_spectrum": st.one_of(
        calls(nt.polynomial_spectrum, "z", st.one_of(bad_arrays(1).filter(
            lambda z: not isinstance(z, np.ndarray) or z.dtype.kind != "c"),
            st.just(np.ones(4))), coefficients=[0.0, 1.0]),
        calls(nt.polynomial_spectrum, "coefficients", bad_arrays(1), z=np.ones(3)),
        calls(nt.polynomial_spectrum, "coefficients", st.just([0.0, 1e308, 1e308]),
              z=np.full(3, 1e200)),
        calls(nt.polynomial_spectrum, "coefficients", st.just(np.broadcast_to(1.0, (2**26,))),
              z=np.ones(2**10 + 1)),
    ),
    "polynomial_spectrum_in_time": st.one_of(
        calls(polynomial_spectrum_in_time, "z", st.just(np.ones(4)), coefficients=[0, 1]),
        calls(polynomial_spectrum_in_time, "coefficients", bad_arrays(1), z=np.ones(3)),
    ),
    "blueshift": st.one_of(
        calls(nt.blueshift, "name", st.sampled_from([None, 3, b"x"]), coefficients=[0, 1]),
        calls(nt.blueshift, "coefficients", bad_arrays(1), name="f", steps=0),
        calls(nt.blueshift, "coefficients", st.just([1.0, 0.0]), name="constant"),
        calls(nt.blueshift, "band", bad_counts(1), name="f", coefficients=[0, 1],
              names=("band", "k_max")),
        calls(nt.blueshift, "steps", bad_counts(0), name="f", coefficients=[0, 1]),
        calls(nt.blueshift, "k_max", bad_counts(8), name="f", coefficients=[0, 1]),
        calls(nt.blueshift, "seed", bad_seeds(), name="f", coefficients=[0, 1], steps=0),
    ),
    "BlueshiftResult.plot": calls(BLUESHIFT.plot, "ax", not_axes()),
    "path_power_spectrum": st.one_of(
        calls(nt.path_power_spectrum, "paths", st.one_of(bad_arrays(), st.just(np.ones(7)))),
        calls(nt.path_power_spectrum, "axis", st.sampled_from([2, -3, 1.0, "0", True, None]),
              paths=PATHS),
        calls(nt.path_power_spectrum, "derivative", not_bools(), paths=PATHS),
        calls(nt.path_power_spectrum, "detrend", not_bools(), paths=PATHS),
        calls(nt.path_power_spectrum, "normalize", not_bools(), paths=PATHS),
        calls(nt.path_power_spectrum, "paths", st.just(PATHS * 1e300), normalize=False),
    ),
    "mean_path_spectrum": st.one_of(
        calls(mean_path_spectrum, "paths", st.one_of(bad_arrays(), st.just(np.ones((3, 16))))),
        calls(mean_path_spectrum, "axis", st.sampled_from([5, "x"]), paths=PATHS),
    ),
    "fractal_coefficient": st.one_of(
        calls(nt.fractal_coefficient, "power", st.one_of(
            bad_arrays(1), st.just(-POWER), st.just(np.zeros(16)), st.just(POWER[:4]))),
        calls(nt.fractal_coefficient, "k", st.one_of(
            bad_arrays(1, none=False), st.just(np.arange(16)), st.just(np.arange(1, 17)[::-1])),
              power=POWER),
        calls(nt.fractal_coefficient, "band", st.sampled_from(
            [(0, 5), (5, 2), (1, 99), (1.0, 4.0), "ab", (1, 2, 3), (True, 5)]), power=POWER),
        calls(nt.fractal_coefficient, "min_r2", st.one_of(bad_numbers(), st.just(1.5)),
              power=POWER),
    ),
    "fractal_coefficients": calls(fractal_coefficients, "power", bad_arrays(2)),
    "RoughnessFit.plot": calls(ROUGHNESS.plot, "ax", not_axes()),
    "relu_series": st.one_of(
        calls(nt.relu_series, "x", bad_arrays()),
        calls(nt.relu_series, "n_terms", bad_counts(1), x=X),
        calls(nt.relu_series, "scale", st.one_of(bad_positive_numbers().filter(
            lambda v: v is not None), st.floats(1e-6, 0.49)), x=X),
    ),
    "relu_series_coefficients": calls(nt.relu_series_coefficients, "n_terms", bad_counts(1)),
    "series_scale": st.one_of(
        calls(series_scale, "x", st.one_of(bad_arrays(), st.just(np.array([1e200])))),
        calls(series_scale, "scale", bad_positive_numbers().filter(lambda v: v is not None),
              x=X),
    ),
    "amplitude_spectrum": st.one_of(
        calls(nt.amplitude_spectrum, "x", bad_arrays()),
        calls(nt.amplitude_spectrum, "fs", bad_positive_numbers(), x=X),
        calls(nt.amplitude_spectrum, "axis", st.sampled_from([1, -2, 0.0, "x", None]), x=X),
    ),
    "bandwidth": st.one_of(
        calls(nt.bandwidth, "f", bad_arrays(1), power=POWER),
        calls(nt.bandwidth, "power", st.one_of(bad_arrays(), st.just(POWER[:3]),
                                               st.just(-POWER)), f=np.arange(16.0)),
        calls(nt.bandwidth, "fraction", st.one_of(bad_numbers(), st.sampled_from([0.0, 1.5])),
              f=np.arange(16.0), power=POWER),
    ),
    "power_centroid": calls(nt.power_centroid, "power", st.one_of(bad_arrays(), st.just(-POWER)),
                            f=np.arange(16.0)),
    "dc_share": calls(nt.dc_share, "power", st.one_of(bad_arrays(), st.just(-POWER),
                                                      st.just(np.array(2.0)))),
}


@pytest.mark.parametrize("name", sorted(CASES))
@FUZZ
@given(data=st.data())
def test_invalid_input_is_refused_with_a_clear_error(name, data):
    data.draw(CASES[name], label=name).check()


def test_every_theory_function_is_fuzzed():
    # The public functions and those kept in the submodules for the library (series_scale,
    # fractal_coefficients, ...): hidden from the namespace, still called, still fuzzed.
    functions = {n for n in exported_callables(nt) if n[0].islower()}
    assert {n for n in nt.__all__ if n[0].islower() and callable(getattr(nt, n))} < functions
    covered = {name.split(".")[0] for name in CASES}
    # band_correlation's functions are fuzzed with the probes that use them; the exact
    # power-of-two rescaling helpers only ever see validated arrays.
    assert functions - covered <= {"band_centres", "band_correlation", "band_gains",
                                   "per_row_unit", "power_of_two_below"}


def test_interval_too_narrow_for_float64_is_refused():
    # The command line printed NaN and exited 0 for this interval.
    check_rejected(nt.chebyshev_fit, "relu", 25, (0.0, 1e-320), names="interval")


# Valid input at the extremes of float64: a result, and a finite one, or a clear refusal.

magnitudes = st.integers(-290, 300).map(lambda e: 10.0**e)
signals = hnp.arrays(np.float64, st.integers(8, 40), elements=st.floats(-1, 1)).filter(
    lambda x: np.any(x != 0))


@FUZZ
@given(x=signals, c=magnitudes, n=st.integers(1, 60))
def test_series_and_spectra_stay_finite_at_any_scale(x, c, n):
    check_clean(nt.relu_series, c * x, n, names="x")
    check_clean(nt.series_convergence, c * x, [1, n + 1], names="x")
    check_clean(nt.amplitude_spectrum, c * x, 8.0, names="x")
    check_clean(max_abs_error, c * x, -c * x, names=("approx", "exact"))
    check_clean(nt.rrmse_percent, c * x, c * x[::-1], names="exact")
    check_clean(nt.multitone_dc_mean, c * x[:3], [1.0, 2.0, 3.0], names="amplitudes")
    check_clean(nt.predicted_components, c * x[:3], [1.0, 2.0, 3.0], n_terms=min(n, 5),
                names="amplitudes")


@FUZZ
@given(paths=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(8, 24)),
                        elements=st.floats(-1, 1)),
       c=magnitudes, detrend=st.booleans(), derivative=st.booleans())
def test_path_spectra_stay_finite_at_any_scale(paths, c, detrend, derivative):
    out = check_clean(nt.path_power_spectrum, c * paths, detrend=detrend,
                      derivative=derivative, names="paths")
    _, power, valid = out
    np.testing.assert_allclose(power[valid].sum(axis=-1), 1.0)


@FUZZ
@given(power=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 12)),
                        elements=st.one_of(st.just(0.0), st.floats(1e-8, 1))),
       c=st.lists(magnitudes, min_size=3, max_size=3).map(lambda v: np.array(v)[:, None]))
def test_power_statistics_are_nan_only_without_power(power, c):
    # Each row at its own magnitude, from 1e-300 to 1e300 (its entries stay normal floats).
    c = c[: power.shape[0]]
    f = np.arange(power.shape[-1], dtype=np.float64)
    dead = power.sum(axis=-1) == 0
    for stat in (nt.power_centroid, nt.bandwidth, lambda _, p: nt.dc_share(p)):
        scaled, unit = stat(f, c * power), stat(f, power)
        assert np.array_equal(np.isnan(scaled), dead)
        np.testing.assert_allclose(scaled[~dead], unit[~dead], rtol=1e-12)  # scale-free


@FUZZ
@given(lo=st.floats(-1e6, 1e6), width=st.floats(1e-9, 1e6), degree=st.integers(0, 30),
       name=st.sampled_from(ACTIVATION_NAMES))
def test_chebyshev_fits_are_finite_or_refused(lo, width, degree, name):
    fit = check_clean(nt.chebyshev_fit, name, degree, (lo, lo + width), names="interval")
    if fit is not None:
        check_clean(fit, np.linspace(lo, lo + width, 5), names="t")


RESULTS = [FIT, COMPONENTS, CONVERGENCE, BLUESHIFT, ROUGHNESS]


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: type(r).__name__)
def test_results_save_and_load_or_refuse_an_unusable_folder(result, tmp_path):
    import dataclasses

    loaded = type(result).load(result.save(tmp_path / "out"))
    for field in dataclasses.fields(result):
        np.testing.assert_array_equal(getattr(loaded, field.name), getattr(result, field.name))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((OSError, NetspectraError)):  # a file where the folder should be
        result.save(blocker)
