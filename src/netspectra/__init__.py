"""netspectra: spectral analysis of neural-network nonlinearities.

Layers, imports pointing downward only: :mod:`netspectra.theory` (NumPy/SciPy),
:mod:`netspectra.probes` (PyTorch measurements on any ``nn.Module``), :mod:`netspectra.models`
(the papers' networks), :mod:`netspectra.training` (training them on image sets),
:mod:`netspectra.experiments` (one module per figure/table) and the
thin :mod:`netspectra.cli`.
"""

__version__ = "0.1.0"

from .errors import NetspectraError
from .theory import amplitude_spectrum, bandwidth, dc_share, power_centroid

__all__ = [
    "NetspectraError",
    "__version__",
    "amplitude_spectrum",
    "bandwidth",
    "dc_share",
    "power_centroid",
]
