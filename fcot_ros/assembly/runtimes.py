"""Choosing and building the runtime of the feature network, with the fallback chain.

``auto``: TensorRT when the device is a CUDA GPU and tensorrt imports; on a CUDA device without it,
ONNX Runtime only if it has its CUDA provider, else PyTorch on the GPU; on the CPU, ONNX Runtime
when importable, else PyTorch. A backend that cannot be built (no GPU, package missing, broken
engine or ONNX file) falls back along the same order with a warning; PyTorch always works.
"""
import logging

import torch

from fcot_ros.assembly.registry import check_backend
from fcot_ros.assembly.runtime_options import RuntimeOptions
from fcot_ros.errors import BackendError

log = logging.getLogger(__name__)


def _onnxruntime_importable() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


def _onnxruntime_has_cuda() -> bool:
    try:
        import onnxruntime
        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    except Exception:
        return False


def fallback_chain(backend: str, on_gpu: bool):
    """(runtimes to try in order, why) for a requested ``backend`` on a CPU or CUDA device."""
    from fcot_ros.runtime.tensorrt_runtime import tensorrt_available
    if backend == "auto":
        if on_gpu and tensorrt_available():
            return ["tensorrt", "torch"], "CUDA GPU and tensorrt present"
        if on_gpu:
            return (["onnxruntime", "torch"] if _onnxruntime_has_cuda() else ["torch"]), "CUDA GPU without tensorrt"
        if _onnxruntime_importable():
            return ["onnxruntime", "torch"], "no CUDA GPU; onnxruntime present"
        return ["torch"], "no CUDA GPU and no onnxruntime"
    if backend == "tensorrt":
        return (["tensorrt", "torch"] if on_gpu else ["tensorrt", "onnxruntime", "torch"]), "requested"
    if backend == "onnxruntime":
        return ["onnxruntime", "torch"], "requested"
    return ["torch"], "requested"


def _make_runtime(kind, net, device, weights, options: RuntimeOptions, state_sha):
    name = net.config.name
    if kind == "torch":
        from fcot_ros.runtime.torch_runtime import TorchRuntime
        return TorchRuntime(net.features, device)
    if kind == "onnxruntime":
        from fcot_ros.runtime.onnx_runtime import onnx_runtime_for
        return onnx_runtime_for(net.features, name, weights=weights, device=device, cache_dir=options.cache_dir,
                                threads=options.ort_threads, state_sha=state_sha, spin=options.ort_spin,
                                arena=options.ort_arena)
    if kind == "tensorrt":
        if torch.device(device).type != "cuda":
            raise BackendError(f"no CUDA GPU (device is {device})")
        from fcot_ros.runtime.tensorrt_runtime import tensorrt_runtime_for
        return tensorrt_runtime_for(net.features, name, weights=weights, device=device,
                                    fp16=(options.trt_precision != "fp32"), workspace_mb=options.trt_workspace_mb,
                                    cache_dir=options.cache_dir, state_sha=state_sha,
                                    use_torch2trt=options.use_torch2trt)
    raise BackendError(f"unknown runtime {kind!r}")  # pragma: no cover - fallback_chain names only these


def build_runtime(backend, net, device, weights=None, options: RuntimeOptions = None):
    """Feature-network runtime for ``backend`` ("auto" | "tensorrt" | "onnxruntime" | "torch") of the
    FCOTModel ``net`` on ``device``. options: RuntimeOptions (default: from the environment).

    The result carries ``requested_backend`` and ``backend_note`` (why it was chosen, and what fell
    back) for diagnostics.
    """
    backend = check_backend(backend)
    options = options or RuntimeOptions.from_environment()
    chain, note = fallback_chain(backend, torch.device(device).type == "cuda")
    state_sha = None
    if any(k != "torch" for k in chain):
        from fcot_ros.runtime.digests import state_dict_sha256
        state_sha = state_dict_sha256(net.features)
    failures = []
    for i, kind in enumerate(chain):
        try:
            runtime = _make_runtime(kind, net, device, weights, options, state_sha)
        except Exception as exc:  # any failure of an optional backend must not stop the node
            failures.append(f"{kind}: {exc}")
            if i == len(chain) - 1:
                raise
            log.warning("backend %r could not be used (%s); falling back to %r", kind, exc, chain[i + 1])
            continue
        runtime.requested_backend = backend
        runtime.backend_note = note if not failures else f"{note}; fell back: " + " | ".join(failures)
        log.info("backend %s -> %s (%s)", backend, runtime.name, runtime.backend_note)
        return runtime
    raise BackendError("no runtime could be built: " + " | ".join(failures))  # pragma: no cover
