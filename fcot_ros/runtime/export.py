"""ONNX export of the frozen feature network (the part of FCOT that does not change while tracking).

Two graphs per model, both for the model's fixed crop size S (288):

``features``  input  ``crops``  (1, 3, S, S) float32, BGR, 0..255 (normalisation is inside the graph)
              outputs ``cls18`` (1, C18, S/16, S/16), ``cls72`` (1, C72, S/4, S/4), ``reg`` (1, CR, S/4, S/4)
``init``      inputs ``crops``  (N, 3, S, S) float32 and ``boxes`` (N, 4) float32 xywh in crop pixels,
              N dynamic (the first-frame augmentations)
              outputs ``cls18``, ``cls72``, ``reg`` with N rows, ``cls18_filter`` (1, C18, 4, 4),
              ``cls72_filter`` (1, C72, 4, 4), ``reg_filter`` (1, 4, CR, 3, 3)

The pure-PyTorch deformable convolution (grid_sample) and PrRoIPool (closed form, einsum) export as
ordinary ONNX ops with the TorchScript-based exporter (``dynamo=False``), opset 17. Each file carries
metadata_props: model, weights sha256, state-dict sha256, opset, torch/onnx versions, crop size, graph.
"""
import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from fcot_ros.models.feature_network import FEATURE_NAMES, INIT_FILTER_NAMES
from fcot_ros.runtime.digests import file_sha256, state_dict_sha256

OPSET = 17
GRAPHS = ("features", "init")
FEATURES_INPUTS = ("crops",)
INIT_INPUTS = ("crops", "boxes")
FEATURES_OUTPUTS = tuple(FEATURE_NAMES)
INIT_OUTPUTS = tuple(FEATURE_NAMES) + tuple(INIT_FILTER_NAMES)
EXPORT_INIT_BATCH = 3  # example batch used while tracing the init graph (N stays dynamic)


class _InitGraph(nn.Module):
    """forward(crops, boxes) -> FeatureNetwork.forward_init, as a module the exporter can trace."""

    def __init__(self, features):
        super().__init__()
        self.features = features

    def forward(self, crops, boxes):
        return self.features.forward_init(crops, boxes)


def tool_versions() -> dict:
    """The torch and onnx versions doing the export (recorded in metadata and cache keys)."""
    import onnx
    return {"torch_version": torch.__version__, "onnx_version": onnx.__version__}


def example_inputs(crop_size: int, n: int = 1, seed: int = 0):
    """Deterministic crops (n, 3, S, S) in 0..255 and boxes (n, 4) inside the crop (for tracing and tests)."""
    g = torch.Generator().manual_seed(seed)
    crops = torch.rand(n, 3, crop_size, crop_size, generator=g) * 255.0
    s = float(crop_size)
    wh = (0.15 + 0.2 * torch.rand(n, 2, generator=g)) * s
    centre = s / 2 + (torch.rand(n, 2, generator=g) - 0.5) * 0.2 * s
    boxes = torch.cat([centre - wh / 2, wh], dim=1)
    return crops, boxes


