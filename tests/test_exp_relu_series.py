"""relu-series (DC Fig. 1, Table I, error vs N) at quick settings: headline numbers."""

import json

import numpy as np
import pytest
from _claim_checks import saved_claims, verdict


@pytest.fixture(scope="module")
def result(quick_run):
    return quick_run("relu-series")


def test_headline_numbers(result):
    res, directory = result
    saved = json.loads((directory / "result.json").read_text())
    assert saved["coefficients"] == res["coefficients"]
    # Table I of the first version (printed to at most 3 significant digits).
    np.testing.assert_allclose(res["coefficients"],
                               [1, 0.5, -0.125, 0.0625, -0.039, 0.027, -0.02, 0.016], atol=5.1e-4)
    rr = res["rrmse_percent"]
    assert set(rr) == {"8", "50", "100", "200"}
    assert rr["8"] > rr["50"] > rr["100"] > rr["200"]
    assert rr["50"] == pytest.approx(1.71, abs=0.01) and rr["200"] == pytest.approx(0.595, abs=0.01)
    # Algebraic, not exponential, convergence.
    assert 0.6 < res["convergence_order"] < 1.0
    claims = saved_claims(directory)
    assert verdict(claims, "Table I") and verdict(claims, "better as terms are added")
    assert not verdict(claims, "exponentially")
    assert [row["paper"] for row in res["paper_values"]] == res["table_i_printed"]


def test_dc_and_components(result):
    res, directory = result
    dc = res["dc"]
    assert dc["exact_mean"] == pytest.approx(dc["sampled_relu_mean"], rel=1e-5)
    assert dc["series_n50"] == pytest.approx(dc["exact_mean"], rel=0.02)
    assert verdict(saved_claims(directory), "DC component")
    assert res["components_vs_fft_of_series_max_abs"] < 1e-12
    for name in ("fig1.png", "convergence.png", "components.png", "table_i.csv",
                 "convergence.csv", "components.csv"):
        assert (directory / name).stat().st_size > 0
