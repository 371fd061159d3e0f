"""TrackingNet in its official layout: the test set (``trackingnet``) and the training chunks
(``trackingnet_train``).

    root/TEST/anno/<seq>.txt            first box only (x,y,w,h pixels); results go to the server
    root/TEST/frames/<seq>/0.jpg, 1.jpg, ...
    root/TRAIN_0/anno/<seq>.txt         x,y,w,h pixels per frame
    root/TRAIN_0/frames/<seq>/0.jpg, 1.jpg, ...
    ...
    root/TRAIN_11/...

Test (``load_test``): ``root`` may also be the TEST folder; a sequence whose file has fewer boxes than
frames keeps its first box only (``has_ground_truth`` False; submission zip of ``<seq>.txt`` files).
Train (``load_train``): ``chunks`` picks chunks by number (default: every TRAIN_0..TRAIN_11 present; the
FCOT paper uses 0-3); asking for a missing chunk is refused naming it. Sequence names are YouTube ids
plus ``_<k>``; ``video`` is the YouTube id, so that sequences cut from one video stay together.
Attribute: ``chunk`` (int).
"""
import operator
import re
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from fcot_ros.datasets.frames import check_counts, image_files
from fcot_ros.datasets.parsing import list_images, read_boxes, read_groundtruth, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

EXPECTED = "root/TRAIN_<k>/anno/<sequence>.txt and root/TRAIN_<k>/frames/<sequence>/0.jpg (k = 0..11)"
TEST_EXPECTED = "<root>/TEST/frames/<sequence>/0.jpg and <root>/TEST/anno/<sequence>.txt (TrackingNet)"
NUM_CHUNKS = 12
_CLIP_SUFFIX = re.compile(r"_\d+$")


def video_of(name: str) -> str:
    """The YouTube id of a TrackingNet sequence name (``abc_XYZ-123_4`` -> ``abc_XYZ-123``)."""
    return _CLIP_SUFFIX.sub("", name) or name


def load_test(root, sequences=None) -> List[Sequence]:
    """TrackingNet test sequences under ``root``, sorted by name."""
    root = require_dir(root, "TrackingNet root", TEST_EXPECTED)
    base = root / "TEST" if (root / "TEST").is_dir() else root
    frames_dir, anno_dir = base / "frames", base / "anno"
    if not frames_dir.is_dir() or not anno_dir.is_dir():
        raise DatasetError(f"TrackingNet root {root}: {frames_dir} or {anno_dir} is missing; expected {TEST_EXPECTED}")
    names = sorted(p.stem for p in anno_dir.glob("*.txt"))
    if not names:
        raise DatasetError(f"TrackingNet root {root}: no annotation in {anno_dir}; expected {TEST_EXPECTED}")
    out = []
    for name in select(names, sequences, f"TrackingNet root {root}"):
        frames = [str(p) for p in list_images(frames_dir / name)] if (frames_dir / name).is_dir() else []
        if not frames:
            raise DatasetError(f"TrackingNet {name}: no frames in {frames_dir / name}")
        boxes = read_boxes(anno_dir / f"{name}.txt")
        has_gt = len(boxes) == len(frames)
        if not has_gt:
            boxes = np.vstack([boxes[:1], np.full((len(frames) - 1, 4), np.nan)])
        out.append(Sequence(name=name, dataset="trackingnet", frames=frames, boxes=boxes,
                            video=video_of(name), has_ground_truth=has_gt))
    return out


def _chunk_numbers(root: Path, chunks: Optional[Iterable[int]]) -> List[int]:
    present = [k for k in range(NUM_CHUNKS) if (root / f"TRAIN_{k}").is_dir()]
    if chunks is None:
        if not present:
            raise DatasetError(f"TrackingNet: no TRAIN_<k> folder in {root}; expected {EXPECTED}")
        return present
    if isinstance(chunks, (int, str)):
        chunks = [chunks]
    wanted = []
    for value in chunks:
        try:
            k = None if isinstance(value, bool) else operator.index(value)
        except TypeError:
            k = None
        if k is None or not 0 <= k < NUM_CHUNKS:
            raise DatasetError(f"TrackingNet: chunks must be integers 0..{NUM_CHUNKS - 1}, got {value!r}")
        if k not in wanted:
            wanted.append(k)
    missing = [k for k in wanted if k not in present]
    if missing:
        have = ", ".join(f"TRAIN_{k}" for k in present) or "none"
        raise DatasetError(f"TrackingNet: chunk(s) {', '.join(f'TRAIN_{k}' for k in missing)} not found "
                           f"in {root} (have: {have})")
    return wanted


def load_chunk(root: Path, k: int) -> List[Sequence]:
    """The sequences of ``root/TRAIN_<k>``, sorted by name."""
    chunk = root / f"TRAIN_{k}"
    anno, frames_dir = chunk / "anno", chunk / "frames"
    for folder in (anno, frames_dir):
        if not folder.is_dir():
            raise DatasetError(f"TrackingNet: {folder} not found; expected {EXPECTED}")
    names = sorted(p.stem for p in anno.glob("*.txt"))
    if not names:
        raise DatasetError(f"TrackingNet: no <sequence>.txt in {anno}; expected {EXPECTED}")
    out = []
    for name in names:
        what = f"TrackingNet TRAIN_{k}/{name}"
        frames = image_files(frames_dir / name, what)
        groundtruth = anno / f"{name}.txt"
        boxes = read_groundtruth(groundtruth, what)
        check_counts(frames, boxes, groundtruth, what)
        out.append(Sequence(name=name, dataset="trackingnet", boxes=boxes, frames=frames,
                            video=video_of(name), attributes={"chunk": k}))
    return out


def load_train(root, chunks: Optional[Iterable[int]] = None) -> List[Sequence]:
    """TrackingNet sequences of ``chunks`` (list of ints 0..11; default all present), chunk by chunk."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"TrackingNet: root {root} is not a directory; expected {EXPECTED}")
    out = []
    for k in _chunk_numbers(root, chunks):
        out.extend(load_chunk(root, k))
    return out