def _export_one(module, args, path, input_names, output_names, dynamic_axes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings from shape checks that are skipped while tracing
        torch.onnx.export(module, args, os.fspath(path), dynamo=False, opset_version=OPSET,
                          input_names=list(input_names), output_names=list(output_names),
                          dynamic_axes=dynamic_axes, do_constant_folding=True)


def _add_metadata(path, meta: dict):
    """Write metadata_props and re-save as one self-contained file; run onnx.checker on the result."""
    import onnx
    model = onnx.load(os.fspath(path))
    del model.metadata_props[:]
    for key in sorted(meta):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, str(meta[key])
    model.producer_name = "fcot_ros"
    onnx.save(model, os.fspath(path))
    onnx.checker.check_model(os.fspath(path), full_check=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_metadata(path) -> dict:
    """The metadata_props of an ONNX file as a dict (without loading external weight data)."""
    import onnx
    model = onnx.load(os.fspath(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def export_onnx(features: nn.Module, out_dir, model_name: str, weights=None, weights_sha=None,
                graphs=GRAPHS, state_sha=None) -> dict:
    """Export ``features`` (a FeatureNetwork) to ``out_dir/{model_name}_{graph}.onnx``.

    ``weights``: the checkpoint the network was loaded from (its sha256 is recorded), or None for
    built-in weights (then the state-dict hash is recorded). Returns {graph: Path}. Each file is
    written under a temporary name, checked with onnx.checker, then renamed into place.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The exporter restores every submodule to the *wrapper's* training flag afterwards; remember each
    # module's own flag so that a network in eval mode does not come back with BatchNorm in training mode.
    modes = {m: m.training for m in features.modules()}
    features.eval()
    device = next(features.parameters()).device
    if device.type != "cpu":  # trace on the CPU: the graph is device independent
        features = features.cpu()
    crop_size = int(features.config.crop_size)
    state_sha = state_sha or state_dict_sha256(features)
    if weights_sha is None:
        weights_sha = file_sha256(weights) if weights is not None else state_sha
    base_meta = {"model": model_name, "weights": os.fspath(weights) if weights is not None else "built-in",
                 "weights_sha256": weights_sha, "state_dict_sha256": state_sha, "opset": OPSET,
                 "crop_size": crop_size, "producer": "fcot_ros.runtime.export", **tool_versions()}
    paths = {}
    try:
        with torch.inference_mode(False), torch.no_grad():
            for graph in graphs:
                final = out_dir / f"{model_name}_{graph}.onnx"
                fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=".onnx.tmp", dir=out_dir)
                os.close(fd)
                try:
                    if graph == "features":
                        crops, _ = example_inputs(crop_size, 1)
                        _export_one(features, (crops,), tmp, FEATURES_INPUTS, FEATURES_OUTPUTS, None)
                        shapes = f"crops=(1,3,{crop_size},{crop_size})"
                    elif graph == "init":
                        crops, boxes = example_inputs(crop_size, EXPORT_INIT_BATCH)
                        dyn = {"crops": {0: "N"}, "boxes": {0: "N"},
                               **{name: {0: "N"} for name in FEATURE_NAMES}}
                        _export_one(_InitGraph(features).eval(), (crops, boxes), tmp, INIT_INPUTS, INIT_OUTPUTS, dyn)
                        shapes = f"crops=(N,3,{crop_size},{crop_size}),boxes=(N,4)"
                    else:
                        raise ValueError(f"unknown graph {graph!r}; choose from {GRAPHS}")
                    _add_metadata(tmp, {**base_meta, "graph": graph, "inputs": shapes})
                    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; exports are ordinary files
                    os.replace(tmp, final)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                paths[graph] = final
    finally:
        for module, mode in modes.items():
            module.training = mode
        if device.type != "cpu":
            features.to(device)
    return paths


EXPORT_FORMAT = 1  # bump when the graphs' interface changes, so that old cache entries go stale


def onnx_cache_fields(features: nn.Module, model_name: str, state_sha=None) -> dict:
    """ONNX cache key of a feature network: model, weight and config hashes, opset, crop size, format, versions."""
    return {"model": model_name, "state_dict_sha256": state_sha or state_dict_sha256(features),
            "config_sha256": hashlib.sha256(repr(features.config).encode()).hexdigest(),
            "opset": OPSET, "crop_size": int(features.config.crop_size), "format": EXPORT_FORMAT,
            **tool_versions()}


def cached_onnx(features: nn.Module, model_name: str, weights=None, cache_dir=None, state_sha=None) -> dict:
    """{graph: Path} of the two ONNX graphs of ``features``, exported on first use into the cache
    (keyed by model + state-dict hash + opset + torch/onnx versions + crop size); a corrupt or stale
    entry is exported again."""
    from fcot_ros.runtime.engine_cache import get_or_build
    fields = onnx_cache_fields(features, model_name, state_sha)
    files = [f"{model_name}_{g}.onnx" for g in GRAPHS]

    def build(directory):
        export_onnx(features, directory, model_name, weights=weights, state_sha=fields["state_dict_sha256"])

    directory = get_or_build("onnx", fields, files, build, cache_dir)
    return {g: directory / f"{model_name}_{g}.onnx" for g in GRAPHS}
