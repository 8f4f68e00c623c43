"""Read the authors' trained heart-rate CNN (DC paper V-B, Fig. 3) from a Keras 2 HDF5 file.

Keras 2 stores a model's weights as one group per layer in model order (attribute
``layer_names``), each listing its variables (attribute ``weight_names``); a nested block model
lists the variables of all its layers. The layer names (``conv1d_45``, ``model_20`` …) are
generated afresh for every saved model, so weights are matched by the file's structure: the
order of the layers and the roles of their variables (``kernel``, ``bias``, ``query/kernel``,
``gamma`` …), as Keras' own loader does. Every shape is checked before its values are read.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import NetspectraError
from .heart_rate import HeartRateCNN

__all__ = ["load_keras_heart_rate"]

_PROJECTIONS = ("query", "key", "value", "attention_output")
_ROLES = {
    "norm": ("gamma", "beta"),
    "attention": tuple(f"{p}/{v}" for p in _PROJECTIONS for v in ("kernel", "bias")),
}
_EXPECTED = ("conv",) * 9 + ("attention", "norm", "dense", "dense")
_EXPECTED_TEXT = "conv×9, attention, norm, dense×2"


def load_keras_heart_rate(path: str | Path) -> HeartRateCNN:
    """The heart-rate CNN stored in a Keras 2 ``.h5`` file, as a :class:`HeartRateCNN`.

    Reads a full-model save (``model.save("m.h5")``, weights under ``model_weights``) or a
    weights-only one (``model.save_weights("w.h5")``) of the authors' network: 9 causal
    convolutions (in one or in three nested block models), multi-head attention, layer norm and
    two dense layers, in that order. The window length, the number of heads and their width
    are read from the shapes; the layer settings a full-model save records (kernel size,
    dilation, causal padding, pooling, ReLUs, layer-norm ε …) must be the reference's. Keras
    kernels are ``(k, in, out)`` for convolutions, ``(in, out)`` for dense layers,
    ``(64, heads, key_dim)`` for the attention's query/key/value (biases ``(heads, key_dim)``)
    and ``(heads, key_dim, 64)`` for its output projection. The model returned is in eval mode
    and predicts bpm (the authors trained on bpm directly); it expects the authors' input
    scale, not unit variance (see the ``ppg-activations`` experiment).

    Needs h5py (``pip install 'netspectra[h5]'``). Raises
    :class:`~netspectra.errors.NetspectraError` for a missing or unreadable file and for a file
    that does not hold exactly this architecture.
    """
    h5py = _import_h5py()
    path = Path(path)
    if not path.is_file():
        raise NetspectraError(f"weights file {str(path)!r} does not exist or is not a file")
    try:
        with h5py.File(path, "r") as f:
            return _load(f, h5py, path.name)
    except NetspectraError:
        raise
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:  # a bad file
        raise NetspectraError(
            f"weights file {str(path)!r} is not a readable Keras HDF5 file "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc


def _import_h5py():
    try:
        import h5py
    except ImportError as exc:
        raise NetspectraError(
            "reading Keras .h5 weights needs h5py: pip install 'netspectra[h5]'") from exc
    return h5py


def _strings(values: Any) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.atleast_1d(values)]


def _layers(f, h5py, filename: str) -> list[dict[str, Any]]:
    """Each weighted layer of the file, in model order, as {role: dataset}."""
    root = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in root.attrs:
        raise NetspectraError(f"{filename} has no Keras 2 layer list (attribute 'layer_names')")
    layers = []
    for name in _strings(root.attrs["layer_names"]):
        group = root[name]
        weights = [(w, group[w]) for w in _strings(group.attrs.get("weight_names", []))]
        for _, owned in itertools.groupby(weights, key=lambda item: _owner_role(item[0])[0]):
            layer = {_owner_role(w)[1]: ds for w, ds in owned}
            if not all(isinstance(ds, h5py.Dataset) for ds in layer.values()):
                raise NetspectraError(f"{filename}: layer {name!r} lists a group as a weight")
            layers.append(layer)
    return layers


def _owner_role(weight_name: str) -> tuple[str, str]:
    """``'mha/query/kernel:0'`` → (``'mha'``, ``'query/kernel'``); ``'c/bias:0'`` → (c, bias)."""
    parts = weight_name.removesuffix(":0").split("/")
    k = 2 if len(parts) > 2 and parts[-2] in _PROJECTIONS else 1
    return "/".join(parts[:-k]), "/".join(parts[-k:])


def _kind(layer: dict[str, Any]) -> str:
    roles = set(layer)
    if roles == {"kernel", "bias"}:
        return {3: "conv", 2: "dense"}.get(layer["kernel"].ndim, "kernel with bias")
    for kind, expected in _ROLES.items():
        if roles == set(expected):
            return kind
    return "+".join(sorted(roles))


def _summary(kinds: list[str]) -> str:
    runs = [(k, len(list(g))) for k, g in itertools.groupby(kinds)]
    return ", ".join(k if n == 1 else f"{k}×{n}" for k, n in runs) or "no weights"


_CONV = {"kernel_size": [5], "strides": [1], "dilation_rate": [2], "padding": "causal",
         "activation": "relu", "use_bias": True}


def _block(pool: int) -> list[tuple[str, dict]]:
    pooling = {"pool_size": [pool], "strides": [pool], "padding": "valid"}
    return [("Conv1D", _CONV)] * 3 + [("AveragePooling1D", pooling), ("Dropout", {})]


#: What the weights do not show: the settings of every layer, as a full-model save records them.
_CONFIG = [*_block(4), *_block(2), *_block(2),
           ("MultiHeadAttention", {"use_bias": True, "output_shape": None}),
           ("LayerNormalization", {"epsilon": 0.001, "center": True, "scale": True}),
           ("Flatten", {}),
           ("Dense", {"activation": "relu", "use_bias": True}),
           ("Dense", {"activation": "linear", "use_bias": True})]


def _config_layers(model: dict) -> list[dict]:
    """A Keras model config's layers in order, nested models expanded, input layers dropped."""
    found = []
    for layer in model.get("config", {}).get("layers", []):
        if layer.get("class_name") in ("Functional", "Sequential", "Model"):
            found += _config_layers(layer)
        elif layer.get("class_name") != "InputLayer":
            found.append(layer)
    return found


