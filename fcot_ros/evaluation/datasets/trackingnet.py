"""TrackingNet test set in its official layout: ``<root>/TEST/frames/<seq>/0.jpg, 1.jpg, ...`` and
``<root>/TEST/anno/<seq>.txt`` holding only the first box (x, y, w, h). ``root`` may be the TEST
folder itself. Ground truth after frame 1 is unknown: results go to the evaluation server
(submission zip of ``<seq>.txt`` files).
"""
from pathlib import Path

import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError, list_images, read_boxes, require_dir, select
from fcot_ros.evaluation.sequence import Sequence

EXPECTED = "<root>/TEST/frames/<sequence>/0.jpg and <root>/TEST/anno/<sequence>.txt (TrackingNet)"


def load(root, sequences=None):
    """TrackingNet test sequences under ``root``, sorted by name."""
    root = require_dir(root, "TrackingNet root", EXPECTED)
    base = root / "TEST" if (root / "TEST").is_dir() else root
    frames_dir, anno_dir = base / "frames", base / "anno"
    if not frames_dir.is_dir() or not anno_dir.is_dir():
        raise DatasetError(f"TrackingNet root {root}: {frames_dir} or {anno_dir} is missing; expected {EXPECTED}")
    names = sorted(p.stem for p in anno_dir.glob("*.txt"))
    if not names:
        raise DatasetError(f"TrackingNet root {root}: no annotation in {anno_dir}; expected {EXPECTED}")
    out = []
    for name in select(names, sequences, f"TrackingNet root {root}"):
        frames = [str(p) for p in list_images(frames_dir / name)] if (frames_dir / name).is_dir() else []
        if not frames:
            raise DatasetError(f"TrackingNet {name}: no frames in {frames_dir / name}")
        boxes = read_boxes(anno_dir / f"{name}.txt")
        has_gt = len(boxes) == len(frames)
        if not has_gt:
            boxes = np.vstack([boxes[:1], np.full((len(frames) - 1, 4), np.nan)])
        out.append(Sequence(name=name, dataset="trackingnet", frames=frames, ground_truth=boxes,
                            has_ground_truth=has_gt))
    return out
