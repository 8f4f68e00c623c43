"""harmonic-distortion (RR eq. 6, blueshift) at quick settings."""

import pytest
from _claim_checks import saved_claims, verdict


@pytest.fixture(scope="module")
def result(quick_run):
    return quick_run("harmonic-distortion")


def test_relu_widens_first(result):
    res, directory = result
    first = res["first_step_bandwidth"]
    assert first["relu"] > max(first["tanh"], first["softplus"])
    assert 10 <= first["relu"] <= 13 and first["tanh"] <= 9 and first["softplus"] <= 9
    for bw in res["bandwidth_harmonics"].values():
        assert bw[0] == 8 and bw[-1] > bw[0]
    assert res["eq6_vs_time_domain_max_abs"] < 1e-9
    claims = saved_claims(directory)
    assert all(c["holds"] for c in claims) and len(claims) == 3
    assert verdict(claims, "widens the band first")
    assert (directory / "bandwidth.png").stat().st_size > 0
    assert (directory / "spectra_per_step.png").stat().st_size > 0
