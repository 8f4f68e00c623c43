"""netspectra: spectral analysis of neural-network nonlinearities.

Layers, imports pointing downward only: :mod:`netspectra.theory` (NumPy/SciPy),
:mod:`netspectra.probes` (PyTorch measurements on any ``nn.Module``), :mod:`netspectra.models`
(the papers' networks), :mod:`netspectra.data` (signals and images), :mod:`netspectra.training`
(training them on image sets), :mod:`netspectra.experiments` (one module per figure/table),
:mod:`netspectra.report` (the HTML report of a run) and the thin :mod:`netspectra.cli`. Each
subpackage exports what a user calls; the names are listed in ``docs/library.md``.
"""

#: The package version (semantic versioning); pyproject.toml reads it from here.
__version__ = "0.1.0"

from .errors import NetspectraError

__all__ = ["NetspectraError", "__version__"]
