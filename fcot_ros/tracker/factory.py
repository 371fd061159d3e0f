"""Assembly of an FCOTTracker from a model name, a weights file, a backend and a preset."""
import logging

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


def build_runtime(backend, net, device):
    if backend in ("auto", "torch"):
        from fcot_ros.runtime.torch_runtime import TorchRuntime
        return TorchRuntime(net.features, device)
    raise BackendError(f"backend {backend!r} is not available in this build")


def build_fcot_tracker(model="fcot_lite", backend="auto", weights=None, preset="default", device=None, **overrides):
    params = get_params(preset, **overrides)
    device = resolve_device(device)
    net = load_model(model, weights).to(device)
    runtime = build_runtime(backend, net, device)
    log.info("fcot_ros: model %s, backend %s, device %s, preset %s", model, runtime.name, device, preset)
    return FCOTTracker(net, runtime, params, model_name=model)
