"""The helpers experiments state the paper's claims with (``experiments._claims``)."""

import numpy as np

from netspectra.experiments._claims import claim, listed, never_rises, paper_value


def test_never_rises():
    assert never_rises([3, 2, 2, 1]) and never_rises([5]) and never_rises([])
    assert not never_rises([1.0, 0.0, 0.5])
    assert never_rises(x for x in (2, 1))  # any iterable, once


def test_claim_paper_value_and_listed():
    c = claim("Fig. 5: h falls", np.float64(0.3) < 1, "h 1.04/0.33")
    assert c == {"claim": "Fig. 5: h falls", "holds": True, "evidence": "h 1.04/0.33"}
    assert type(c["holds"]) is bool  # a numpy bool would not serialise to JSON
    assert paper_value("Table I: C(1/2, 2)", -0.125, -0.125)["paper"] == -0.125
    assert listed([1.04, 1.2216, 0.33333]) == "1.04/1.22/0.333"
    assert listed([0.1142, 0.14491], 4) == "0.1142/0.1449"
