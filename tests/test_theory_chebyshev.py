"""Chebyshev fits of activations: RR Table 1 (every row) as the oracle, plus bad input."""

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial import Chebyshev

from netspectra import NetspectraError
from netspectra.theory import ChebyshevFit, activation, chebyshev_fit
from netspectra.theory.activations import ACTIVATION_NAMES

DATA = Path(__file__).parent / "data" / "rr_table1.csv"
ROWS = {"lrelu": ("lrelu", 0.01), "lrelu_0.25": ("lrelu", 0.25), "lrelu_0.75": ("lrelu", 0.75)}
# Relu's t^10 is printed as -1.6559778E-02; every procedure gives +1.6559778E-02 (misprint).
MISPRINT = ("relu", 10)


def _table():
    with open(DATA) as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    return {r[0]: np.array(r[1:], dtype=np.float64) for r in rows[1:]}


TABLE = _table()


def test_table_has_all_eleven_rows():
    assert list(TABLE) == ["relu", "tanh", "softplus", "elu", "gelu", "htanh", "lrelu", "selu",
                           "sigmoid", "lrelu_0.25", "lrelu_0.75"]
    assert all(row.size == 26 for row in TABLE.values())


@pytest.mark.parametrize("name", list(TABLE))
def test_reproduces_table1_row(name):
    act, slope = ROWS.get(name, (name, None))
    fit = chebyshev_fit(act, 25, (-5, 5), slope=slope)
    printed = TABLE[name].copy()
    if name == MISPRINT[0]:
        printed[MISPRINT[1]] *= -1
    big = np.abs(printed) > 1e-8
    assert big.sum() >= 8
    # 4 significant digits required; the procedure gives ~1e-7.
    np.testing.assert_allclose(fit.monomial[big], printed[big], rtol=1e-6)


def test_the_misprint_is_a_sign_only():
    fit = chebyshev_fit("relu", 25, (-5, 5))
    k = MISPRINT[1]
    assert fit.monomial[k] == pytest.approx(-TABLE["relu"][k], rel=1e-6)
    # relu's even coefficients alternate in sign, and the leaky rows print + at t^10.
    even = fit.monomial[2:22:2]
    assert np.all(np.sign(even) == (-1) ** np.arange(even.size))
    assert TABLE["lrelu"][k] > 0 and TABLE["lrelu_0.25"][k] > 0


def test_package_copy_of_the_table_is_identical():
    from netspectra.experiments.chebyshev_table import printed_table1

    packaged = printed_table1()
    assert list(packaged) == list(TABLE)
    for name, row in TABLE.items():
        np.testing.assert_array_equal(packaged[name], row)


def test_chebyshev_coefficients_are_on_the_mapped_interval(tmp_path):
    fit = chebyshev_fit("tanh", 9, (-2, 4), n_points=500)
    t = np.linspace(-2, 4, 37)
    u = (2 * t - 2) / 6
    np.testing.assert_allclose(np.polynomial.chebyshev.chebval(u, fit.chebyshev), fit(t))
    np.testing.assert_allclose(np.polynomial.polynomial.polyval(t, fit.monomial), fit(t),
                               atol=1e-10)
    expected = Chebyshev.fit(np.linspace(-2, 4, 500), np.tanh(np.linspace(-2, 4, 500)), 9)
    np.testing.assert_allclose(fit.chebyshev, expected.coef, atol=1e-12)
    back = ChebyshevFit.load(fit.save(tmp_path))
    np.testing.assert_array_equal(back.monomial, fit.monomial)
    assert back.plot(function=np.tanh).axes


def test_polynomial_is_fitted_exactly_and_callables_work():
    fit = chebyshev_fit(lambda t: 1 - 2 * t + 3 * t**3, 3, (-1, 2), n_points=50)
    np.testing.assert_allclose(fit.monomial, [1, -2, 0, 3], atol=1e-12)
    assert fit.name == "callable"
    assert chebyshev_fit("lrelu", 3, slope=0.25).name == "lrelu_0.25"
    assert chebyshev_fit("relu", 0, (-1, 1)).monomial.shape == (1,)


def test_activations_by_name():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(activation("relu")(x), [0, 0, 3])
    np.testing.assert_allclose(activation("lrelu")(x), [-0.02, 0, 3])
    np.testing.assert_allclose(activation("lrelu", slope=0.5)(x), [-1, 0, 3])
    np.testing.assert_allclose(activation("htanh")(x), [-1, 0, 1])
    np.testing.assert_allclose(activation("softplus")(x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(activation("sigmoid")(x), 1 / (1 + np.exp(-x)))
    assert activation("gelu")(np.array([1.0]))[0] == pytest.approx(0.8413447460685429)
    assert activation("selu")(np.array([1.0]))[0] == pytest.approx(1.0507009873554805)
    np.testing.assert_array_equal(activation("linear")(x), x)
    np.testing.assert_array_equal(activation("hardtanh")(x), activation("htanh")(x))
    assert set(ACTIVATION_NAMES) == {"relu", "lrelu", "tanh", "softplus", "elu", "gelu",
                                     "htanh", "hardtanh", "selu", "sigmoid", "linear"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "nope"}, "unknown activation 'nope'; expected one of: relu, tanh"),
        ({"activation": "relu", "degree": -1}, "degree"),
        ({"activation": "relu", "interval": (1, 1)}, "LO < HI"),
        ({"activation": "relu", "interval": (2, -2)}, "LO < HI"),
        ({"activation": "relu", "interval": (0, np.inf)}, "finite"),
        ({"activation": "tanh", "slope": 0.1}, "slope"),
        ({"activation": "relu", "degree": 30, "n_points": 10}, "n_points"),
        ({"activation": lambda t: np.full_like(t, np.nan)}, "finite"),
        ({"activation": 3}, "activation"),
        ({"activation": "relu", "interval": (0, 1, 2)}, "pair"),
        ({"activation": "relu", "interval": (0, 1e-320)}, "width"),
        ({"activation": "relu", "interval": (-1e308, 1e308)}, "width"),
        ({"activation": "relu", "interval": (0, 1e-300)}, "overflow"),
        ({"activation": "relu", "degree": 10**6}, "n_points"),
    ],
)
def test_bad_input(kwargs, match):
    kwargs = {"degree": 5, **kwargs}
    with pytest.raises(NetspectraError, match=match):
        chebyshev_fit(**kwargs)
