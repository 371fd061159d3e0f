"""GOT-10k in its official layout: ``got10k`` (train or val split, for training), ``got10k_val`` and
``got10k_test`` (for evaluation).

    root/train/list.txt                          one sequence name per line
    root/train/GOT-10k_Train_000001/00000001.jpg ...
                                    groundtruth.txt   x,y,w,h pixels per frame (test split: first frame only)
                                    absence.label     1 = target absent (per line)
                                    cover.label       0..8 visible-ratio level (0 = fully occluded)
                                    cut_by_image.label 1 = target truncated by the image border
                                    meta_info.ini     "key: value" lines (object_class, motion_class, ...)
    root/val/GOT-10k_Val_000001/...,  root/test/GOT-10k_Test_000001/...   the same

A frame is absent (not scored, not sampled) when absence.label is 1 or cover.label is 0, as the GOT-10k
toolkit scores val. Attributes: ``split``, the meta_info.ini fields, and per frame ``visible_ratio``
(N,) float32 = cover / 8 and ``cut_by_image`` (N,) bool when the label files exist (a wrong length is
refused). Tags: "object:<class>", "motion:<class>". Test ground truth is unknown after frame 1
(``has_ground_truth`` False): results go to the evaluation server.

``load`` (training) needs list.txt and takes ``sequence_list`` subsets; ``load_val`` / ``load_test``
(evaluation) accept the split folder itself as root and a missing list.txt (sorted names).
"""
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import numpy as np

from fcot_ros.datasets.frames import check_counts, image_files
from fcot_ros.datasets.parsing import read_groundtruth, read_name_list, read_per_frame, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

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


def load_sequence(folder: Path, split: str = "train") -> Sequence:
    """One GOT-10k sequence folder (test split: one box for the first frame, the rest unknown)."""
    folder = Path(folder)
    what = f"GOT-10k {folder.name}"
    frames = image_files(folder, what)
    groundtruth = folder / "groundtruth.txt"
    boxes = read_groundtruth(groundtruth, what)
    has_ground_truth = True
    if split == "test" and len(boxes) == 1 and len(frames) > 1:
        boxes, has_ground_truth = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)]), False
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
    meta = read_meta_info(folder / "meta_info.ini")
    attributes.update(meta)
    tags = tuple(f"{key.split('_')[0]}:{meta[key]}" for key in ("object_class", "motion_class") if meta.get(key))
    dataset = "got10k" if split == "train" else f"got10k_{split}"
    return Sequence(name=folder.name, dataset=dataset, boxes=boxes, frames=frames,
                    absent=flagged if (absence is not None or cover is not None) else None,
                    tags=tags, attributes=attributes, has_ground_truth=has_ground_truth)


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


def load(root, split: str = "train", sequence_list: Optional[Union[str, Path, Iterable[str]]] = None
         ) -> List[Sequence]:
    """GOT-10k ``split`` ("train" or "val") in list.txt order (for training).

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


def _split_dir(root: Path, split: str) -> Path:
    expected = f"<root>/{split}/GOT-10k_{split.capitalize()}_000001/00000001.jpg and groundtruth.txt"
    root = require_dir(root, f"GOT-10k {split} root", expected)
    for candidate in (root / split, root):
        if candidate.is_dir() and any((p / "groundtruth.txt").is_file()
                                      for p in candidate.iterdir() if p.is_dir()):
            return candidate
    raise DatasetError(f"GOT-10k {split} root {root}: no sequence folder found; expected {expected}")


def _load_for_evaluation(root, sequences, split: str) -> List[Sequence]:
    """The sequences of ``split`` ("val" or "test"), in list.txt order when present, else sorted."""
    folder = _split_dir(Path(root), split)
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "groundtruth.txt").is_file())
    listing = folder / "list.txt"
    names = present
    if listing.is_file():
        listed = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        names = [n for n in listed if n in set(present)] or present
    return [load_sequence(folder / name, split)
            for name in select(names, sequences, f"GOT-10k {split} root {folder}")]


def load_val(root, sequences=None) -> List[Sequence]:
    """GOT-10k val for evaluation (root = the dataset root or its val/ folder)."""
    return _load_for_evaluation(root, sequences, "val")


def load_test(root, sequences=None) -> List[Sequence]:
    """GOT-10k test for evaluation: first box only, results for the server."""
    return _load_for_evaluation(root, sequences, "test")
