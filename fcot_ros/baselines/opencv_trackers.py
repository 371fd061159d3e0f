"""OpenCV CSRT / KCF / MIL / NanoTrack wrapped in the fcot_ros tracker API (initialize / track -> TrackResult).

These are the baselines every benchmark report puts beside FCOT, and a fallback a
user on a very small CPU can select in the ROS node (``model: opencv_csrt``).

``opencv_nano`` is OpenCV's learned tracker (cv2.TrackerNano, NanoTrack v2). It needs two ONNX files
that no package ships: the folder holding them is the tracker's ``weights`` (build_tracker(
"opencv_nano", weights=folder)), else the folder named by ``$FCOT_NANO_DIR``.
"""
import os
import time
from pathlib import Path

import cv2

from fcot_ros.contract import LOST, TRACKING, Tracker, TrackResult
from fcot_ros.contract.validation import check_box, check_image
from fcot_ros.errors import CheckpointError, ConfigurationError, InvalidImageError, NotInitializedError

NANO_FILES = ("nanotrack_backbone_sim_v2.onnx", "nanotrack_head_sim_v2.onnx")   # backbone, neck + head
NANO_DIR_VARIABLE = "FCOT_NANO_DIR"


def nanotrack_files(folder=None, environ=None):
    """(backbone, head) paths of NanoTrack v2 in ``folder``, else in ``$FCOT_NANO_DIR``.

    Raises CheckpointError naming what is missing (no folder given, or the files not in it).
    """
    environ = os.environ if environ is None else environ
    where = folder or environ.get(NANO_DIR_VARIABLE) or ""
    if not where:
        raise CheckpointError(f"opencv_nano needs NanoTrack v2's ONNX files ({', '.join(NANO_FILES)}): pass "
                              f"their folder as weights or set ${NANO_DIR_VARIABLE}")
    paths = tuple(Path(where).expanduser() / name for name in NANO_FILES)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        source = "weights" if folder else f"${NANO_DIR_VARIABLE}"
        raise CheckpointError(f"opencv_nano: {', '.join(missing)} not found (folder {where!r} from {source}); "
                              f"the folder must hold {' and '.join(NANO_FILES)}")
    return paths


def _nano(model_dir):
    backbone, head = nanotrack_files(model_dir)
    params = cv2.TrackerNano_Params()
    params.backbone, params.neckhead = str(backbone), str(head)
    try:
        return cv2.TrackerNano_create(params)
    except cv2.error as exc:            # e.g. a file that is not ONNX
        raise CheckpointError(f"opencv_nano: OpenCV could not load {backbone} / {head}: {_cv_message(exc)}") from exc


_FACTORIES = {
    "csrt": lambda model_dir: cv2.TrackerCSRT.create(),
    "kcf": lambda model_dir: cv2.TrackerKCF.create(),
    "mil": lambda model_dir: cv2.TrackerMIL.create(),
    "nano": _nano,
}
LEARNED = ("nano",)                 # trackers with model files (their ``weights``)

OPENCV_TRACKERS = tuple(_FACTORIES)


def _cv_message(exc) -> str:
    """The useful line of a cv2.error (its text holds the C++ file and function too)."""
    text = str(exc).strip().splitlines()
    return (getattr(exc, "err", None) or (text[-1] if text else type(exc).__name__)).strip()


class OpenCVTracker(Tracker):
    """One OpenCV single-object tracker; ``kind`` is "csrt", "kcf", "mil" or "nano".

    Implements the tracker contract (fcot_ros.contract.Tracker): it cannot rescale its state
    (OpenCV keeps it inside), and its step runs no torch work.

    score: NanoTrack's own confidence (getTrackingScore, 0..1); for the others 1.0 while OpenCV
    reports success (they give no graded confidence). When OpenCV reports failure the state is
    "lost", the score 0.0 and the last good box is returned.
    model_dir: NanoTrack's folder (see ``nanotrack_files``); the others take none. The model files
    are checked here, so that a missing one fails at construction, not at the first box.
    """

    backend_name = "opencv"

    def __init__(self, kind: str = "csrt", model_dir=None):
        if kind not in _FACTORIES:
            raise ConfigurationError(f"unknown OpenCV tracker {kind!r}; choose one of {OPENCV_TRACKERS}")
        if model_dir and kind not in LEARNED:
            raise ConfigurationError(f"opencv_{kind} takes no model files")
        self.kind = kind
        self.model_name = f"opencv_{kind}"
        self.model_dir = model_dir
        if kind in LEARNED:
            _FACTORIES[kind](model_dir)            # fail now when the files are missing or unreadable
        self._tracker = None
        self._box = None

    def initialize(self, image, box):
        """Start tracking ``box`` = (x, y, w, h) pixels in the HxWx3 uint8 BGR ``image``."""
        image = check_image(image)
        box = check_box(box, image.shape)
        tracker = _FACTORIES[self.kind](self.model_dir)
        try:
            tracker.init(image, tuple(int(round(v)) for v in box))
        except cv2.error as exc:       # e.g. MIL on an image or box too small for its sampling
            raise InvalidImageError(f"OpenCV {self.kind.upper()} cannot start on this {image.shape[1]}x"
                                    f"{image.shape[0]} image with box {tuple(round(v, 1) for v in box)}: "
                                    f"{_cv_message(exc)}") from exc
        self._tracker = tracker
        self._box = tuple(float(v) for v in box)

    def track(self, image) -> TrackResult:
        """Locate the target in the next frame."""
        if self._tracker is None:
            raise NotInitializedError("track() called before initialize()")
        image = check_image(image)
        start = time.perf_counter()
        try:
            ok, box = self._tracker.update(image)
        except cv2.error as exc:
            raise InvalidImageError(f"OpenCV {self.kind.upper()} failed on this {image.shape[1]}x"
                                    f"{image.shape[0]} image: {_cv_message(exc)}") from exc
        elapsed = (time.perf_counter() - start) * 1e3
        if ok:
            self._box = tuple(float(v) for v in box)
        score = (float(self._tracker.getTrackingScore()) if self.kind == "nano" else 1.0) if ok else 0.0
        return TrackResult(box=self._box, score=score, state=TRACKING if ok else LOST, timings={"total": elapsed})
