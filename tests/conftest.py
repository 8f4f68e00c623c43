"""Fixtures shared by the test modules."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Run a module's tests on one thread: their convolutions are tiny, and on a 2-core
    machine a second thread only adds contention."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run(name, **options)``: run an experiment with ``--quick`` in a fresh folder and
    return ``(result, the experiment's output folder)``."""
    from netspectra.experiments import reproduce

    def run(name: str, **options):
        out = tmp_path_factory.mktemp("out")
        return reproduce(name, out, quick=True, **options), out / name

    return run
