"""``Sequence``: one annotated video as every reader returns it, independent of the benchmark layout."""
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence as SequenceType, Tuple, Union

import cv2
import numpy as np


class FrameSource:
    """Interface of a non-file frame source (e.g. a rosbag2 topic): iterable of HxWx3 uint8 BGR images,
    with ``len()``. Must be picklable so that sequences can go to worker processes."""

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


@dataclass
class Sequence:
    """One sequence of a benchmark.

    name:         sequence name as the benchmark's toolkits spell it (result files are named after it).
    dataset:      reader name ("otb", "uav123", ...).
    frames:       list of image file paths in tracking order, or a FrameSource.
    ground_truth: (N, 4) float64 xywh pixels per frame; NaN rows = target absent or unknown
                  (test splits only publish the first box: ``has_ground_truth`` is then False).
    absent:       optional (N,) bool, benchmark flags of frames where the target is not visible.
    attributes:   challenge attributes of the whole sequence (e.g. OTB "OCC", LaSOT class).
    """

    name: str
    dataset: str
    frames: Union[SequenceType[str], FrameSource]
    ground_truth: np.ndarray
    absent: Optional[np.ndarray] = None
    attributes: Tuple[str, ...] = ()
    has_ground_truth: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.ground_truth = np.asarray(self.ground_truth, dtype=np.float64).reshape(-1, 4)
        if len(self.frames) != len(self.ground_truth):
            raise ValueError(f"sequence {self.name}: {len(self.frames)} frames but "
                             f"{len(self.ground_truth)} ground-truth rows")
        if self.absent is not None:
            self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)
            if len(self.absent) != len(self.ground_truth):
                raise ValueError(f"sequence {self.name}: {len(self.absent)} absence flags for "
                                 f"{len(self.ground_truth)} frames")
        if not np.all(np.isfinite(self.ground_truth[0])) or np.any(self.ground_truth[0, 2:] <= 0):
            raise ValueError(f"sequence {self.name}: the first frame has no valid box "
                             f"({self.ground_truth[0].tolist()}); OPE needs it to initialise")
        self.attributes = tuple(self.attributes)

    def __len__(self) -> int:
        return len(self.ground_truth)

    @property
    def init_box(self) -> Tuple[float, float, float, float]:
        """The first frame's box, (x, y, w, h) pixels."""
        return tuple(float(v) for v in self.ground_truth[0])

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield the frames as HxWx3 uint8 BGR arrays (grey images are converted)."""
        if isinstance(self.frames, FrameSource):
            yield from self.frames
            return
        for path in self.frames:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise IOError(f"sequence {self.name}: cannot read image {path}")
            yield image
