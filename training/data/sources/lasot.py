"""LaSOT training split in the official layout, for training.

    root/<class>/<class>-<n>/img/00000001.jpg ...
                             groundtruth.txt     x,y,w,h pixels per frame (LaSOT's 1-based pixels, kept)
                             full_occlusion.txt  one line of comma-separated 0/1 per frame
                             out_of_view.txt     the same
                             nlp.txt             optional language description
    root/training_set.txt    the train split, one <class>-<n> per line (the official toolkit's file)

The split comes from ``split_file`` or, by default, ``root/training_set.txt``; without either the
reader refuses (LaSOT's train and test sequences share the folder tree). Frames flagged fully
occluded or out of view are not visible; missing flag files mean no flags, a wrong length is refused.
Attributes: ``class`` (and ``language`` from nlp.txt). Each sequence is its own video.
"""
from pathlib import Path
from typing import List, Optional

from training.data.sources.common import (DatasetError, check_counts, image_files, read_groundtruth,
                                          read_name_list, read_per_frame)
from training.data.sources.sequence import TrainSequence

EXPECTED = "root/<class>/<class>-<n>/img/00000001.jpg and groundtruth.txt"
SPLIT_FILE = "training_set.txt"


def load_sequence(folder: Path, name: str) -> TrainSequence:
    """One LaSOT sequence folder ``root/<class>/<name>``."""
    what = f"LaSOT {name}"
    frames = image_files(folder / "img", what)
    groundtruth = folder / "groundtruth.txt"
    boxes = read_groundtruth(groundtruth, what)
    check_counts(frames, boxes, groundtruth, what)
    n = len(boxes)
    occluded = read_per_frame(folder / "full_occlusion.txt", n, what)
    out_of_view = read_per_frame(folder / "out_of_view.txt", n, what)
    visible = None
    for flags in (occluded, out_of_view):
        if flags is not None:
            visible = (flags == 0) if visible is None else visible & (flags == 0)
    attributes = {"class": name.rsplit("-", 1)[0]}
    nlp = folder / "nlp.txt"
    if nlp.is_file():
        attributes["language"] = nlp.read_text(encoding="utf-8", errors="replace").strip()
    return TrainSequence(name=name, source="lasot", boxes=boxes, frames=frames, visible=visible,
                         attributes=attributes)


def load(root, split_file: Optional[str] = None) -> List[TrainSequence]:
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
