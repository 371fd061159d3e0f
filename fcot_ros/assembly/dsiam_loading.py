"""Building dsiam_lite: the DSiamModel from a checkpoint (``fcot_ros/2`` format, meta["model"] =
"dsiam_lite", meta["config"] = its DSiamConfig) and its tracker with a feature runtime.

The files leave out the frozen ImageNet trunk (``features.backbone.*``): it is always the installed
EfficientNet-Lite0 weights. A file with missing, extra or mis-shaped tensors is refused, naming them.
"""
import logging

import torch

from fcot_ros.checkpoints.native import load_checkpoint, save_checkpoint
from fcot_ros.errors import CheckpointError, ConfigurationError
from fcot_ros.models.dsiam_model import DSiamModel, config_dict, dsiam_config

log = logging.getLogger(__name__)

MODEL_NAME = "dsiam_lite"
FROZEN_PREFIX = "features.backbone."


def trained_state(model: DSiamModel) -> dict:
    """The state dict a dsiam_lite file holds: everything but the frozen trunk."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.startswith(FROZEN_PREFIX)}


def save_dsiam(path, model: DSiamModel, **meta):
    """Write ``model`` (without its trunk) with its config and ``meta`` (plain types) to ``path``."""
    save_checkpoint(path, trained_state(model), {"model": MODEL_NAME, "config": config_dict(model.config),
                                                 "omitted_prefixes": [FROZEN_PREFIX], **meta})


def load_dsiam_model(weights=None, **config) -> DSiamModel:
    """DSiamModel in eval mode: from ``weights`` (its saved config; explicit ``config`` settings that
    contradict it are refused) or, without weights, hand-initialised heads (only useful to train)."""
    if weights is None:
        return DSiamModel(dsiam_config(**config)).eval()
    state, meta = load_checkpoint(weights)
    if meta.get("model") != MODEL_NAME:
        raise CheckpointError(f"{weights} holds a {meta.get('model')!r} checkpoint, not {MODEL_NAME}")
    saved = dict(meta.get("config") or {})
    try:
        cfg = dsiam_config(**saved)
    except (ConfigurationError, TypeError) as exc:
        raise CheckpointError(f"{weights}: its config does not build a dsiam_lite: {exc}") from exc
    conflicts = [f"{k}: file {saved.get(k)!r}, requested {v!r}" for k, v in config.items()
                 if k in saved and _plain(saved[k]) != _plain(v)]
    if conflicts or set(config) - set(saved):
        raise CheckpointError(f"{weights} was saved with other settings than requested: "
                              + "; ".join(conflicts + [f"{k}: not a saved setting" for k in set(config) - set(saved)]))
    model = DSiamModel(cfg)
    expected = trained_state(model)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or extra or shapes:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else []) + (
            [f"wrong shape {[(k, tuple(state[k].shape), tuple(expected[k].shape)) for k in shapes]}"] if shapes else [])
        raise CheckpointError(f"{weights} does not fit dsiam_lite: " + "; ".join(parts))
    bad = [k for k, v in state.items() if not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{weights} holds non-finite values in {bad}")
    model.load_state_dict(state, strict=False)
    log.info("model %s from %s", MODEL_NAME, weights)
    return model.eval()


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def build_dsiam_runtime(backend, features, device, weights=None, options=None):
    """Feature runtime of dsiam_lite for ``backend``: ONNX Runtime first where "auto" / "onnxruntime" /
    "tensorrt" (no TensorRT path: it falls back with a warning), PyTorch always works."""
    from fcot_ros.assembly.runtime_options import RuntimeOptions
    from fcot_ros.assembly.runtimes import _onnxruntime_importable
    from fcot_ros.runtime.dsiam_runtime import DSiamTorchRuntime, dsiam_onnx_runtime_for
    options = options or RuntimeOptions.from_environment()
    on_gpu = torch.device(device).type == "cuda"
    if backend == "torch" or (backend == "auto" and (on_gpu or not _onnxruntime_importable())):
        runtime, note = DSiamTorchRuntime(features, device), "requested" if backend == "torch" else "auto"
    else:
        note = "requested" if backend == "onnxruntime" else "auto"
        if backend == "tensorrt":
            log.warning("dsiam_lite has no TensorRT path; using ONNX Runtime")
            note = "no TensorRT path for dsiam_lite"
        try:
            runtime = dsiam_onnx_runtime_for(features, MODEL_NAME, weights=weights, device=device,
                                             cache_dir=options.cache_dir, threads=options.ort_threads,
                                             spin=options.ort_spin, arena=options.ort_arena)
        except Exception as exc:  # an optional backend must not stop the node
            log.warning("backend 'onnxruntime' could not be used (%s); falling back to 'torch'", exc)
            runtime, note = DSiamTorchRuntime(features, device), f"{note}; fell back: onnxruntime: {exc}"
    runtime.requested_backend = backend
    runtime.backend_note = note
    return runtime


def build_dsiam_tracker(backend, weights, preset, device, runtime_options=None, model_config=None, **overrides):
    """DSiamTracker of dsiam_lite (see fcot_ros.assembly.build_tracker for the arguments)."""
    from fcot_ros.tracker.dsiam_params import get_dsiam_params
    from fcot_ros.tracker.dsiam_tracker import DSiamTracker
    params = get_dsiam_params(preset, **overrides)
    model = load_dsiam_model(weights, **(model_config or {})).to(device)
    runtime = build_dsiam_runtime(backend, model.features, device, weights=weights, options=runtime_options)
    log.info("model %s, backend %s, device %s, preset %s", MODEL_NAME, runtime.name, device, preset)
    return DSiamTracker(model, runtime, params, model_name=MODEL_NAME)
