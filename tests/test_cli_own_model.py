"""``netspectra spectra`` and ``netspectra walk`` on a model of the user's own, run in this
process through ``main(argv)``; and every block of ``docs/probes.md`` run as the page shows it."""

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from netspectra.cli import main
from netspectra.data import load_digits32, load_signal_batch, load_signal_windows
from netspectra.errors import NetspectraError
from netspectra.experiments._rr import fresh_batch
from netspectra.models import load_model
from netspectra.probes import ActivationSpectra, Walk, activation_spectra, walk
from netspectra.theory import fractal_coefficient

DOCS = Path(__file__).resolve().parents[1] / "docs" / "probes.md"

NETS = '''
import torch
from torch import nn


def rectifier():
    return nn.Sequential(nn.ReLU(), nn.AvgPool1d(2), nn.Tanh())


def signal_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv1d(1, 4, 5, padding=2), nn.ReLU(), nn.AvgPool1d(2),
                         nn.Conv1d(4, 4, 3, padding=1), nn.Tanh())


def classifier():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 4, 3), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 10))


def dead_relu():
    conv = nn.Conv2d(3, 4, 3, stride=2)
    nn.init.constant_(conv.bias, -1e6)  # a walk of radius 1 cannot bring it above 0
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


def three_classes():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 3))


def not_a_module():
    return 42


def broken():
    raise RuntimeError("no weights here")
'''

FS = 32.0
TONES_HZ = (2.0, 3.0, 5.0)
WALK = ["--directions", "2", "--points", "16", "--batch-size", "8"]


