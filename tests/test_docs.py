"""Every command and code block of README.md and docs/ runs (docs/probes.md has its own test,
tests/test_cli_own_model.py, which also compares the tables it prints)."""

import os
import re
import shlex
from pathlib import Path

import pytest

from netspectra.cli import _parser, main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md")
                                     if p.name != "probes.md")]
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
#: Commands that run in seconds; every other netspectra line is parsed by the real parser.
_RUN = ("list", "chebyshev")


def _blocks(language: str):
    for page in PAGES:
        for i, match in enumerate(_BLOCK.finditer(page.read_text())):
            if match.group(1) == language:
                yield pytest.param(match.group(2), id=f"{page.name}-{i}")


def _commands():
    for block in _blocks("bash"):
        for line in block.values[0].splitlines():
            words = shlex.split(line, comments=True)
            if words:
                yield pytest.param(words, id=f"{block.id}-{words[0]}-{'-'.join(words[1:3])}")


def test_pages_have_blocks():
    assert len(list(_blocks("python"))) >= 5 and len(list(_commands())) >= 15


@pytest.mark.parametrize("code", _blocks("python"))
def test_python_block_runs(code, tmp_path, monkeypatch, one_thread):
    if "model_S5.h5" in code:
        weights = os.environ.get("NETSPECTRA_PPG_WEIGHTS")
        if not weights:
            pytest.skip("the authors' weights: set NETSPECTRA_PPG_WEIGHTS")
        code = code.replace('"model_S5.h5"', repr(weights))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(code, "<docs>", "exec"), {"__name__": "docs"})


@pytest.mark.parametrize("words", _commands())
def test_command_is_valid(words, tmp_path, monkeypatch, capsys):
    """netspectra commands parse with the real parser (the quick ones run); scripts and files
    the pages name exist; installs and cluster commands are left to the reader's machine."""
    if words[0] == "netspectra":
        args = [w for w in words[1:] if not (w.startswith("[") or w.endswith("]"))]
        if args[0] in _RUN:
            monkeypatch.chdir(tmp_path)
            assert main(args) == 0
        else:
            _parser().parse_args(args)
    elif words[0] == "python" and words[1].endswith(".py"):
        assert (ROOT / words[1]).is_file(), words[1]
    else:
        assert words[0] in {"pip", "ray", "python", "bash"}, words
