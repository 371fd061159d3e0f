"""ONNX Runtime runtime of the feature network: the default on machines without a CUDA GPU.

Crops arrive as uint8 (N, S, S, 3) BGR, are converted to float32 (N, 3, S, S) on the host, run
through the ``features`` graph (fixed batch 1; larger N is looped) or the ``init`` graph (dynamic N),
and come back as torch tensors (``torch.from_numpy``, no copy) on ``self.device``.

Threads: intra-op = physical cores available to this process (``threads`` overrides), inter-op = 1,
sequential execution, graph optimisation ORT_ENABLE_ALL. Worker threads do not spin-wait between
runs (``spin=True`` re-enables it): on a 2-core machine spinning ORT threads steal the CPU from the
PyTorch optimizers that run right after each network call. The CPU memory arena is off unless
``arena=True``: it grew by hundreds of MB per ``initialize`` and never gave them back. (These come from
assembly.RuntimeOptions, which also reads them from the environment.)
"""
import logging
import os

import numpy as np
import torch

from fcot_ros.errors import BackendError
from fcot_ros.runtime.base import FeatureRuntime
from fcot_ros.runtime.export import FEATURES_OUTPUTS, INIT_OUTPUTS

log = logging.getLogger(__name__)


def physical_cores() -> int:
    """Physical cores usable by this process (affinity-limited), at least 1."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS/Windows
        available = os.cpu_count() or 1
    physical = None
    try:
        import psutil
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        pass
    if not physical:
        try:  # count distinct (physical id, core id) pairs
            cores, phys, core = set(), None, None
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("physical id"):
                        phys = line.split(":")[1].strip()
                    elif line.startswith("core id"):
                        core = line.split(":")[1].strip()
                        cores.add((phys, core))
            physical = len(cores) or None
        except OSError:
            physical = None
    return max(1, min(physical or available, available))


def session_options(threads=None, spin=False, arena=False):
    """ONNX Runtime SessionOptions as described in the module docstring (threads, spinning, memory arena)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads or physical_cores())
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    so.log_severity_level = 3  # errors only
    so.enable_cpu_mem_arena = bool(arena)
    return so


def crops_to_numpy(crops) -> np.ndarray:
    """(N, S, S, 3) uint8 -> C-contiguous (N, 3, S, S) float32 (0..255, BGR)."""
    crops = np.asarray(crops)
    if crops.ndim != 4 or crops.shape[-1] != 3:
        raise BackendError(f"crops must be (N, S, S, 3), got {crops.shape}")
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)


class OnnxRuntime(FeatureRuntime):
    """Runs ``{"features": path, "init": path}`` with ONNX Runtime. Both sessions are created here, so
    that a file that is missing or broken fails now (and falls back) rather than at ``initialize()``."""

    name = "onnxruntime"

    def __init__(self, paths: dict, device="cpu", threads=None, providers=None, spin=False, arena=False):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError("backend 'onnxruntime' needs the onnxruntime package (pip install onnxruntime)") from exc
        self.paths = {k: str(v) for k, v in paths.items()}
        self.device = torch.device(device)
        self.threads = threads
        self._options = dict(threads=threads, spin=spin, arena=arena)
        available = ort.get_available_providers()
        if providers is None:
            providers = ["CPUExecutionProvider"]
            if self.device.type == "cuda" and "CUDAExecutionProvider" in available:
                providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        self.providers = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        self._sessions = {}
        for graph in ("features", "init"):
            self._session(graph)
        meta = self._sessions["features"].get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        self.crop_size = int(meta.get("crop_size", self._sessions["features"].get_inputs()[0].shape[-1]))

    def _session(self, graph):
        if graph not in self._sessions:
            import onnxruntime as ort
            try:
                self._sessions[graph] = ort.InferenceSession(self.paths[graph], session_options(**self._options),
                                                             providers=self.providers)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise BackendError(f"ONNX Runtime could not load {self.paths[graph]}: {exc}") from exc
        return self._sessions[graph]

    @property
    def intra_op_threads(self) -> int:
        """Intra-op threads the sessions use: ``threads`` if given, else the physical cores available."""
        return int(self.threads or physical_cores())

    def _to_torch(self, arrays):
        out = tuple(torch.from_numpy(a) for a in arrays)
        if self.device.type != "cpu":
            out = tuple(t.to(self.device, non_blocking=True) for t in out)
        return out

    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> (cls18, cls72, reg) torch maps on ``self.device`` (batch-1 graph, looped)."""
        x = crops_to_numpy(crops)
        session = self._session("features")
        if x.shape[0] == 1:
            return self._to_torch(session.run(list(FEATURES_OUTPUTS), {"crops": x}))
        parts = [session.run(list(FEATURES_OUTPUTS), {"crops": x[i:i + 1]}) for i in range(x.shape[0])]
        return self._to_torch([np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))])

    def extract_init(self, crops, boxes):
        """crops (N, S, S, 3) uint8, boxes (N, 4) xywh in crop pixels -> the three maps and the initial filters."""
        x = crops_to_numpy(crops)
        b = np.ascontiguousarray(np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
        if b.shape[0] != x.shape[0]:
            raise BackendError(f"{x.shape[0]} crops but {b.shape[0]} boxes")
        return self._to_torch(self._session("init").run(list(INIT_OUTPUTS), {"crops": x, "boxes": b}))


def onnx_runtime_for(features, model_name, weights=None, device="cpu", cache_dir=None, threads=None,
                     state_sha=None, spin=False, arena=False):
    """OnnxRuntime on the cached (exported on first use) graphs of ``features``. A cache entry that
    exists but cannot be loaded by ONNX Runtime is exported once more before giving up."""
    from fcot_ros.runtime.engine_cache import clear
    from fcot_ros.runtime.export import cached_onnx
    try:  # before exporting: without onnxruntime the export would be wasted
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise BackendError("backend 'onnxruntime' needs the onnxruntime package (pip install onnxruntime)") from exc
    paths = cached_onnx(features, model_name, weights=weights, cache_dir=cache_dir, state_sha=state_sha)
    try:
        return OnnxRuntime(paths, device=device, threads=threads, spin=spin, arena=arena)
    except BackendError as exc:
        log.warning("fcot_ros: cached ONNX graphs failed to load (%s); exporting them again", exc)
        clear(paths["features"].parent)
        paths = cached_onnx(features, model_name, weights=weights, cache_dir=cache_dir, state_sha=state_sha)
        return OnnxRuntime(paths, device=device, threads=threads, spin=spin, arena=arena)
