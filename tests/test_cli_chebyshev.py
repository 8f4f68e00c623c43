"""`netspectra chebyshev`: table, JSON, and one-line errors with exit code 2."""

import json

import pytest

from netspectra.cli import main


def test_json_output(capsys):
    assert main(["chebyshev", "--activation", "relu", "--degree", "4", "--interval", "-1", "1",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"chebyshev", "monomial"}
    assert len(data["chebyshev"]) == len(data["monomial"]) == 5
    assert data["monomial"][1] == pytest.approx(0.5)


def test_lrelu_slope_and_table(capsys):
    assert main(["chebyshev", "--activation", "lrelu", "--slope", "0.25", "--degree", "25"]) == 0
    out = capsys.readouterr().out
    assert "6.25000000E-01" in out and len(out.splitlines()) == 28


@pytest.mark.parametrize(
    "argv",
    [
        ["--activation", "nope"],
        ["--activation", "relu", "--degree", "-1"],
        ["--activation", "relu", "--interval", "1", "-1"],
        ["--activation", "tanh", "--slope", "0.2"],
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv):
    assert main(["chebyshev", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netspectra: error: ")
    if argv[1] == "nope":
        assert "relu" in lines[0] and "sigmoid" in lines[0]
