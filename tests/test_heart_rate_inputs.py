"""ppg-activations with bad --weights, --signal and options: one clear error line, exit 2."""

import datetime
import importlib.util
import os
import pickle

import numpy as np
import pytest
import torch

from netspectra.cli import main
from netspectra.data import load_signal_windows


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


def _bad_weights(tmp_path):
    """Files that are not trained weights, each with the error it must give."""
    (tmp_path / "folder.pt").mkdir()
    (tmp_path / "folder.h5").mkdir()
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    pickled = pickle.dumps({"w": datetime.date(2024, 1, 1)})
    h5 = importlib.util.find_spec("h5py") is not None
    return {
        "missing.pt": "must be an existing file",
        "folder.pt": "must be an existing file",
        _write(tmp_path / "empty.pt", b"").name: "not a torch.save file",
        _write(tmp_path / "junk.pt", os.urandom(2048)).name: "not a torch.save file",
        _write(tmp_path / "pickle.pt", pickled).name: "not a torch.save file",
        "tensor.pt": "must hold a state_dict",
        "missing.h5": "does not exist" if h5 else "netspectra[h5]",
        "folder.h5": "not a file" if h5 else "netspectra[h5]",
        _write(tmp_path / "empty.h5", b"").name:
            "not a readable Keras HDF5 file" if h5 else "netspectra[h5]",
        _write(tmp_path / "junk.h5", os.urandom(2048)).name:
            "not a readable Keras HDF5 file" if h5 else "netspectra[h5]",
    }


def _run(capsys, tmp_path, *args):
    code = main(["reproduce", "ppg-activations", "--quick", "--out", str(tmp_path / "out"),
                 *args])
    err = capsys.readouterr().err.strip()
    return code, err


def test_bad_weights_files_exit_2_with_one_line(tmp_path, capsys):
    for name, message in _bad_weights(tmp_path).items():
        code, err = _run(capsys, tmp_path, "--weights", str(tmp_path / name))
        assert code == 2 and "\n" not in err and message in err, (name, err)


def _npy_header(shape, dtype="<f8") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    pad = 64 - (10 + len(header) + 1) % 64
    return b"\x93NUMPY\x01\x00" + (len(header) + pad + 1).to_bytes(2, "little") + header \
        + b" " * pad + b"\n"


def _bad_signals(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([[1.0, "a"]], dtype=object), allow_pickle=True)
    np.save(tmp_path / "complex.npy", np.ones((2, 256), dtype=complex))
    return {
        "objects.npy": "must hold real numbers; found dtype object",
        "complex.npy": "must hold real numbers; found dtype complex128",
        _write(tmp_path / "junk.npy", os.urandom(512)).name: "not a valid .npy file",
        _write(tmp_path / "empty.npy", b"").name: "not a valid .npy file",
        _write(tmp_path / "huge.npy", _npy_header((10**5, 10**5)) + b"\0" * 64).name:
            "claims shape (100000, 100000) (80000000000 bytes) but holds 64 bytes",
        _write(tmp_path / "complex.csv", b"1+2j,3\n").name: "not a numeric CSV",
        _write(tmp_path / "junk.csv", os.urandom(512)).name: "not a numeric CSV",
    }


def test_bad_signal_files_exit_2_with_one_line(tmp_path, capsys):
    for name, message in _bad_signals(tmp_path).items():
        code, err = _run(capsys, tmp_path, "--signal", str(tmp_path / name))
        assert code == 2 and "\n" not in err and message in err, (name, err)


def test_npy_reader_still_reads_real_arrays(tmp_path):
    for dtype in (np.float32, np.int16, bool):
        np.save(tmp_path / "ok.npy", np.ones((3, 32), dtype=dtype))
        np.testing.assert_array_equal(load_signal_windows(tmp_path / "ok.npy"), np.ones((3, 32)))
    _write(tmp_path / "short.npy", _npy_header((3, 32)) + b"\0" * 8)
    with pytest.raises(ValueError, match="claims shape"):
        load_signal_windows(tmp_path / "short.npy")


@pytest.mark.parametrize(("args", "message"), [
    (["--input-scale", "nan"], "input_scale must be a positive finite number"),
    (["--input-scale", "-2"], "input_scale must be a positive finite number"),
    (["--input-scale", "30"], "input_scale applies to loaded --weights"),
    (["--window", "-1"], "window must be >= 0"),
    (["--window", "100000000000"], "window must be <= 4095"),
])
def test_bad_options_exit_2_before_any_training(tmp_path, capsys, args, message):
    code, err = _run(capsys, tmp_path, *args)
    assert code == 2 and "\n" not in err and message in err, err


def test_window_beyond_the_signal_file_exits_2(tmp_path, capsys):
    np.save(tmp_path / "two.npy", np.zeros((2, 256)))
    code, err = _run(capsys, tmp_path, "--signal", str(tmp_path / "two.npy"), "--window", "2")
    assert code == 2 and "window must be <= 1 (windows in the signal file)" in err, err
