"""``Sequence``: one annotated video (or one still image) as every reader returns it, whatever the
layout it was read from; evaluation (OPE) and training use the same objects."""
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np

from fcot_ros.datasets.frames import FrameSlice, ImageFiles, iter_store
from fcot_ros.errors import DatasetError


def valid_boxes(boxes: np.ndarray) -> np.ndarray:
    """(N,) bool: rows of an (N, 4) xywh array that are finite with w > 0 and h > 0."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)   # NaN > 0 is False


@dataclass(eq=False, repr=False)
class Sequence:
    """One sequence of a dataset, with lazy random access to its frames.

    name:             sequence name as the dataset spells it (result files are named after it).
    dataset:          the reader that made it ("otb", "got10k", "folder", "rosbag", ...).
    frames:           frame store (``fcot_ros.datasets.frames``: ``len``, ``read(i)``, ``path(i)``), or a
                      list of image paths (turned into an ``ImageFiles``); N frames.
    boxes:            (N, 4) float64, x, y, w, h in image pixels of frame i (0-based; the dataset's own
                      pixel origin is kept); NaN rows where the box is absent or unknown. None = no
                      annotation at all (unlabeled video): all NaN and ``has_ground_truth`` False.
    absent:           optional (N,) bool, the dataset's flags of frames where the target is not visible
                      (absent, fully occluded, out of view); OPE does not score them.
    confidence:       (N,) float32 in [0, 1], how certain each box is (1.0 for ground truth; pseudo-labels
                      carry less). None = all 1.0.
    video:            group key for train/val splits: sequences cut from one video share it (default: name).
    tags:             challenge attributes of the whole sequence (OTB "OCC", LaSOT class, ...): the
                      per-attribute breakdown of OPE reports.
    attributes:       free-form facts: per-sequence values (licence, topic, meta.json, ...) and per-frame
                      (N,) arrays (e.g. GOT-10k "visible_ratio" = cover / 8).
    has_ground_truth: False for test splits that publish only the first box (scored by a server).
    is_static_image:  True for a single still image (COCO): training makes pairs from it by augmentation.

    Derived: ``visible`` (N,) bool = a finite box with w, h > 0 and not flagged absent (the frames
    training may sample); ``num_frames`` = N. Picklable and light: paths and small arrays only.
    """

    name: str
    dataset: str
    frames: Any
    boxes: Optional[np.ndarray] = None
    absent: Optional[np.ndarray] = None
    confidence: Optional[np.ndarray] = None
    video: str = ""
    tags: Tuple[str, ...] = ()
    attributes: Dict[str, Any] = field(default_factory=dict)
    has_ground_truth: bool = True
    is_static_image: bool = False
    visible: np.ndarray = field(init=False)
    num_frames: int = field(init=False, default=0)

    def __post_init__(self):
        where = f"{self.dataset} sequence {self.name}"
        if isinstance(self.frames, (list, tuple)):
            self.frames = ImageFiles.of(self.frames)
        n = len(self.frames)
        if self.boxes is None:
            self.boxes, self.has_ground_truth = np.full((n, 4), np.nan), False
        boxes = np.asarray(self.boxes, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise DatasetError(f"{where}: boxes must be (N, 4) xywh, got shape {boxes.shape}")
        if len(boxes) == 0:
            raise DatasetError(f"{where}: no frame")
        if n != len(boxes):
            raise DatasetError(f"{where}: {n} frames but {len(boxes)} boxes")
        usable = valid_boxes(boxes)
        if self.absent is not None:
            self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)
            if len(self.absent) != n:
                raise DatasetError(f"{where}: {len(self.absent)} absence flags for {n} frames")
            usable &= ~self.absent
        confidence = np.ones(n, np.float32) if self.confidence is None else \
            np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        if len(confidence) != n:
            raise DatasetError(f"{where}: {len(confidence)} confidences for {n} frames")
        if not np.all(np.isfinite(confidence)) or confidence.min() < 0 or confidence.max() > 1:
            raise DatasetError(f"{where}: confidences must lie in [0, 1] "
                               f"(got {np.nanmin(confidence):g} .. {np.nanmax(confidence):g})")
        self.boxes, self.visible, self.confidence, self.num_frames = boxes, usable, confidence, n
        self.video = str(self.video or self.name)
        self.tags = tuple(self.tags)
        self.is_static_image = bool(self.is_static_image)

    def __len__(self) -> int:
        return self.num_frames

    @property
    def ground_truth(self) -> np.ndarray:
        """The (N, 4) xywh boxes (the name OPE code uses)."""
        return self.boxes

    @property
    def init_box(self) -> Tuple[float, float, float, float]:
        """The first frame's box, (x, y, w, h) pixels; DatasetError if it has none (OPE needs it)."""
        if not valid_boxes(self.boxes[:1])[0]:
            raise DatasetError(f"sequence {self.name}: the first frame has no valid box "
                               f"({self.boxes[0].tolist()}); OPE needs it to initialise")
        return tuple(float(v) for v in self.boxes[0])

    def _index(self, i) -> int:
        i = operator.index(i)
        if not 0 <= i < self.num_frames:
            raise IndexError(f"{self.dataset} sequence {self.name}: frame {i} out of range 0..{self.num_frames - 1}")
        return i

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` (0-based) as an HxWx3 uint8 BGR array, read now (DatasetError naming the file if unreadable)."""
        return self.frames.read(self._index(i))

    def frame_path(self, i: int) -> Optional[str]:
        """The image file of frame ``i``, or None when frames are not files (rosbag without cache)."""
        return self.frames.path(self._index(i))

    def frame_paths(self):
        """[frame_path(i) for every frame]."""
        return [self.frames.path(i) for i in range(self.num_frames)]

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Every frame in order as HxWx3 uint8 BGR (streamed when the store streams, e.g. a rosbag)."""
        return iter_store(self.frames)

    def visible_indices(self) -> np.ndarray:
        """0-based indices of the usable frames, (K,) int64."""
        return np.flatnonzero(self.visible)

    def segment(self, start: int, stop: int) -> "Sequence":
        """Frames ``start .. stop - 1`` as a Sequence of their own (same name, dataset, video, tags);
        per-frame arrays (boxes, flags, confidence, per-frame attributes) are cut alike."""
        cut = lambda a: a[start:stop]  # noqa: E731
        attributes = {k: (cut(v) if isinstance(v, np.ndarray) and v.shape[:1] == (self.num_frames,) else v)
                      for k, v in self.attributes.items()}
        return Sequence(name=self.name, dataset=self.dataset, frames=FrameSlice(self.frames, start, stop),
                        boxes=cut(self.boxes), absent=None if self.absent is None else cut(self.absent),
                        confidence=cut(self.confidence), video=self.video, tags=self.tags,
                        attributes=attributes, has_ground_truth=self.has_ground_truth,
                        is_static_image=self.is_static_image)

    def __repr__(self) -> str:
        return (f"Sequence(name={self.name!r}, dataset={self.dataset!r}, video={self.video!r}, "
                f"num_frames={self.num_frames}, visible={int(self.visible.sum())}, "
                f"is_static_image={self.is_static_image})")
