"""LaSOT (test set) in its official layout:
``<root>/<class>/<class>-<k>/img/00000001.jpg`` with ``groundtruth.txt`` (x,y,w,h per line),
``full_occlusion.txt`` and ``out_of_view.txt`` (one comma-separated line of 0/1 per frame).
The flat layout of the test download (``<root>/<class>-<k>/...``) is accepted too.

If ``<root>/testing_set.txt`` exists, only the sequences it lists are used (the 280 test sequences);
otherwise every sequence present. Frames flagged fully occluded or out of view are absent: not scored.
The class name is the sequence's attribute (per-class breakdown).
"""
from pathlib import Path

import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError, list_images, read_boxes, read_flags, require_dir, select
from fcot_ros.evaluation.sequence import Sequence

EXPECTED = "<root>/<class>/<class>-<k>/img/00000001.jpg and groundtruth.txt (LaSOT)"


def _is_sequence(folder: Path) -> bool:
    return (folder / "img").is_dir() and (folder / "groundtruth.txt").is_file()


def _flags(path: Path, n: int) -> np.ndarray:
    if not path.is_file():
        return np.zeros(n, dtype=bool)
    flags = read_flags(path)
    if len(flags) != n:
        raise DatasetError(f"LaSOT: {path} has {len(flags)} flags for {n} frames")
    return flags


def load(root, sequences=None):
    """LaSOT sequences under ``root`` (test split if testing_set.txt is there), sorted by name."""
    root = require_dir(root, "LaSOT root", EXPECTED)
    found = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if _is_sequence(child):
            found[child.name] = child
            continue
        for grandchild in sorted(p for p in child.iterdir() if p.is_dir()):
            if _is_sequence(grandchild):
                found[grandchild.name] = grandchild
    if not found:
        raise DatasetError(f"LaSOT root {root}: no sequence found; expected {EXPECTED}")
    names = sorted(found)
    split = root / "testing_set.txt"
    if split.is_file():
        listed = [line.strip() for line in split.read_text().splitlines() if line.strip()]
        names = [n for n in listed if n in found]
        if not names:
            raise DatasetError(f"LaSOT root {root}: none of the sequences in {split} is present")
    out = []
    for name in select(names, sequences, f"LaSOT root {root}"):
        folder = found[name]
        boxes = read_boxes(folder / "groundtruth.txt")
        frames = [str(p) for p in list_images(folder / "img")]
        if len(frames) < len(boxes):
            raise DatasetError(f"LaSOT {name}: {len(boxes)} boxes but {len(frames)} images in {folder / 'img'}")
        absent = _flags(folder / "full_occlusion.txt", len(boxes)) | _flags(folder / "out_of_view.txt", len(boxes))
        out.append(Sequence(name=name, dataset="lasot", frames=frames[:len(boxes)], ground_truth=boxes,
                            absent=absent, attributes=(name.rsplit("-", 1)[0],)))
    return out
