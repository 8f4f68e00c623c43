"""Every bad command line exits 2 with one line on stderr, no traceback, before any work.

Most run in this process through ``main(argv)``; a few through the installed command, among
them the sizes that once hung or ran out of memory (a guard fails a test that starts the
work instead of refusing it)."""

import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import netspectra
from netspectra.cli import main

# Each row: the arguments after ``netspectra`` (OUT stands for a fresh output folder) and a
# word the message must contain.
BAD = [
    (["reproduce", "zero-training", "--seed", "-1"], "seed"),
    (["reproduce", "zero-training", "--seed", str(2**64)], "seed"),
    (["reproduce", "zero-training", "--seed", "abc"], "--seed"),
    (["reproduce", "zero-training", "--bogus"], "--bogus"),
    (["reproduce", "nope"], "nope"),
    (["frobnicate"], "frobnicate"),
    ([], "command"),
    (["reproduce", "dc-training", "--device", "cuda:abc"], "device"),
    (["reproduce", "dc-training", "--device", "tpu"], "device"),
    (["reproduce", "dc-training", "--reps", str(10**12)], "reps"),
    (["reproduce", "dc-training", "--epochs", str(10**9)], "epochs"),
    (["reproduce", "dc-training", "--workers", "1000"], "cores"),
    (["reproduce", "dc-training", "--threads", "0"], "threads"),
    (["reproduce", "roughness-depth", "--depths", "1000000"], "depths"),
    (["reproduce", "roughness-depth", "--inits", str(10**9)], "inits"),
    (["reproduce", "roughness-depth", "--directions", str(10**9)], "directions"),
    (["reproduce", "roughness-depth", "--points", "11"], "points"),
    (["reproduce", "roughness-depth", "--points", str(10**9)], "points"),
    (["reproduce", "roughness-depth", "--batch-size", str(10**9)], "batch_size"),
    (["reproduce", "roughness-depth", "--width", str(10**6)], "width"),
    (["reproduce", "roughness-depth", "--alpha", "nan"], "alpha"),
    (["reproduce", "roughness-depth", "--device", "cuda:abc"], "device"),
    (["reproduce", "loss-paths", "--depth", "6000002"], "depth"),
    (["reproduce", "loss-paths", "--slopes", "2"], "slopes"),
    (["reproduce", "loss-paths", "--points", "8"], "points"),
    (["reproduce", "layer-spectra", "--depth", "100000"], "depth"),
    (["reproduce", "layer-spectra", "--epochs", str(10**9)], "epochs"),
    (["reproduce", "layer-walk", "--width", str(10**6)], "width"),
    (["reproduce", "layer-walk", "--layers-step", "0"], "layers_step"),
    (["reproduce", "layer-walk", "--directions", "0"], "directions"),
    (["reproduce", "zero-training", "--ray", "127.0.0.1:1"], "cannot be reached"),
    (["reproduce", "zero-training", "--cpus-per-unit", "2"], "need ray"),
    (["reproduce", "all", "--data-root", "no/such/folder"], "data_root"),
    (["reproduce", "all", "--device", "tpu"], "device"),
    (["reproduce", "all", "--workers", "0"], "workers"),
    (["chebyshev", "--activation", "relu", "--interval", "0", "1e-320", "--json"], "interval"),
    (["chebyshev", "--activation", "relu", "--degree", "x"], "--degree"),
]
if not torch.cuda.is_available():
    BAD += [(["reproduce", "dc-training", "--device", "cuda"], "cuda"),
            (["reproduce", "layer-walk", "--device", "cuda"], "cuda")]


@pytest.fixture
def guard():
    """Fail, rather than hang, when a command starts work it should have refused."""
    def expire(signum, frame):
        raise AssertionError("the command ran instead of refusing its arguments")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _one_line_exit_2(capsys, argv, word):
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert info.value.code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("netspectra: error: "), captured.err
    assert word in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(("argv", "word"), BAD, ids=[" ".join(a) or "(none)" for a, _ in BAD])
