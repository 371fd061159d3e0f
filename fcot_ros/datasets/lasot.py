"""LaSOT in its official layout, test split (``lasot``) and train split (``lasot_train``):

    root/<class>/<class>-<n>/img/00000001.jpg ...
                             groundtruth.txt     x,y,w,h pixels per frame (LaSOT's 1-based pixels, kept)
                             full_occlusion.txt  one line of comma-separated 0/1 per frame
                             out_of_view.txt     the same
                             nlp.txt             optional language description
    root/testing_set.txt     the 280 test sequences, root/training_set.txt the train split (toolkit files)

Test split (``load_test``): the flat layout of the test download (``root/<class>-<n>/...``) is accepted
too; the sequences of testing_set.txt when it exists, else every sequence present; a folder may hold
more images than boxes (the first ones are used). Train split (``load_train``): the sequences of
``split_file`` or root/training_set.txt (refused without either: train and test share the tree),
images and boxes must match. Frames flagged fully occluded or out of view are absent (not scored,
not sampled). Tags: the class (per-class breakdown); attributes: ``class`` (and ``language``).
"""
from pathlib import Path
from typing import List, Optional

import numpy as np

from fcot_ros.datasets.frames import ImageFiles, check_counts, image_files
from fcot_ros.datasets.parsing import read_flags, read_groundtruth, read_name_list, read_per_frame, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

EXPECTED = "root/<class>/<class>-<n>/img/00000001.jpg and groundtruth.txt"
TEST_EXPECTED = "<root>/<class>/<class>-<k>/img/00000001.jpg and groundtruth.txt (LaSOT)"
SPLIT_FILE = "training_set.txt"


def _is_sequence(folder: Path) -> bool:
    return (folder / "img").is_dir() and (folder / "groundtruth.txt").is_file()


def _test_flags(path: Path, n: int) -> np.ndarray:
    if not path.is_file():
        return np.zeros(n, dtype=bool)
    flags = read_flags(path)
    if len(flags) != n:
        raise DatasetError(f"LaSOT: {path} has {len(flags)} flags for {n} frames")
    return flags


def _sequence(folder: Path, name: str, boxes: np.ndarray, frames: ImageFiles, absent) -> Sequence:
    attributes = {"class": name.rsplit("-", 1)[0]}
    nlp = folder / "nlp.txt"
    if nlp.is_file():
        attributes["language"] = nlp.read_text(encoding="utf-8", errors="replace").strip()
    return Sequence(name=name, dataset="lasot", boxes=boxes, frames=frames, absent=absent,
                    tags=(attributes["class"],), attributes=attributes)


def load_sequence(folder: Path, name: str) -> Sequence:
    """One train-split sequence folder ``root/<class>/<name>`` (images and boxes must match)."""
    what = f"LaSOT {name}"
    frames = image_files(folder / "img", what)
    groundtruth = folder / "groundtruth.txt"
    boxes = read_groundtruth(groundtruth, what)
    check_counts(frames, boxes, groundtruth, what)
    n = len(boxes)
    absent = None
    for flags in (read_per_frame(folder / "full_occlusion.txt", n, what),
                  read_per_frame(folder / "out_of_view.txt", n, what)):
        if flags is not None:
            absent = (flags != 0) if absent is None else absent | (flags != 0)
    return _sequence(folder, name, boxes, frames, absent)


def load_test(root, sequences=None) -> List[Sequence]:
    """LaSOT sequences under ``root`` (test split if testing_set.txt is there), sorted by name."""
    root = require_dir(root, "LaSOT root", TEST_EXPECTED)
    found = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if _is_sequence(child):
            found[child.name] = child
            continue
        for grandchild in sorted(p for p in child.iterdir() if p.is_dir()):
            if _is_sequence(grandchild):
                found[grandchild.name] = grandchild
    if not found:
        raise DatasetError(f"LaSOT root {root}: no sequence found; expected {TEST_EXPECTED}")
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
        boxes = read_groundtruth(folder / "groundtruth.txt", f"LaSOT {name}")
        frames = image_files(folder / "img", f"LaSOT {name}")
        if len(frames) < len(boxes):
            raise DatasetError(f"LaSOT {name}: {len(boxes)} boxes but {len(frames)} images in {folder / 'img'}")
        absent = _test_flags(folder / "full_occlusion.txt", len(boxes)) | \
            _test_flags(folder / "out_of_view.txt", len(boxes))
        head = ImageFiles(frames.folder, [frames.name(i) for i in range(len(boxes))])
        out.append(_sequence(folder, name, boxes, head, absent))
    return out


def load_train(root, split_file: Optional[str] = None) -> List[Sequence]:
    """The LaSOT sequences listed in ``split_file`` (default ``root/training_set.txt``), in its order."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"LaSOT: root {root} is not a directory; expected {EXPECTED}")
    if split_file is not None:
        split = Path(split_file)
        if not split.is_file():
            raise DatasetError(f"LaSOT: split file {split} (option split_file) not found")
    else:
        split = root / SPLIT_FILE
        if not split.is_file():
            raise DatasetError(f"LaSOT: no split file: {split} not found and no split_file option given; "
                               f"the train split needs a list of <class>-<n> names (the official "
                               f"toolkit's {SPLIT_FILE})")
    names = list(dict.fromkeys(read_name_list(split, "LaSOT split file")))
    malformed = [n for n in names if "-" not in n]
    if malformed:
        raise DatasetError(f"LaSOT: {split}: lines must be <class>-<n>, got {', '.join(malformed[:3])}")
    folders, missing = {}, []
    for name in names:
        folder = root / name.rsplit("-", 1)[0] / name
        if not folder.is_dir():
            missing.append(str(folder))
        folders[name] = folder
    if missing:
        raise DatasetError(f"LaSOT: {len(missing)} sequence folder(s) listed in {split} not found: "
                           f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}; expected {EXPECTED}")
    return [load_sequence(folders[name], name) for name in names]
