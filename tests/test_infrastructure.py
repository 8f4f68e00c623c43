"""Result saving and spectral statistics (sweeps: test_sweeps.py)."""

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netspectra import NetspectraError
from netspectra.results import Result
from netspectra.theory import amplitude_spectrum, bandwidth, dc_share, power_centroid


@dataclass(frozen=True)
class _Toy(Result):
    values: np.ndarray
    label: str
    numbers: list


def test_result_roundtrip(tmp_path):
    res = _Toy(values=np.arange(5.0), label="x", numbers=[1, 2.5])
    loaded = _Toy.load(res.save(tmp_path / "r"))
    np.testing.assert_array_equal(loaded.values, res.values)
    assert loaded.label == "x" and loaded.numbers == [1, 2.5]
    # As arrays (a sweep's unit file), beside another result's under another prefix.
    other = _Toy(values=np.ones(2), label="y", numbers=[])
    arrays = {**res.to_arrays("a."), **other.to_arrays("b.")}
    np.savez(tmp_path / "unit.npz", **arrays)
    with np.load(tmp_path / "unit.npz", allow_pickle=False) as data:
        back = _Toy.from_arrays(dict(data), "a.")
    np.testing.assert_array_equal(back.values, res.values)
    assert back.label == "x" and back.numbers == [1, 2.5]
    assert _Toy.from_arrays(arrays, "b.").label == "y"


@given(
    a=st.floats(0.1, 10), c=st.floats(-5, 5), k=st.integers(1, 60), n=st.sampled_from([128, 255])
)
def test_amplitude_spectrum_reads_tone_and_dc(a, c, k, n):
    fs = 64.0
    t = np.arange(n) / n
    f, amp = amplitude_spectrum(c + a * np.cos(2 * np.pi * k * t), fs=fs)
    assert f[k] == pytest.approx(k * fs / n)
    assert amp[k] == pytest.approx(a, rel=1e-9)
    assert amp[0] == pytest.approx(abs(c), abs=1e-9)


def test_width_statistics():
    f = np.arange(10.0)
    power = np.zeros(10)
    power[[0, 3]] = [1.0, 3.0]
    assert power_centroid(f, power) == pytest.approx(2.25)
    assert bandwidth(f, power) == 3.0
    assert bandwidth(f, power, fraction=0.25) == 0.0
    assert dc_share(power) == pytest.approx(0.25)
    assert np.isnan(bandwidth(f, np.zeros(10)))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: amplitude_spectrum([1.0, np.nan]), "finite"),
        (lambda: amplitude_spectrum([]), "empty"),
        (lambda: amplitude_spectrum([1.0, 2.0], fs=0), "fs"),
        (lambda: bandwidth([0, 1], [1.0, 1.0, 1.0]), "match"),
        (lambda: bandwidth([0, 1], [1.0, -1.0]), "non-negative"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(NetspectraError, match=match):
        call()


def test_atomic_writes_get_the_mode_open_gives(tmp_path):
    """Results are shared files: not the private 0600 of a temporary file."""
    import os

    from netspectra.results import atomic_write_json

    mask = os.umask(0)
    os.umask(mask)
    path = atomic_write_json(tmp_path / "r.json", {"a": 1})
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
