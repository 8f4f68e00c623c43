"""The CLI is thin: it lists, reproduces and reports bad input as exit code 2."""

import os
import subprocess
import sys
from pathlib import Path

import netspectra
from netspectra.cli import main
from netspectra.experiments import registry


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, exp in registry().items():
        assert name in out and exp.reproduces in out


def test_console_entry_point_runs():
    # Works from a source checkout as well as from an installed package.
    env = {**os.environ, "PYTHONPATH": str(Path(netspectra.__file__).parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "netspectra", "--version"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and "netspectra" in proc.stdout
