"""chebyshev-table (RR Table 1, Figs. 2, 18, 19): the comparison with the printed table."""

import csv

import numpy as np
import pytest

NAMES = ["relu", "tanh", "softplus", "elu", "gelu", "htanh", "lrelu", "selu", "sigmoid",
         "lrelu_0.25", "lrelu_0.75"]


@pytest.fixture(scope="module")
def result(quick_run):
    return quick_run("chebyshev-table")


def test_coefficients_and_comparison(result):
    res, directory = result
    assert list(res["coefficients"]) == NAMES
    assert all(len(v) == 26 for v in res["coefficients"].values())
    assert res["coefficients"]["lrelu_0.25"][1] == pytest.approx(0.625)
    assert res["entries_compared"] == 132
    assert res["worst_relative_error"] < 1e-6
    [misprint] = res["probable_misprints"]
    assert (misprint["name"], misprint["power"]) == ("relu", 10)
    assert misprint["same_digits_opposite_sign"]
    assert all(v > 0 for v in misprint["other_procedures"].values())
    with open(directory / "table1.csv") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == NAMES and len(rows[0]) == 27


def test_decay_order_of_fig2(result):
    res, directory = result
    for tails in res["chebyshev_tail"].values():
        assert tails["softplus"] < tails["tanh"] < tails["relu"]
    wide = res["chebyshev_tail"]["[-5, 5]"]
    assert wide["relu"] == pytest.approx(7.4e-3, rel=0.05)
    assert wide["tanh"] == pytest.approx(4.1e-4, rel=0.05)
    assert wide["softplus"] < 1e-6
    for name in ("fig2_chebyshev_decay.png", "fig18_fits.png", "fig19_monomial_decay.png"):
        assert (directory / name).stat().st_size > 0
    assert np.isfinite(res["worst_relative_error"])
