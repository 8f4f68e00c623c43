"""The CLI is thin: it lists, reproduces and reports bad input as exit code 2."""

import subprocess
import sys

from netspectra.cli import main
from netspectra.experiments import registry


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, exp in registry().items():
        assert name in out and exp.reproduces in out


def test_console_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "netspectra", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "netspectra" in proc.stdout
