"""``build_tracker``: the one public way to get a tracker (stable API used by the node, CLI, eval)."""
from fcot_ros.baselines.opencv_trackers import OPENCV_TRACKERS, OpenCVTracker

FCOT_MODELS = ("fcot_lite", "fcot_r50")
MODELS = FCOT_MODELS + tuple(f"opencv_{k}" for k in OPENCV_TRACKERS)
BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")


def build_tracker(model: str = "fcot_lite", backend: str = "auto", weights=None,
                  preset: str = "default", device=None, **overrides):
    """Build a ready-to-use single-object tracker.

    model:    "fcot_lite" (EfficientNet-Lite0, embedded default), "fcot_r50" (the paper's
              network; needs ``weights``), or a baseline "opencv_csrt" | "opencv_kcf" | "opencv_mil".
    backend:  runtime of the frozen feature network: "auto" | "torch" | "onnxruntime" | "tensorrt".
    weights:  path to a checkpoint (ours, or the authors' fcot.pth); None = built-in weights.
    preset:   name of a parameter preset (see fcot_ros.tracker.params.PRESETS).
    device:   "cpu" | "cuda" | None (auto).
    overrides: individual tracker parameters that replace the preset's values.

    Returns an object with ``initialize(image, (x, y, w, h))`` and ``track(image) -> TrackResult``.
    """
    if model.startswith("opencv_"):
        return OpenCVTracker(model[len("opencv_"):])
    if model not in FCOT_MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {MODELS}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    from fcot_ros.tracker.factory import build_fcot_tracker
    return build_fcot_tracker(model=model, backend=backend, weights=weights, preset=preset,
                              device=device, **overrides)
