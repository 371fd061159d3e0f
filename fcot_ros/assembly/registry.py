"""The one list of models and the one list of backends (api, CLI, evaluation and the ROS parameters
all read them from here)."""
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

from fcot_ros.baselines.opencv_trackers import OPENCV_TRACKERS
from fcot_ros.errors import ConfigurationError


@dataclass(frozen=True)
class ModelSpec:
    """A model of the registry: name, kind ("fcot" or "opencv"), description and default weights file."""

    name: str
    kind: str                  # "fcot" (built by models.build_model) | "dsiam" (DSiamModel) | "opencv" (a baseline)
    description: str
    needs_weights: bool = False
    default_weights: str = ""  # file in fcot_ros/data/weights/ loaded when no weights are given


FCOT_MODELS: Tuple[ModelSpec, ...] = (
    ModelSpec("fcot_lite", "fcot", "EfficientNet-Lite0 FCOT, the embedded default (CPU), trained offline",
              default_weights="fcot_lite.pt"),
    ModelSpec("fcot_r50", "fcot", "the paper's ResNet-50 FCOT; needs weights (the authors' fcot.pth or ours)",
              needs_weights=True),
)
DSIAM_MODELS: Tuple[ModelSpec, ...] = (
    ModelSpec("dsiam_lite", "dsiam", "Dynamic Siamese tracker (DSiam, ICCV 2017) on fcot_lite's EfficientNet-Lite0 "
              "trunk: online V and W transforms, two-level fusion, trained on 10-frame clips",
              default_weights="dsiam_lite.pt"),
)
BASELINE_MODELS: Tuple[ModelSpec, ...] = tuple(
    ModelSpec(f"opencv_{k}", "opencv", "OpenCV TrackerNano (NanoTrack v2) baseline; its two ONNX files: weights "
              "= their folder, or $FCOT_NANO_DIR" if k == "nano" else f"OpenCV {k.upper()} baseline")
    for k in OPENCV_TRACKERS)
MODELS = {spec.name: spec for spec in FCOT_MODELS + DSIAM_MODELS + BASELINE_MODELS}
MODEL_NAMES: Tuple[str, ...] = tuple(MODELS)
FCOT_MODEL_NAMES: Tuple[str, ...] = tuple(spec.name for spec in FCOT_MODELS)

# presets that run their model's hand-initialised network when no weights are given (not the
# shipped trained weights): the training-free setting, kept for comparison
UNTRAINED_PRESETS: Tuple[str, ...] = ("training_free",)
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "data" / "weights"
# fcot_lite's full network (3x3 heads), the teacher of the shipped separable weights (training.distill)
FULL_WEIGHTS = "fcot_lite_full.pt"

# "auto" first; then the order in which the fallback chain tries the real ones
BACKENDS: Tuple[str, ...] = ("auto", "tensorrt", "onnxruntime", "torch")


def model_spec(name: str) -> ModelSpec:
    """The ModelSpec of ``name``; an unknown name raises ConfigurationError."""
    if name not in MODELS:
        raise ConfigurationError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return MODELS[name]


def check_backend(name) -> str:
    """The normalised backend name; unknown ones are refused."""
    backend = (name or "auto").strip().lower()
    if backend not in BACKENDS:
        raise ConfigurationError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return backend


def resolve_weights(spec: ModelSpec, weights, preset: str):
    """The checkpoint a tracker of ``spec`` uses: ``weights`` when given; None (the hand-initialised
    network) for an untrained preset; else the model's shipped weights file, which must exist
    (a missing one is an error naming it, never a silent fall-back to untrained heads)."""
    from fcot_ros.errors import CheckpointError
    if weights:
        return weights
    if preset in UNTRAINED_PRESETS or not spec.default_weights:
        return None
    path = WEIGHTS_DIR / spec.default_weights
    if not path.is_file():
        raise CheckpointError(f"the shipped weights of {spec.name} are missing: {path} (reinstall the package, or "
                              f"pass weights=... or preset='training_free' for the untrained network)")
    return str(path)
