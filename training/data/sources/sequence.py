"""``TrainSequence``: one annotated training sequence as every source reader returns it."""
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError


def valid_boxes(boxes: np.ndarray) -> np.ndarray:
    """(N,) bool: rows of an (N, 4) xywh array that are finite with w > 0 and h > 0."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)   # NaN > 0 is False


@dataclass(eq=False, repr=False, slots=True)
class TrainSequence:
    """One training sequence (a video, or a single image for COCO), with lazy frame access.

    name:            sequence name within its source (e.g. "GOT-10k_Train_000001", "airplane-1").
    source:          the reader that made it ("got10k", "lasot", "trackingnet", "coco", "folder", "rosbag").
    boxes:           (N, 4) float64, x, y, w, h in image pixels of frame i (0-based frame index; the
                     dataset's own pixel origin is kept); NaN rows where the target has no box.
    frames:          frame store with ``len()``, ``read(i)`` and ``path(i)`` (see ``frames.py``); N frames.
    video:           group key for train/val splits: sequences of one video share it (default: name).
    visible:         (N,) bool, usable frames. Given flags (absent, fully occluded, out of view) are
                     combined with the box check: a frame without a finite box of w, h > 0 is never visible.
                     None = every frame with a valid box.
    confidence:      (N,) float32 in [0, 1], how certain each annotation is (1.0 for ordinary
                     ground truth; pseudo-labels may carry less). None = all 1.0.
    is_static_image: True for a single still image (COCO): pairs are made from it by augmentation.
    attributes:      free-form facts; per-sequence values (class, licence, ...) and per-frame (N,)
                     arrays (e.g. GOT-10k "visible_ratio" = cover / 8).
    num_frames:      N (set from ``boxes``).

    Picklable and light: it holds paths and small arrays, never decoded images.
    """

    name: str
    source: str
    boxes: np.ndarray
    frames: Any
    video: str = ""
    visible: Optional[np.ndarray] = None
    confidence: Optional[np.ndarray] = None
    is_static_image: bool = False
    attributes: Dict[str, Any] = field(default_factory=dict)
    num_frames: int = field(init=False, default=0)

    def __post_init__(self):
        where = f"{self.source} sequence {self.name}"
        boxes = np.asarray(self.boxes, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise DatasetError(f"{where}: boxes must be (N, 4) xywh, got shape {boxes.shape}")
        n = len(boxes)
        if n == 0:
            raise DatasetError(f"{where}: no frame")
        if len(self.frames) != n:
            raise DatasetError(f"{where}: {len(self.frames)} frames but {n} boxes")
        usable = valid_boxes(boxes)
        if self.visible is not None:
            flags = np.asarray(self.visible, dtype=bool).reshape(-1)
            if len(flags) != n:
                raise DatasetError(f"{where}: {len(flags)} visibility flags for {n} frames")
            usable &= flags
        confidence = np.ones(n, np.float32) if self.confidence is None else \
            np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        if len(confidence) != n:
            raise DatasetError(f"{where}: {len(confidence)} confidences for {n} frames")
        if not np.all(np.isfinite(confidence)) or confidence.min() < 0 or confidence.max() > 1:
            raise DatasetError(f"{where}: confidences must lie in [0, 1] "
                               f"(got {np.nanmin(confidence):g} .. {np.nanmax(confidence):g})")
        self.boxes, self.visible, self.confidence, self.num_frames = boxes, usable, confidence, n
        self.video = str(self.video or self.name)
        self.is_static_image = bool(self.is_static_image)

    def __len__(self) -> int:
        return self.num_frames

    def _index(self, i) -> int:
        i = operator.index(i)
        if not 0 <= i < self.num_frames:
            raise IndexError(f"{self.source} sequence {self.name}: frame {i} out of range 0..{self.num_frames - 1}")
        return i

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` (0-based) as an HxWx3 uint8 BGR array, read now (DatasetError naming the file if unreadable)."""
        return self.frames.read(self._index(i))

    def frame_path(self, i: int) -> Optional[str]:
        """The image file of frame ``i``, or None when frames are not files (rosbag without cache)."""
        return self.frames.path(self._index(i))

    def visible_indices(self) -> np.ndarray:
        """0-based indices of the usable frames, (K,) int64."""
        return np.flatnonzero(self.visible)

    def __repr__(self) -> str:
        return (f"TrainSequence(name={self.name!r}, source={self.source!r}, video={self.video!r}, "
                f"num_frames={self.num_frames}, visible={int(self.visible.sum())}, "
                f"is_static_image={self.is_static_image})")
