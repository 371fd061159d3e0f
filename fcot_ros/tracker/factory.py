"""Assembly of an FCOTTracker from a model name, a weights file, a backend and a preset."""
import logging
import os

import torch

from fcot_ros.errors import BackendError, CheckpointError
from fcot_ros.target_model.fcot_model import build_model
from fcot_ros.tracker.fcot_tracker import FCOTTracker
from fcot_ros.tracker.params import get_params

log = logging.getLogger("fcot_ros")


def resolve_device(device):
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} requested but no CUDA GPU is available")
    return str(device)


def load_model(model: str, weights=None):
    """FCOTModel for ``model`` with ``weights`` (ours or the authors' format) or built-in ones."""
    if model == "fcot_r50" and weights is None:
        raise CheckpointError("fcot_r50 needs weights: pass weights='path/to/fcot.pth' (the authors' "
                              "released checkpoint) or one of ours; none can be downloaded automatically")
    if weights is None:
        return build_model(model, imagenet_backbone=True).eval()
    from fcot_ros.checkpoints import load_into_model, model_overrides
    saved_model, overrides = model_overrides(weights)  # e.g. norm_scale_coef of the authors' run
    if saved_model is not None and saved_model != model:
        raise CheckpointError(f"{weights} holds a {saved_model} checkpoint, not {model}")
    net = build_model(model, imagenet_backbone=False, **overrides)
    load_into_model(net, weights)
    return net.eval()


BACKENDS = ("auto", "tensorrt", "onnxruntime", "torch")


def _onnxruntime_importable() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


def _make_runtime(kind, net, device, weights, cache_dir, precision, workspace_mb, state_sha):
    if kind == "torch":
        from fcot_ros.runtime.torch_runtime import TorchRuntime
        return TorchRuntime(net.features, device)
    if kind == "onnxruntime":
        from fcot_ros.runtime.onnx_runtime import onnx_runtime_for
        return onnx_runtime_for(net.features, net.config.name, weights=weights, device=device,
                                cache_dir=cache_dir, state_sha=state_sha)
    if kind == "tensorrt":
        from fcot_ros.runtime.tensorrt_runtime import tensorrt_runtime_for
        return tensorrt_runtime_for(net.features, net.config.name, weights=weights, device=device,
                                    fp16=(precision != "fp32"), workspace_mb=workspace_mb,
                                    cache_dir=cache_dir, state_sha=state_sha,
                                    use_torch2trt=os.environ.get("FCOT_USE_TORCH2TRT") == "1")
    raise BackendError(f"unknown backend {kind!r}; choose one of {BACKENDS}")


def build_runtime(backend, net, device, weights=None, cache_dir=None, precision=None, workspace_mb=None):
    """Feature-network runtime for ``backend`` ("auto" | "tensorrt" | "onnxruntime" | "torch").

    auto: TensorRT when the device is a CUDA GPU and tensorrt imports; on a CUDA device without it,
    ONNX Runtime only if it has its CUDA provider, else PyTorch on the GPU; on the CPU, ONNX Runtime
    when importable, else PyTorch. A backend that cannot be built (no GPU, package missing, broken
    engine or ONNX file) falls back along the same order with a warning; PyTorch always works.
    ``precision``: "fp16" (default) or "fp32" for TensorRT (also $FCOT_TRT_PRECISION);
    ``workspace_mb``: TensorRT builder workspace (also $FCOT_TRT_WORKSPACE_MB).
    The result carries ``requested_backend`` and ``backend_note`` (why it was chosen) for diagnostics.
    """
    from fcot_ros.runtime.tensorrt_runtime import tensorrt_available
    backend = (backend or "auto").strip().lower()
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    precision = (precision or os.environ.get("FCOT_TRT_PRECISION") or "fp16").lower()
    if precision not in ("fp16", "fp32"):
        raise BackendError(f"TensorRT precision must be fp16 or fp32, not {precision!r}")
    on_gpu = torch.device(device).type == "cuda"

    def ort_fits_gpu():
        try:
            import onnxruntime
            return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        except Exception:
            return False

    if backend == "auto":
        if on_gpu and tensorrt_available():
            chain, note = ["tensorrt", "torch"], "CUDA GPU and tensorrt present"
        elif on_gpu:
            chain = ["onnxruntime", "torch"] if ort_fits_gpu() else ["torch"]
            note = "CUDA GPU without tensorrt"
        elif _onnxruntime_importable():
            chain, note = ["onnxruntime", "torch"], "no CUDA GPU; onnxruntime present"
        else:
            chain, note = ["torch"], "no CUDA GPU and no onnxruntime"
    elif backend == "tensorrt":
        chain, note = (["tensorrt", "torch"] if on_gpu else ["tensorrt", "onnxruntime", "torch"]), "requested"
    elif backend == "onnxruntime":
        chain, note = ["onnxruntime", "torch"], "requested"
    else:
        chain, note = ["torch"], "requested"

    state_sha = None
    if any(k != "torch" for k in chain):
        from fcot_ros.runtime.export import state_dict_sha256
        state_sha = state_dict_sha256(net.features)
    failures = []
    for kind in chain:
        try:
            if kind == "tensorrt" and not on_gpu:
                raise BackendError("no CUDA GPU (device is %s)" % device)
            runtime = _make_runtime(kind, net, device, weights, cache_dir, precision, workspace_mb, state_sha)
        except Exception as exc:  # any failure of an optional backend must not stop the node
            failures.append(f"{kind}: {exc}")
            nxt = chain[chain.index(kind) + 1] if kind != chain[-1] else None
            if nxt is None:
                raise
            log.warning("fcot_ros: backend %r could not be used (%s); falling back to %r", kind, exc, nxt)
            continue
        runtime.requested_backend = backend
        runtime.backend_note = note if not failures else f"{note}; fell back: " + " | ".join(failures)
        log.info("fcot_ros: backend %s -> %s (%s)", backend, runtime.name, runtime.backend_note)
        return runtime
    raise BackendError("no runtime could be built: " + " | ".join(failures))  # pragma: no cover


def build_fcot_tracker(model="fcot_lite", backend="auto", weights=None, preset="default", device=None, **overrides):
    params = get_params(preset, **overrides)
    device = resolve_device(device)
    net = load_model(model, weights).to(device)
    runtime = build_runtime(backend, net, device, weights=weights)
    log.info("fcot_ros: model %s, backend %s, device %s, preset %s", model, runtime.name, device, preset)
    return FCOTTracker(net, runtime, params, model_name=model)