def _check_config(f, filename: str) -> None:
    """Refuse a full-model save whose recorded layer settings differ from the reference."""
    if "model_config" not in f.attrs:
        return  # a weights-only save records none
    raw = f.attrs["model_config"]
    layers = _config_layers(json.loads(raw.decode() if isinstance(raw, bytes) else raw))
    names = [layer.get("class_name") for layer in layers]
    if names != [name for name, _ in _CONFIG]:
        raise NetspectraError(f"{filename} is not the heart-rate CNN: its model config has "
                              f"layers {', '.join(map(str, names))}")
    for layer, (name, settings) in zip(layers, _CONFIG, strict=True):
        config = layer.get("config", {})
        if name == "MultiHeadAttention" and config.get("value_dim") is not None:
            settings = {**settings, "value_dim": config.get("key_dim")}  # None: = key_dim
        for key, value in settings.items():
            if config.get(key, value) != value:
                raise NetspectraError(
                    f"{filename} is not the heart-rate CNN: {name} {config.get('name')!r} has "
                    f"{key}={config.get(key)!r}; expected {value!r}")


def _load(f, h5py, filename: str) -> HeartRateCNN:
    _check_config(f, filename)
    layers = _layers(f, h5py, filename)
    kinds = [_kind(layer) for layer in layers]
    if tuple(kinds) != _EXPECTED:
        raise NetspectraError(
            f"{filename} is not the heart-rate CNN: expected layers {_EXPECTED_TEXT}; "
            f"found {_summary(kinds)}")
    query, dense = layers[9]["query/kernel"], layers[11]["kernel"]
    if query.ndim != 3 or dense.shape[0] < 64 or dense.shape[0] % 64:
        raise NetspectraError(
            f"{filename}: attention query kernel {query.shape} and first dense kernel "
            f"{dense.shape} must be (64, heads, key_dim) and (64 · steps, 32)")
    model = HeartRateCNN(dense.shape[0] // 64 * 16, heads=query.shape[1], key_dim=query.shape[2])
    for layer, expected in zip(layers, _layout(model), strict=True):
        for role, (module, param, keras_shape) in expected.items():
            _copy(layer[role], param, keras_shape, f"{filename}: {module} {role}")
    return model.eval()


@torch.no_grad()
def _copy(ds, param: nn.Parameter, keras_shape: tuple[int, ...], where: str) -> None:
    if ds.shape != keras_shape or ds.dtype.kind != "f":
        raise NetspectraError(f"{where} is {ds.dtype} {ds.shape}; expected float {keras_shape}")
    value = np.asarray(ds[()], dtype=np.float32)
    if not np.all(np.isfinite(value)):
        raise NetspectraError(f"{where} holds NaN/Inf")
    # Keras' (…, in, out) layout reversed is torch's (out, in, …); Keras' (heads, key_dim)
    # axes merge, in C order, into torch's head-major features.
    param.copy_(torch.from_numpy(value.reshape(param.shape[::-1]).T.copy()))


_Layout = list[dict[str, tuple[str, nn.Parameter, tuple[int, ...]]]]


def _layout(model: HeartRateCNN) -> _Layout:
    """Per file layer, {Keras role: (module name, parameter, Keras shape)}, in file order."""
    att, c = model.attention, model.norm.normalized_shape[0]
    hd = (att.heads, att.key_dim)

    def reversed_(name: str) -> dict:  # conv and dense: Keras stores the transpose
        m = model.get_submodule(name)
        return {"kernel": (name, m.weight, tuple(m.weight.shape[::-1])),
                "bias": (name, m.bias, tuple(m.bias.shape))}

    attention = {}
    for proj, module, shape, bias in (("query", att.query, (c, *hd), hd),
                                      ("key", att.key, (c, *hd), hd),
                                      ("value", att.value, (c, *hd), hd),
                                      ("attention_output", att.output, (*hd, c), (c,))):
        attention[f"{proj}/kernel"] = ("attention", module.weight, shape)
        attention[f"{proj}/bias"] = ("attention", module.bias, bias)
    norm = {"gamma": ("norm", model.norm.weight, (c,)), "beta": ("norm", model.norm.bias, (c,))}
    convs = [reversed_(f"block{b}.conv{i}") for b in (1, 2, 3) for i in (1, 2, 3)]
    return [*convs, attention, norm, reversed_("head.1"), reversed_("head.3")]
