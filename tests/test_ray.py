"""Sweeps on Ray (``--ray``): a tiny trainability sweep through a local 2-CPU Ray instance
gives the result.json of ``--workers 1``, and so does ``reproduce all`` for a few quick
experiments; a driver killed mid-sweep resumes to the same result; ``reproduce all``
connects once for all its experiments; and the options fail in one line where they cannot
work."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from _runs import TIMING

from netspectra import NetspectraError
from netspectra.experiments import _all, reproduce, reproduce_all
from netspectra.experiments._registry import EXECUTION_OPTIONS

ray = pytest.importorskip("ray", reason="the Ray tests need netspectra[ray]")

pytestmark = pytest.mark.usefixtures("one_thread")

# Four cells (v1/v2 × S/NS at depth 8, slope 0) of one epoch on 8×8 digits: about a second
# each on one core.
TINY = {"quick": True, "seed": 3, "depths": [8], "slopes": [0.0], "epochs": 1, "size": 8,
        "directions": 1, "batch_size": 8, "log_every": 1, "device": "cpu"}
CLI = ["--depths", "8", "--slopes", "0", "--epochs", "1", "--size", "8", "--directions", "1",
       "--batch-size", "8", "--log-every", "1", "--device", "cpu"]
# How a run was executed, and how long it took, may differ; nothing else may.
IGNORED = TIMING | EXECUTION_OPTIONS


def _numbers(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in IGNORED}


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance with 2 CPUs, shut down after this module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def local_result(tmp_path_factory):
    return reproduce("trainability", tmp_path_factory.mktemp("local"), workers=1, **TINY)


def test_ray_sweep_equals_one_worker(tmp_path, cluster, local_result):
    result = reproduce("trainability", tmp_path, ray=cluster, cpus_per_unit=1, **TINY)
    assert _numbers(result) == _numbers(local_result)
    assert set(result["unit_seconds"]) == set(local_result["unit_seconds"])
    assert result["options"] == local_result["options"]  # --ray is not a setting


def _units(out):
    return sorted((out / "trainability").glob("cells-*/*.npz"))


def test_killed_driver_resumes_to_the_same_result(tmp_path, cluster, local_result):
    command = [sys.executable, "-m", "netspectra", "reproduce", "trainability", "--out",
               str(tmp_path), "--quick", "--seed", str(TINY["seed"]), *CLI, "--ray", cluster]
    log = tmp_path / "driver.log"
    with log.open("wb") as sink:
        # The module's 2-CPU instance runs at most 2 of the 4 cells at once, so the driver
        # dies with at most 2 written. Its own session, killed as a whole.
        driver = subprocess.Popen(command, stdout=sink, stderr=sink, start_new_session=True,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"})
        try:
            deadline = time.monotonic() + 120
            while (not _units(tmp_path) and driver.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.05)
        finally:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    written = {p: p.stat().st_mtime_ns for p in _units(tmp_path)}
    assert 1 <= len(written) < 4, log.read_text(errors="replace")[-2000:]
    resumed = reproduce("trainability", tmp_path, ray=cluster, **TINY)
    assert _numbers(resumed) == _numbers(local_result)
    assert json.loads((tmp_path / "trainability" / "result.json").read_text()) == resumed
    assert all(p.stat().st_mtime_ns == t for p, t in written.items())  # kept, not recomputed
    assert len(_units(tmp_path)) == 4


@pytest.mark.parametrize(("options", "message"), [
    ({"ray": "127.0.0.1:1"}, "ray '127.0.0.1:1' cannot be reached"),
    ({"ray": "no-port"}, "ray must be 'local', 'auto' or HOST:PORT; found 'no-port'"),
    ({"ray": ""}, "ray must be 'local', 'auto' or HOST:PORT; found ''"),
    ({"cpus_per_unit": 2}, "cpus_per_unit need ray"),
    ({"ray": "local", "cpus_per_unit": 0}, "cpus_per_unit must be"),
    ({"ray": "local", "gpus_per_unit": -1}, "gpus_per_unit must be in"),
    ({"ray": "local", "gpus_per_unit": 1}, "gpus_per_unit reserves GPUs that device 'cpu'"),
])
def test_ray_options_fail_in_one_line(tmp_path, monkeypatch, options, message):
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", _never)
    with pytest.raises(NetspectraError, match="^" + re.escape(message)):
        reproduce("trainability", tmp_path, **TINY, **options)
    assert not _units(tmp_path)


def test_missing_ray_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an absent package does to an import
    with pytest.raises(NetspectraError, match=r"pip install 'netspectra\[ray\]'"):
        reproduce("trainability", tmp_path, ray="local", **TINY)


def _never(*args, **kwargs):
    raise AssertionError("ray.init must not be reached")


# Cheap quick runs: one experiment without units, one of each paper that runs units.
ALL = ["relu-series", "zero-training", "dc-training"]


def test_reproduce_all_on_ray_equals_one_worker(tmp_path, cluster):
    runs = {}
    for how, options in (("local", {"workers": 1}), ("ray", {"ray": cluster})):
        status = reproduce_all(tmp_path / how, quick=True, seed=3, names=ALL, progress=False,
                               **options)
        assert status == dict.fromkeys(ALL, "ran"), how
        runs[how] = {name: json.loads((tmp_path / how / name / "result.json").read_text())
                     for name in ALL}
    for name in ALL:
        assert _numbers(runs["ray"][name]) == _numbers(runs["local"][name]), name
    assert runs["ray"]["dc-training"]["options"] == {}  # --ray is not a setting


def test_reproduce_all_connects_once_and_passes_the_options(tmp_path, monkeypatch):
    events, given = [], {}
    monkeypatch.setattr(ray, "is_initialized", lambda: events.count("init") >
                        events.count("shutdown"))
    monkeypatch.setattr(ray, "init", lambda **kwargs: events.append("init"))
    monkeypatch.setattr(ray, "shutdown", lambda: events.append("shutdown"))

    def fake_reproduce(name, out, *, quick, seed, **options):
        events.append(name)
        given[name] = options

    monkeypatch.setattr(_all, "reproduce", fake_reproduce)
    _all.reproduce_all(tmp_path, quick=True, names=ALL, ray="local", cpus_per_unit=2,
                       threads=1, progress=False)
    assert events == ["init", *ALL, "shutdown"]
    execution = {"ray": "local", "cpus_per_unit": 2, "threads": 1}
    assert given == {"relu-series": {}, "zero-training": execution, "dc-training": execution}
