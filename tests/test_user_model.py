"""Loading a user's own model from MODULE:FACTORY and a state_dict file."""

import pickle

import numpy as np
import pytest
import torch

from netspectra import NetspectraError
from netspectra.models import load_model
from netspectra.models.user import load_state_dict

NETS = """
import torch

def make():
    return torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv1d(4, 2, 3))

def not_a_module():
    return 3

def raises():
    raise RuntimeError("boom")
"""


@pytest.fixture()
def nets(tmp_path):
    path = tmp_path / "nets.py"
    path.write_text(NETS)
    return path


def test_file_factory_with_weights_round_trips(nets, tmp_path):
    model = load_model(f"{nets}:make")
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    torch.save(model.state_dict(), tmp_path / "w.pt")
    loaded = load_model(f"{nets}:make", tmp_path / "w.pt")
    assert not loaded.training
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_module_factory():
    model = load_model("torch.nn:Identity")
    assert isinstance(model, torch.nn.Identity)


@pytest.mark.parametrize(("suffix", "message"), [
    (":not_a_module", "must return a torch.nn.Module"),
    (":missing", "no callable 'missing'"),
    (":raises", "RuntimeError: boom"),
])
def test_bad_factories(nets, suffix, message):
    with pytest.raises(NetspectraError, match=message):
        load_model(f"{nets}{suffix}")


@pytest.mark.parametrize(("spec", "message"), [
    ("no_colon", "MODULE:FACTORY"),
    (":make", "MODULE:FACTORY"),
    ("surely_not_a_module_xyz:make", "failed to import"),
    ("missing_file.py:make", "does not exist"),
])
def test_bad_specs(spec, message):
    with pytest.raises(NetspectraError, match=message):
        load_model(spec)


def test_broken_file_names_the_error(tmp_path):
    (tmp_path / "broken.py").write_text("def (:\n")
    with pytest.raises(NetspectraError, match="failed to import: SyntaxError"):
        load_model(f"{tmp_path / 'broken.py'}:make")


@pytest.mark.parametrize("content", ["garbage", "empty", "pickle", "tensor", "folder", "missing"])
def test_bad_weight_files_are_refused_without_unpickling(tmp_path, content):
    path = tmp_path / "w.pt"
    if content == "garbage":
        path.write_bytes(b"\x00not a torch file")
    elif content == "empty":
        path.write_bytes(b"")
    elif content == "pickle":
        path.write_bytes(pickle.dumps({"weight": object()}))
    elif content == "tensor":
        torch.save(torch.zeros(3), path)
    elif content == "folder":
        path.mkdir()
    with pytest.raises(NetspectraError, match="weights"):
        load_state_dict(path)


def test_weights_that_do_not_fit(nets, tmp_path):
    torch.save({"0.weight": torch.zeros(2)}, tmp_path / "w.pt")
    with pytest.raises(NetspectraError, match="do not fit"):
        load_model(f"{nets}:make", tmp_path / "w.pt")


def test_random_bytes_are_refused_whatever_the_unpickler_raises(tmp_path):
    """Junk makes torch's weights-only unpickler raise IndexError, KeyError, … by the bytes."""
    rng = np.random.default_rng(0)
    path = tmp_path / "junk.pt"
    for size in rng.integers(1, 4096, 200):
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        with pytest.raises(NetspectraError, match=r"not a torch\.save file"):
            load_state_dict(path)
