"""``build_tracker``: a ready-to-use tracker from a model name, weights, backend and preset."""
import logging

from fcot_ros.assembly.model_loading import load_model, resolve_device
from fcot_ros.assembly.registry import check_backend, model_spec, resolve_weights
from fcot_ros.assembly.runtime_options import RuntimeOptions
from fcot_ros.errors import ConfigurationError

log = logging.getLogger(__name__)


def build_tracker(model: str = "fcot_lite", backend: str = "auto", weights=None, preset: str = "default",
                  device=None, runtime_options: RuntimeOptions = None, model_config: dict = None, **overrides):
    """See fcot_ros.api.build_tracker."""
    spec = model_spec(model)
    backend = check_backend(backend)
    if spec.kind == "opencv":
        from fcot_ros.baselines.opencv_trackers import LEARNED, OpenCVTracker
        kind = model[len("opencv_"):]
        if overrides or model_config or (weights and kind not in LEARNED):
            raise ConfigurationError(f"{model} takes no {'' if kind in LEARNED else 'weights, '}model settings "
                                     "or tracker parameters")
        return OpenCVTracker(kind, model_dir=weights)
    from fcot_ros.assembly.runtimes import build_runtime
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    from fcot_ros.tracker.params import get_params
    params = get_params(preset, **overrides)
    weights = resolve_weights(spec, weights, preset)
    device = resolve_device(device)
    model_config = dict(model_config or {})
    if params.crop_size:                       # the tracker's crop size: the network runs at it
        model_config["crop_size"] = params.crop_size
    net = load_model(model, weights, **model_config).to(device)
    runtime = build_runtime(backend, net, device, weights=weights, options=runtime_options)
    log.info("model %s, backend %s, device %s, preset %s", model, runtime.name, device, preset)
    return FCOTTracker(net, runtime, params, model_name=model)
