"""``build_tracker``: a ready-to-use tracker from a model name, weights, backend and preset (the one
home of the public ``fcot_ros.build_tracker``, which ``fcot_ros`` and ``fcot_ros.api`` re-export)."""
import logging

from fcot_ros.assembly.model_loading import load_model, resolve_device
from fcot_ros.assembly.registry import check_backend, model_spec, resolve_weights
from fcot_ros.assembly.runtime_options import RuntimeOptions
from fcot_ros.errors import ConfigurationError

log = logging.getLogger(__name__)


def crop_settings(params) -> dict:
    """Model settings that make the network run at the tracker's crop: {"crop_size": N} for a preset
    with crop_size N, {} for 0 (the network's own, 288). FCOTTracker refuses a network of another crop."""
    return {"crop_size": int(params.crop_size)} if params.crop_size else {}


def build_tracker(model: str = "fcot_lite", backend: str = "auto", weights=None, preset: str = "default",
                  device=None, runtime_options: RuntimeOptions = None, model_config: dict = None, **overrides):
    """Build a ready-to-use single-object tracker.

    model:    "fcot_lite" (EfficientNet-Lite0, embedded default), "fcot_r50" (the paper's
              network; needs ``weights``), "dsiam_lite" (the Dynamic Siamese tracker), or a
              baseline "opencv_csrt" | "opencv_kcf" | "opencv_mil" |
              "opencv_nano" (fcot_ros.assembly.MODEL_NAMES).
    backend:  runtime of the frozen feature network: "auto" | "tensorrt" | "onnxruntime" | "torch".
    weights:  path to a checkpoint (ours, or the authors' fcot.pth); None = built-in weights. The model
              is rebuilt with the checkpoint's settings. For opencv_nano: the folder of NanoTrack v2's
              two ONNX files (None: ``$FCOT_NANO_DIR``).
    preset:   name of a parameter preset (fcot_ros.tracker.params.PRESETS; for dsiam_lite
              fcot_ros.tracker.dsiam_params.PRESETS).
    device:   "cpu" | "cuda" | None (auto).
    overrides: individual tracker parameters that replace the preset's values (e.g.
              ``compat="authors"``).
    runtime_options: fcot_ros.assembly.RuntimeOptions (threads, cache folder, ...); None = from the
              environment.
    model_config: model settings (e.g. ``{"crop_size": 320}``), refused when they contradict the
              checkpoint.

    Returns an object with ``initialize(image, (x, y, w, h))`` and ``track(image) -> TrackResult``.
    Unknown names raise fcot_ros.errors.ConfigurationError.
    """
    spec = model_spec(model)
    backend = check_backend(backend)
    if spec.kind == "opencv":
        from fcot_ros.baselines.opencv_trackers import LEARNED, OpenCVTracker
        kind = model[len("opencv_"):]
        if overrides or model_config or (weights and kind not in LEARNED):
            raise ConfigurationError(f"{model} takes no {'' if kind in LEARNED else 'weights, '}model settings "
                                     "or tracker parameters")
        return OpenCVTracker(kind, model_dir=weights)
    if spec.kind == "dsiam":
        from fcot_ros.assembly.dsiam_loading import build_dsiam_tracker
        return build_dsiam_tracker(backend, resolve_weights(spec, weights, preset), preset, resolve_device(device),
                                   runtime_options, model_config, **overrides)
    from fcot_ros.assembly.runtimes import build_runtime
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    from fcot_ros.tracker.params import get_params
    params = get_params(preset, **overrides)
    weights = resolve_weights(spec, weights, preset)
    device = resolve_device(device)
    model_config = dict(model_config or {})
    model_config.update(crop_settings(params))     # the tracker's crop size: the network runs at it
    net = load_model(model, weights, **model_config).to(device)
    runtime = build_runtime(backend, net, device, weights=weights, options=runtime_options)
    log.info("model %s, backend %s, device %s, preset %s", model, runtime.name, device, preset)
    return FCOTTracker(net, runtime, params, model_name=model)
