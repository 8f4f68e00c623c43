"""chebyshev-table (RR Table 1, Figs. 2, 18, 19): the comparison with the printed table."""

import csv

import numpy as np
import pytest
from _claim_checks import saved_claims, verdict

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
    # The misprint makes "the fits give the printed table" fail, and the evidence names it.
    claims = saved_claims(directory)
    [table_claim] = [c for c in claims if c["claim"].startswith("Table 1")]
    assert not table_claim["holds"] and "relu t^10" in table_claim["evidence"]
    rows = {row["quantity"]: row for row in res["paper_values"]}
    assert len(rows) == 2 * len(NAMES) + 1  # lowest and highest power per row, the misprint
    assert rows["Table 1: relu t^10"]["paper"] == pytest.approx(-rows["Table 1: relu t^10"]["ours"])
    assert rows["Table 1: tanh t^1"]["ours"] == pytest.approx(rows["Table 1: tanh t^1"]["paper"],
                                                              rel=1e-6)
    with open(directory / "table1.csv") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == NAMES and len(rows[0]) == 27


def test_decay_order_of_fig2(result):
    res, directory = result
    for tails in res["chebyshev_tail"].values():
        assert tails["softplus"] < tails["tanh"] < tails["relu"]
    assert verdict(saved_claims(directory), "decay slowest")
    wide = res["chebyshev_tail"]["[-5, 5]"]
    assert wide["relu"] == pytest.approx(7.4e-3, rel=0.05)
    assert wide["tanh"] == pytest.approx(4.1e-4, rel=0.05)
    assert wide["softplus"] < 1e-6
    for name in ("fig2_chebyshev_decay.png", "fig18_fits.png", "fig19_monomial_decay.png"):
        assert (directory / name).stat().st_size > 0
    assert np.isfinite(res["worst_relative_error"])


def _table():
    from netspectra.experiments.chebyshev_table import ChebyshevTable

    rng = np.random.default_rng(0)
    mono = rng.normal(size=(len(NAMES), 26))
    return ChebyshevTable(NAMES, mono, mono, mono)


def test_plot_draws_on_the_given_axes():
    import matplotlib.pyplot as plt

    table = _table()
    fig, axes = plt.subplots(2, 2)
    assert table.plot(axes) is fig
    assert [len(a.lines) for a in axes.flat] == [3, 4, 4, 4]  # Fig. 19's panels
    one_fig, one = plt.subplots()
    assert table.plot(one) is one_fig and len(one.lines) == len(NAMES)
    assert len(table.plot().axes) == 4
    plt.close("all")


@pytest.mark.parametrize("ax", ["axes", 3, [None] * 4])
def test_plot_refuses_what_is_not_axes(ax):
    from netspectra import NetspectraError

    with pytest.raises(NetspectraError, match="ax must be"):
        _table().plot(ax)
