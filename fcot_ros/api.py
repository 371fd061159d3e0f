"""``build_tracker``: the one public way to get a tracker (stable API used by the node, CLI, eval)."""
from fcot_ros.assembly import BACKENDS, MODEL_NAMES  # noqa: F401  (re-exported for callers)


def build_tracker(model: str = "fcot_lite", backend: str = "auto", weights=None, preset: str = "default",
                  device=None, **overrides):
    """Build a ready-to-use single-object tracker.

    model:    "fcot_lite" (EfficientNet-Lite0, embedded default), "fcot_r50" (the paper's
              network; needs ``weights``), or a baseline "opencv_csrt" | "opencv_kcf" | "opencv_mil" |
              "opencv_nano" (fcot_ros.assembly.MODEL_NAMES).
    backend:  runtime of the frozen feature network: "auto" | "tensorrt" | "onnxruntime" | "torch".
    weights:  path to a checkpoint (ours, or the authors' fcot.pth); None = built-in weights. The model
              is rebuilt with the checkpoint's settings. For opencv_nano: the folder of NanoTrack v2's
              two ONNX files (None: ``$FCOT_NANO_DIR``).
    preset:   name of a parameter preset (see fcot_ros.tracker.params.PRESETS).
    device:   "cpu" | "cuda" | None (auto).
    overrides: individual tracker parameters that replace the preset's values (e.g.
              ``compat="authors"``); ``runtime_options=RuntimeOptions(...)`` and ``model_config={...}``
              (model settings, refused when they contradict the checkpoint) are passed on as well.

    Returns an object with ``initialize(image, (x, y, w, h))`` and ``track(image) -> TrackResult``.
    Unknown names raise fcot_ros.errors.ConfigurationError.
    """
    from fcot_ros.assembly.trackers import build_tracker as _build
    return _build(model=model, backend=backend, weights=weights, preset=preset, device=device, **overrides)