@pytest.fixture
def work(tmp_path, monkeypatch, one_thread):
    """A fresh folder as the working directory, holding ``nets.py``, whole-period tones
    ``tones.npy`` (N, L) and a weights file of another model, ``other.pt``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nets.py").write_text(NETS)
    t = np.arange(64) / FS
    np.save("tones.npy", np.stack([np.cos(2 * np.pi * f * t) for f in TONES_HZ]))
    torch.save(nn.Linear(2, 2).state_dict(), "other.pt")
    return tmp_path


def _table(text: str) -> dict[str, list[str]]:
    """The printed table as first column → the other columns (the header row included)."""
    return {row.split()[0]: row.split()[1:] for row in text.strip().splitlines()}


def test_spectra_of_a_rectifier_show_its_dc_and_the_pooled_rate(work, capsys):
    """The DC share of ReLU(x) is the batch's squared window means over its mean square (near
    4/π², a rectified cosine's, DC paper §III); pooling by 2 halves the layer's rate."""
    assert main(["spectra", "--model", "nets.py:rectifier", "--signal", "tones.npy",
                 "--fs", str(FS), "--out", "out"]) == 0
    rows = _table(capsys.readouterr().out)
    r = np.maximum(np.load("tones.npy"), 0)
    share = np.mean(r.mean(axis=1) ** 2) / np.mean(r**2)
    assert rows["layer"][:3] == ["fs", "(Hz)", "DC"]
    assert rows["0"][:2] == ["32", f"{share:.3f}"]
    assert share == pytest.approx(4 / np.pi**2, abs=0.01)
    assert rows["2"][0] == "16"
    saved = ActivationSpectra.load("out")
    assert saved.labels == ["0", "2"] and saved["0"].shape == [3, 1, 64]
    assert (work / "out" / "spectra.png").stat().st_size > 0


def test_spectra_saves_what_the_api_returns_with_the_weights_loaded(work, capsys):
    model = load_model("nets.py:signal_net")
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(-2.0)
    torch.save(model.state_dict(), "trained.pt")
    assert main(["spectra", "--model", "nets.py:signal_net", "--weights", "trained.pt",
                 "--signal", "tones.npy", "--fs", str(FS), "--layers", "0", "1",
                 "--per-channel", "--out", "out"]) == 0
    x = torch.from_numpy(np.load("tones.npy")).float()[:, None, :]
    expected = activation_spectra(model, x, FS, layers=["0", "1"], per_channel=True)
    saved = ActivationSpectra.load("out")
    rows = _table(capsys.readouterr().out)
    for want in expected.layers:
        got = saved[want.label]
        np.testing.assert_array_equal(got.power, want.power)
        np.testing.assert_array_equal(got.channel_amplitude, want.channel_amplitude)
        assert rows[want.label] == [f"{want.fs:g}", f"{want.dc_share:.3f}",
                                    f"{want.power_centroid_hz:.4g}", f"{want.bandwidth_hz:.4g}"]


def test_spectra_of_images_are_radial_at_each_layers_rate(work, capsys):
    np.save("images.npy", np.random.default_rng(0).normal(size=(2, 3, 16, 16)))
    assert main(["spectra", "--model", "nets.py:classifier", "--signal", "images.npy",
                 "--fs", "1", "--out", "out"]) == 0
    rows = _table(capsys.readouterr().out)
    # 16 → 7 pixels (stride 2) is a rate of 1/2; 16 → 5 (a 'valid' 3×3 after it) of 1/3.
    assert rows["2"][0] == "0.5" and rows["4"][0] == f"{1 / 3:g}"
    saved = ActivationSpectra.load("out")
    assert saved["2"].shape == [2, 4, 7, 7]
    assert saved["2"].frequencies[1] == pytest.approx(0.5 / 7)


@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 5), (2, 3, 4, 5)])
def test_signal_batches_come_in_a_models_layout(tmp_path, shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    np.save(tmp_path / "x.npy", x)
    got = load_signal_batch(tmp_path / "x.npy")
    assert got.dtype == np.float64
    want = x.reshape(-1, 1, shape[-1]) if x.ndim <= 2 else x
    np.testing.assert_array_equal(got, want)


def test_signal_batches_from_csv_and_the_refused_shapes(tmp_path):
    np.savetxt(tmp_path / "x.csv", np.ones((2, 6)), delimiter=",")
    assert load_signal_batch(tmp_path / "x.csv").shape == (2, 1, 6)
    np.save(tmp_path / "five.npy", np.ones((1, 1, 1, 1, 2)))
    with pytest.raises(NetspectraError, match=r"1 or 2 or 3 or 4 dimension"):
        load_signal_batch(tmp_path / "five.npy")
    np.save(tmp_path / "three.npy", np.ones((1, 2, 3)))
    with pytest.raises(NetspectraError, match=r"1 or 2 dimension"):
        load_signal_windows(tmp_path / "three.npy")


def test_walk_records_the_activation_modules_and_equals_the_api(work, capsys):
    assert main(["walk", "--model", "nets.py:classifier", *WALK, "--seed", "3",
                 "--out", "out"]) == 0
    saved = Walk.load("out")
    assert saved.layers == ["2", "4"]  # the ReLU and the Tanh: the activation modules
    assert (work / "out" / "walk.png").stat().st_size > 0
    x, y = fresh_batch(load_digits32(), 8, 3, torch.device("cpu"))
    again = walk(load_model("nets.py:classifier"), x, 2, target=y, layers=["2", "4"],
                 n_points=16, seed=3, progress=False)
    np.testing.assert_array_equal(saved.loss, again.loss)
    np.testing.assert_array_equal(saved.layer_power, again.layer_power)
    rows = _table(capsys.readouterr().out)
    assert rows["path"] == ["h", "±", "stderr", "R²", "paths", "per", "direction"]
    for name in ("loss", "2", "4"):
        fit = fractal_coefficient(again.spectrum(name), again.k, min_r2=0.0)
        assert rows[name][:3] == [f"{fit.h:.3f}", f"{fit.stderr:.3f}", f"{fit.r2:.2f}"]
    valid = again.layer_valid.mean(axis=1)
    assert rows["2"][3] == f"{valid[0]:.0f}/{again.neurons[0]}"


def test_walk_takes_named_layers_and_running_statistics(work, capsys):
    assert main(["walk", "--model", "nets.py:classifier", *WALK, "--layers", "1",
                 "--batchnorm", "running", "--strategy", "loop", "--out", "out"]) == 0
    saved = Walk.load("out")
    assert saved.layers == ["1"] and saved.batchnorm == "running" and saved.strategy == "loop"
    assert set(_table(capsys.readouterr().out)) == {"path", "loss", "1"}


def test_walk_reports_a_layer_of_constant_paths_as_n_a(work, capsys):
    with pytest.warns(UserWarning, match="only constant paths"):
        assert main(["walk", "--model", "nets.py:dead_relu", *WALK, "--out", "out"]) == 0
    rows = _table(capsys.readouterr().out)
    assert rows["1"] == ["n/a", "0/4096"]
    assert float(rows["loss"][0]) > 0


# Each row: the arguments after ``netspectra`` and a word the one-line message must contain.
SPECTRA = ["spectra", "--signal", "tones.npy", "--fs", "32", "--model"]
BAD = [
    ([*SPECTRA, "missing.py:signal_net"], "does not exist"),
    ([*SPECTRA, "no_such_module_anywhere:make"], "failed to import"),
    ([*SPECTRA, "nets.py:nope"], "no callable"),
    ([*SPECTRA, "nets.py"], "MODULE:FACTORY"),
    ([*SPECTRA, "nets.py:not_a_module"], "must return a torch.nn.Module"),
    ([*SPECTRA, "nets.py:broken"], "no weights here"),
    ([*SPECTRA, "nets.py:signal_net", "--weights", "other.pt"], "do not fit"),
    ([*SPECTRA, "nets.py:signal_net", "--weights", "nets.py"], "weights_only"),
    ([*SPECTRA, "nets.py:signal_net", "--layers", "7"], "unknown layer"),
    ([*SPECTRA, "nets.py:signal_net", "--fs", "0"], "fs"),
    ([*SPECTRA, "nets.py:signal_net", "--out", "nets.py"], "folder"),
    (["spectra", "--model", "nets.py:signal_net", "--fs", "32", "--signal", "none.npy"],
     "does not exist"),
    (["spectra", "--model", "nets.py:classifier", "--fs", "32", "--signal", "tones.npy"],
     "does not fit the model"),
    (["walk", "--model", "nets.py:signal_net", *WALK], "does not fit the model"),
    (["walk", "--model", "nets.py:three_classes", *WALK], "does not fit the loss"),
    (["walk", "--model", "nets.py:classifier", "--weights", "other.pt"], "do not fit"),
    (["walk", "--model", "nets.py:classifier", "--points", "11"], "points"),
    (["walk", "--model", "nets.py:classifier", "--directions", "0"], "directions"),
    (["walk", "--model", "nets.py:classifier", "--batch-size", "0"], "batch_size"),
    (["walk", "--model", "nets.py:classifier", "--alpha", "nan", *WALK], "alpha"),
    (["walk", "--model", "nets.py:classifier", "--data", "imagenet"], "data"),
    (["walk", "--model", "nets.py:classifier", "--data", "cifar100"], "--data-root"),
    (["walk", "--model", "nets.py:classifier", "--data-root", "nowhere"], "CIFAR-10"),
    (["walk", "--model", "nets.py:classifier", "--batchnorm", "train"], "--batchnorm"),
    (["walk", "--model", "nets.py:classifier", "--device", "tpu"], "device"),
    (["walk", "--model", "nets.py:classifier", "--layers", "9", *WALK], "unknown layer"),
    (["walk"], "--model"),
]


@pytest.mark.parametrize(("argv", "word"), BAD, ids=[" ".join(a[-3:]) for a, _ in BAD])
def test_bad_models_and_inputs_exit_2_with_one_line(work, capsys, argv, word):
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2
    assert len(err) == 1 and err[0].startswith("netspectra: error: "), err
    assert word in err[0]


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w+)\n(.*?)^```$", text, flags=re.M | re.S)


def _same_table(printed: str, shown: str) -> None:
    """The printed table is the one shown, or starts with it when "..." ends it; numbers
    agree to 0.01, other words exactly."""
    got_lines, want_lines = printed.splitlines(), shown.splitlines()
    if want_lines[-1] == "...":
        want_lines, got_lines = want_lines[:-1], got_lines[:len(want_lines) - 1]
    assert len(got_lines) == len(want_lines), printed
    for got, want in zip(got_lines, want_lines, strict=True):
        got, want = got.split(), want.split()
        assert len(got) == len(want), (got, want)
        for g, w in zip(got, want, strict=True):
            if re.fullmatch(r"-?[\d.]+", w):
                assert abs(float(g) - float(w)) <= 0.01, (got, want)
            else:
                assert g == w, (got, want)


def test_every_block_of_the_probes_guide_runs_as_shown(tmp_path, monkeypatch, capsys,
                                                       one_thread):
    """Python blocks that start with ``# NAME.py`` are written to that file, other Python
    blocks run in one namespace, each line of a bash block is a ``netspectra`` command run
    through ``main``, and a text block is what the command before it printed."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    printed = ""
    blocks = _blocks(DOCS.read_text())
    assert {kind for kind, _ in blocks} == {"python", "bash", "text"}
    for kind, body in blocks:
        first = body.splitlines()[0]
        if kind == "python" and re.fullmatch(r"# [\w/]+\.py", first):
            (tmp_path / first[2:]).write_text(body)
        elif kind == "python":
            exec(compile(body, str(DOCS), "exec"), namespace)
        elif kind == "bash":
            for line in filter(None, body.splitlines()):
                argv = shlex.split(line)
                assert argv[0] == "netspectra", line
                capsys.readouterr()
                assert main(argv[1:]) == 0, line
                printed = capsys.readouterr().out
        else:
            _same_table(printed, body)
