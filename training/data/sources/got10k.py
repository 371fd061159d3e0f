"""GOT-10k train and val splits in the official layout, for training.

    root/train/list.txt                          one sequence name per line
    root/train/GOT-10k_Train_000001/00000001.jpg ...
                                    groundtruth.txt   x,y,w,h pixels per frame
                                    absence.label     1 = target absent (per line)
                                    cover.label       0..8 visible-ratio level (0 = fully occluded)
                                    cut_by_image.label 1 = target truncated by the image border
                                    meta_info.ini     "key: value" lines (object_class, motion_class, ...)
    root/val/GOT-10k_Val_000001/...              the same for split="val"

A frame is visible unless absent or cover == 0 (and its box is valid). Per-frame attributes:
``visible_ratio`` (N,) float32 = cover / 8 and ``cut_by_image`` (N,) bool when the label files exist;
the meta_info.ini fields are kept as string attributes. The label files are optional, a wrong length
is refused. Each GOT-10k sequence is its own video.
"""
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import numpy as np

from training.data.sources.common import (DatasetError, check_counts, image_files, read_groundtruth,
                                          read_name_list, read_per_frame)
from training.data.sources.sequence import TrainSequence

SPLITS = ("train", "val")


def _expected(split: str) -> str:
    return f"root/{split}/list.txt and root/{split}/GOT-10k_{split.capitalize()}_*/"


def read_meta_info(path: Path) -> Dict[str, str]:
    """The ``key: value`` lines of a meta_info.ini (section headers skipped); {} if absent."""
    if not path.is_file():
        return {}
    fields = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.lstrip().startswith(("[", "#", ";")) and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def _subset(sequence_list: Union[str, Path, Iterable[str]], names: List[str], listing: Path) -> List[str]:
    """Names chosen by ``sequence_list``: a file or an iterable of GOT-10k names, or of 0-based
    indices into list.txt (the form of pytracking's data_specs split files, e.g. vottrain)."""
    if isinstance(sequence_list, (str, Path)):
        wanted = read_name_list(Path(sequence_list), "GOT-10k sequence_list")
        origin = str(sequence_list)
    else:
        wanted = [str(w).strip() for w in sequence_list]
        origin = "sequence_list"
    if wanted and all(w.isdigit() for w in wanted):
        bad = [w for w in wanted if int(w) >= len(names)]
        if bad:
            raise DatasetError(f"GOT-10k: {origin}: indices {', '.join(bad[:5])} out of range for the "
                               f"{len(names)} sequences of {listing}")
        return [names[int(w)] for w in wanted]
    known = set(names)
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise DatasetError(f"GOT-10k: {origin}: {len(unknown)} name(s) not in {listing}: "
                           f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
    return wanted


def load_sequence(folder: Path, split: str = "train") -> TrainSequence:
    """One GOT-10k sequence folder."""
    what = f"GOT-10k {folder.name}"
    frames = image_files(folder, what)
    groundtruth = folder / "groundtruth.txt"
    boxes = read_groundtruth(groundtruth, what)
    check_counts(frames, boxes, groundtruth, what)
    n = len(boxes)
    flagged = np.zeros(n, dtype=bool)
    attributes = {"split": split}
    absence = read_per_frame(folder / "absence.label", n, what)
    if absence is not None:
        flagged |= absence != 0
    cover = read_per_frame(folder / "cover.label", n, what)
    if cover is not None:
        if np.any((cover < 0) | (cover > 8) | (cover != np.round(cover))):
            raise DatasetError(f"{what}: {folder / 'cover.label'} must hold integers 0..8")
        flagged |= cover == 0
        attributes["visible_ratio"] = (cover / 8.0).astype(np.float32)
    cut = read_per_frame(folder / "cut_by_image.label", n, what)
    if cut is not None:
        attributes["cut_by_image"] = cut != 0
    attributes.update(read_meta_info(folder / "meta_info.ini"))
    return TrainSequence(name=folder.name, source="got10k", boxes=boxes, frames=frames,
                         visible=~flagged, attributes=attributes)


def load(root, split: str = "train", sequence_list: Optional[Union[str, Path, Iterable[str]]] = None
         ) -> List[TrainSequence]:
    """GOT-10k ``split`` ("train" or "val") in list.txt order.

    sequence_list: restrict to a subset, given as a file (one name, or one 0-based list.txt index, per
    line) or as a list; a name not in list.txt is refused.
    """
    if split not in SPLITS:
        raise DatasetError(f"GOT-10k: split must be one of {', '.join(SPLITS)}, got {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"GOT-10k: root {root} is not a directory; expected {_expected(split)}")
    folder = root / split
    listing = folder / "list.txt"
    if not listing.is_file():
        raise DatasetError(f"GOT-10k: {listing} not found; expected {_expected(split)}")
    names = read_name_list(listing, "GOT-10k")
    if sequence_list is not None:
        names = _subset(sequence_list, names, listing)
    missing = [n for n in names if not (folder / n).is_dir()]
    if missing:
        raise DatasetError(f"GOT-10k: {len(missing)} sequence folder(s) listed in {listing} not found: "
                           f"{', '.join(str(folder / m) for m in missing[:3])}{' ...' if len(missing) > 3 else ''}")
    return [load_sequence(folder / n, split) for n in names]
