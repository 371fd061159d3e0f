"""OpenCV CSRT / KCF / MIL wrapped in the fcot_ros tracker API (initialize / track -> TrackResult).

These are the baselines every benchmark report puts beside FCOT, and a fallback a
user on a very small CPU can select in the ROS node (``model: opencv_csrt``).
"""
import time

import cv2

from fcot_ros.errors import ConfigurationError, InvalidImageError, NotInitializedError
from fcot_ros.tracker.result import LOST, TRACKING, TrackResult
from fcot_ros.tracker.validation import check_box, check_image

_FACTORIES = {
    "csrt": lambda: cv2.TrackerCSRT.create(),
    "kcf": lambda: cv2.TrackerKCF.create(),
    "mil": lambda: cv2.TrackerMIL.create(),
}

OPENCV_TRACKERS = tuple(_FACTORIES)


def _cv_message(exc) -> str:
    """The useful line of a cv2.error (its text holds the C++ file and function too)."""
    text = str(exc).strip().splitlines()
    return (getattr(exc, "err", None) or (text[-1] if text else type(exc).__name__)).strip()


class OpenCVTracker:
    """One OpenCV single-object tracker; ``kind`` is "csrt", "kcf" or "mil".

    score is 1.0 while OpenCV reports success and 0.0 (state "lost") when it does not;
    OpenCV gives no graded confidence. On failure the last good box is returned.
    """

    backend_name = "opencv"

    def __init__(self, kind: str = "csrt"):
        if kind not in _FACTORIES:
            raise ConfigurationError(f"unknown OpenCV tracker {kind!r}; choose one of {OPENCV_TRACKERS}")
        self.kind = kind
        self.model_name = f"opencv_{kind}"
        self._tracker = None
        self._box = None

    def initialize(self, image, box):
        """Start tracking ``box`` = (x, y, w, h) pixels in the HxWx3 uint8 BGR ``image``."""
        image = check_image(image)
        box = check_box(box, image.shape)
        tracker = _FACTORIES[self.kind]()
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
        return TrackResult(box=self._box, score=1.0 if ok else 0.0, state=TRACKING if ok else LOST,
                           timings={"total": elapsed})