def test_bad_command_line(tmp_path, capsys, guard, argv, word):
    out = ["--out", str(tmp_path)] if argv[:1] == ["reproduce"] and len(argv) > 1 else []
    _one_line_exit_2(capsys, [*argv, *out], word)
    assert not list(tmp_path.rglob("*.npz"))  # refused before any unit ran


def _unusable_outs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    (tmp_path / "exp_is_file").mkdir()
    (tmp_path / "exp_is_file" / "zero-training").write_text("")
    (tmp_path / "json_is_dir" / "zero-training" / "result.json").mkdir(parents=True)
    return {"a file": (str(a_file), "folder"), "/dev/null": ("/dev/null", "folder"),
            "/proc": ("/proc", "/proc"),
            "experiment folder is a file": (str(tmp_path / "exp_is_file"), "folder"),
            "result.json is a folder": (str(tmp_path / "json_is_dir"), "result.json")}


@pytest.mark.parametrize("case", ["a file", "/dev/null", "/proc", "experiment folder is a file",
                                  "result.json is a folder"])
def test_unusable_out_is_refused_before_the_run(tmp_path, capsys, guard, case):
    out, word = _unusable_outs(tmp_path)[case]
    _one_line_exit_2(capsys, ["reproduce", "zero-training", "--quick", "--out", out], word)
    assert not list(tmp_path.rglob("units-*"))


# ppg-activations' own files: each builder writes one into the folder and returns the flag
# and the file.
FILES = {
    "weights: garbage": lambda d: ("--weights", _write(d / "w.pt", os.urandom(100))),
    "weights: empty": lambda d: ("--weights", _write(d / "w.pt", b"")),
    "weights: a folder": lambda d: ("--weights", d),
    "weights: a pickle": lambda d: ("--weights", _write(d / "w.pt", pickle.dumps({"a": 1}))),
    "weights: a tensor": lambda d: ("--weights", _saved(d / "w.pt", torch.zeros(3))),
    "weights: missing": lambda d: ("--weights", d / "missing.pt"),
    "signal: objects": lambda d: ("--signal", _npy(d / "s.npy", np.array([None, 1]))),
    "signal: complex": lambda d: ("--signal", _npy(d / "s.npy", np.ones((2, 256), complex))),
    "signal: garbage": lambda d: ("--signal", _write(d / "s.npy", os.urandom(100))),
    "signal: a huge header": lambda d: ("--signal", _header(d / "s.npy", (10**5, 10**5))),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _saved(path: Path, value) -> Path:
    torch.save(value, path)
    return path


def _npy(path: Path, values: np.ndarray) -> Path:
    np.save(path, values, allow_pickle=True)
    return path


def _header(path: Path, shape: tuple[int, ...]) -> Path:
    """An .npy header that claims ``shape`` float64 values, and no data."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".ljust(117)
    return _write(path, b"\x93NUMPY\x01\x00v\x00" + header.encode() + b"\n")


@pytest.mark.parametrize("case", list(FILES))
def test_unusable_ppg_files(tmp_path, capsys, guard, case):
    flag, path = FILES[case](tmp_path)
    _one_line_exit_2(capsys, ["reproduce", "ppg-activations", "--quick", flag, str(path),
                              "--out", str(tmp_path / "out")], flag.lstrip("-"))


def _command(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(netspectra.__file__).parents[1]),
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "netspectra", *argv], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.mark.parametrize("argv", [
    ["reproduce", "dc-training", "--reps", str(10**12)],
    ["reproduce", "roughness-depth", "--depths", "1000000"],
    ["reproduce", "loss-paths", "--depth", "6000002"],
    ["reproduce", "zero-training", "--seed", "-1"],
    ["chebyshev", "--activation", "relu", "--interval", "0", "1e-320", "--json"],
])
def test_installed_command_refuses_in_one_line(tmp_path, argv):
    proc = _command(*argv, *(["--out", str(tmp_path)] if argv[0] == "reproduce" else []))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netspectra: error: "), proc.stderr
