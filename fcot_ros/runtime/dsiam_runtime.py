"""Runtimes of dsiam_lite's feature network (DSiamFeatures): PyTorch, and ONNX Runtime on one exported
graph; the transforms, correlation and fusion always run in PyTorch beside it.

    extract(crops (N, S, S, 3) uint8 BGR) -> per level (N, C, S/stride, S/stride) float32 torch

The ONNX graph ``dsiam_lite_features.onnx``: input ``crops`` (N, 3, S, S) float32 BGR 0..255 with N
and S dynamic (templates of 128 and search regions of 256 pixels use one graph); outputs
``stride8``, ``stride16``. It carries the same metadata as FCOT's graphs and is cached by the same
cache (keyed by the state-dict hash, opset and tool versions). There is no TensorRT path for
dsiam_lite: backend "tensorrt" falls back to ONNX Runtime / PyTorch with a warning.
"""
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from fcot_ros.errors import BackendError
from fcot_ros.runtime.base import crops_to_tensor
from fcot_ros.runtime.digests import file_sha256, state_dict_sha256

GRAPH = "features"
EXPORT_FORMAT = 1


class DSiamTorchRuntime:
    """DSiamFeatures in eager PyTorch on ``device``."""

    name = "torch"

    def __init__(self, features, device="cpu"):
        self.device = torch.device(device)
        self.net = features.to(self.device).eval()

    @torch.inference_mode()
    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> tuple of per-level float32 features on ``self.device``."""
        return tuple(self.net(crops_to_tensor(crops, self.device)))


class DSiamOnnxRuntime:
    """The exported features graph under ONNX Runtime (CPU, or CUDA when its provider exists)."""

    name = "onnxruntime"

    def __init__(self, path, levels, device="cpu", threads=None, spin=False, arena=False):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError("backend 'onnxruntime' needs the onnxruntime package (pip install onnxruntime)") from exc
        from fcot_ros.runtime.onnx_runtime import physical_cores, session_options
        self.device = torch.device(device)
        self.levels = tuple(levels)
        self.threads = threads
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda" and "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), session_options(threads, spin, arena), providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BackendError(f"ONNX Runtime could not load {path}: {exc}") from exc
        names = [o.name for o in self.session.get_outputs()]
        if names != list(self.levels):
            raise BackendError(f"{path} has outputs {names}, not {list(self.levels)}")
        self.intra_op_threads = int(threads or physical_cores())

    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> tuple of per-level float32 torch features on ``self.device``."""
        from fcot_ros.runtime.onnx_runtime import crops_to_numpy
        out = self.session.run(list(self.levels), {"crops": crops_to_numpy(crops)})
        tensors = tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in out)
        return tensors if self.device.type == "cpu" else tuple(t.to(self.device) for t in tensors)


def export_dsiam_onnx(features, out_dir, model_name="dsiam_lite", weights=None, state_sha=None) -> Path:
    """Export DSiamFeatures to ``out_dir/{model_name}_features.onnx`` (checked, metadata, atomic rename)."""
    from fcot_ros.runtime.export import OPSET, _add_metadata, _export_one, _umask, tool_versions
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = {m: m.training for m in features.modules()}
    features.eval()
    device = next(features.parameters()).device
    features = features.cpu()
    cfg = features.config
    state_sha = state_sha or state_dict_sha256(features)
    meta = {"model": model_name, "weights": os.fspath(weights) if weights is not None else "built-in",
            "weights_sha256": file_sha256(weights) if weights is not None else state_sha,
            "state_dict_sha256": state_sha, "opset": OPSET, "graph": GRAPH, "inputs": "crops=(N,3,S,S)",
            "template_size": cfg.template_size, "search_size": cfg.search_size,
            "producer": "fcot_ros.runtime.dsiam_runtime", **tool_versions()}
    final = out_dir / f"{model_name}_{GRAPH}.onnx"
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=".onnx.tmp", dir=out_dir)
    os.close(fd)
    try:
        g = torch.Generator().manual_seed(0)
        crops = torch.rand(2, 3, cfg.search_size, cfg.search_size, generator=g) * 255.0
        dyn = {"crops": {0: "N", 2: "S", 3: "S"}, **{lv: {0: "N", 2: "H", 3: "W"} for lv in cfg.levels}}
        with torch.inference_mode(False), torch.no_grad():
            _export_one(features, (crops,), tmp, ("crops",), cfg.levels, dyn)
        _add_metadata(tmp, meta)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        for module, mode in modes.items():
            module.training = mode
        features.to(device)
    return final


def dsiam_onnx_runtime_for(features, model_name="dsiam_lite", weights=None, device="cpu", cache_dir=None,
                           threads=None, spin=False, arena=False):
    """DSiamOnnxRuntime on the cached graph of ``features`` (exported on first use; a cached graph
    that does not load is exported once more)."""
    from fcot_ros.runtime.engine_cache import clear, get_or_build
    from fcot_ros.runtime.export import OPSET, tool_versions
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise BackendError("backend 'onnxruntime' needs the onnxruntime package (pip install onnxruntime)") from exc
    state_sha = state_dict_sha256(features)
    fields = {"model": model_name, "state_dict_sha256": state_sha,
              "config_sha256": hashlib.sha256(repr(features.config).encode()).hexdigest(),
              "opset": OPSET, "format": f"dsiam/{EXPORT_FORMAT}", **tool_versions()}
    name = f"{model_name}_{GRAPH}.onnx"

    def build(directory):
        export_dsiam_onnx(features, directory, model_name, weights=weights, state_sha=state_sha)

    directory = get_or_build("onnx", fields, [name], build, cache_dir)
    try:
        return DSiamOnnxRuntime(directory / name, features.config.levels, device, threads, spin, arena)
    except BackendError:
        clear(directory)
        directory = get_or_build("onnx", fields, [name], build, cache_dir)
        return DSiamOnnxRuntime(directory / name, features.config.levels, device, threads, spin, arena)
