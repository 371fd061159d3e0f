"""GOT-10k validation and test splits in their official layout:
``<root>/val/GOT-10k_Val_000001/00000001.jpg`` + ``groundtruth.txt`` (+ ``absence.label``,
``cover.label``, ``meta_info.ini``) and ``<root>/test/GOT-10k_Test_000001/...`` whose groundtruth.txt has only the
first box. ``root`` may also be the split folder itself (the one with ``list.txt``).

Absent frames: ``absence.label`` = 1 (or ``cover.label`` = 0) are not scored, as the GOT-10k toolkit
does. Attributes: the object and motion class of meta_info.ini. Test ground truth is unknown after frame 1: results go to the evaluation server (submission zip).
"""
from pathlib import Path

import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError, list_images, read_boxes, read_numbers, require_dir, select
from fcot_ros.evaluation.sequence import Sequence
from fcot_ros.errors import ConfigurationError


def _split_dir(root: Path, split: str) -> Path:
    expected = f"<root>/{split}/GOT-10k_{split.capitalize()}_000001/00000001.jpg and groundtruth.txt"
    root = require_dir(root, f"GOT-10k {split} root", expected)
    for candidate in (root / split, root):
        if candidate.is_dir() and any((p / "groundtruth.txt").is_file()
                                      for p in candidate.iterdir() if p.is_dir()):
            return candidate
    raise DatasetError(f"GOT-10k {split} root {root}: no sequence folder found; expected {expected}")


def _classes(seq_dir: Path) -> tuple:
    """Object and motion class from meta_info.ini (``object_class: ...`` lines) as attributes."""
    meta = seq_dir / "meta_info.ini"
    if not meta.is_file():
        return ()
    fields = dict(line.split(":", 1) for line in meta.read_text(errors="replace").splitlines() if ":" in line)
    return tuple(f"{key.split('_')[0]}:{fields[key].strip()}" for key in ("object_class", "motion_class")
                 if fields.get(key, "").strip())


def load(root, sequences=None, split: str = "val"):
    """GOT-10k sequences of ``split`` ("val" or "test"), in list.txt order when present."""
    if split not in ("val", "test"):
        raise ConfigurationError("GOT-10k split must be 'val' or 'test'")
    folder = _split_dir(Path(root), split)
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "groundtruth.txt").is_file())
    listing = folder / "list.txt"
    names = present
    if listing.is_file():
        listed = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        names = [n for n in listed if n in set(present)] or present
    out = []
    for name in select(names, sequences, f"GOT-10k {split} root {folder}"):
        seq_dir = folder / name
        frames = [str(p) for p in list_images(seq_dir)]
        boxes = read_boxes(seq_dir / "groundtruth.txt")
        if not frames:
            raise DatasetError(f"GOT-10k {name}: no images in {seq_dir}")
        has_gt = len(boxes) == len(frames)
        if not has_gt:
            if len(boxes) != 1:
                raise DatasetError(f"GOT-10k {name}: {len(boxes)} boxes for {len(frames)} frames")
            boxes = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
        absent = None
        if (seq_dir / "absence.label").is_file():
            absent = read_numbers(seq_dir / "absence.label").reshape(-1).astype(bool)
        elif (seq_dir / "cover.label").is_file():
            absent = read_numbers(seq_dir / "cover.label").reshape(-1) == 0
        out.append(Sequence(name=name, dataset=f"got10k_{split}", frames=frames, ground_truth=boxes,
                            absent=absent, has_ground_truth=has_gt, attributes=_classes(seq_dir)))
    return out


def load_val(root, sequences=None):
    return load(root, sequences, split="val")


def load_test(root, sequences=None):
    return load(root, sequences, split="test")
