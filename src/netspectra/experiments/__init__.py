"""One module per paper figure/table, each registered with
:func:`netspectra.experiments._registry.experiment`; run them with :func:`reproduce` or
:func:`reproduce_all`, list them with :func:`registry`."""

from importlib import import_module

from ._registry import Experiment, registry, reproduce

# Modules that register experiments, in the order `netspectra list` shows them.
_MODULES: tuple[str, ...] = (
    "relu_series",
    "chebyshev_table",
    "harmonic_distortion",
    "example_networks",
    "zero_training",
    "dc_training",
    "ppg_activations",
    "layer_spectra",
    "layer_walk",
    "roughness_depth",
    "loss_paths",
    "branch_correlation",
    "resnet_v1_v2",
    "feature_averaging",
    "averaging_training",
    "trainability",
)

for _name in _MODULES:
    import_module(f"{__name__}.{_name}")

from ._all import reproduce_all  # noqa: E402  (after the registrations it runs)

__all__ = ["Experiment", "registry", "reproduce", "reproduce_all"]
