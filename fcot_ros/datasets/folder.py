"""Our own sequence folders (../shared/data/sequences, ../shared/data/train, users' footage).

    root/index.tsv                   optional; tab-separated with a header holding a ``name`` column
    root/<name>/img/000001.jpg ...   any image type, sorted by frame number
    root/<name>/groundtruth.txt      x,y,w,h pixels per frame (comma separated); a NaN line = target absent
    root/<name>/confidence.txt       optional; one value in [0, 1] per frame (e.g. mined pseudo-labels)
    root/<name>/meta.json            optional; kept as attributes["meta"]

With index.tsv, its rows are the sequences (in its order) and its other columns become string
attributes (dataset, licence, ...). Without it, every subfolder holding img/ and groundtruth.txt is a
sequence (sorted by name); ``root`` may also be one sequence folder.

``video``: an index.tsv ``video`` column if there is one, else the name without a block suffix
``_a``, ``_b``, ... (``otb_Girl2_a`` and ``otb_Girl2_b`` are two blocks of one video), else the name.
Tags: the OTB-style codes after "attrs" in meta.json's ``attributes`` (e.g. "OTB attrs SV,DEF,BC").
"""
import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List

import numpy as np

from fcot_ros.datasets.frames import check_counts, image_files
from fcot_ros.datasets.parsing import read_groundtruth, read_per_frame, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

EXPECTED = "root/<name>/img/*.jpg and root/<name>/groundtruth.txt (x,y,w,h per line), optional root/index.tsv"
INDEX = "index.tsv"
_BLOCK_SUFFIX = re.compile(r"_[a-z]$")


def video_of(name: str) -> str:
    """The video a sequence block belongs to: ``otb_Girl2_a`` -> ``otb_Girl2``; other names unchanged."""
    return _BLOCK_SUFFIX.sub("", name) or name


def is_sequence_folder(path: Path) -> bool:
    """True if ``path`` holds img/ and groundtruth.txt."""
    return (path / "img").is_dir() and (path / "groundtruth.txt").is_file()


def read_index(path: Path) -> List[Dict[str, str]]:
    """Rows of index.tsv as dicts keyed by its header; refuses a missing ``name`` column or duplicate names."""
    with open(path, "r", encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if not reader.fieldnames or "name" not in [f.strip() for f in reader.fieldnames]:
            raise DatasetError(f"folder source: {path} has no 'name' column in its header "
                               f"(got {reader.fieldnames})")
        rows = []
        for number, row in enumerate(reader, 2):
            row = {str(k).strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if not row.get("name"):
                if any(row.values()):
                    raise DatasetError(f"folder source: {path}:{number}: empty name")
                continue
            rows.append(row)
    duplicates = sorted(n for n, c in Counter(r["name"] for r in rows).items() if c > 1)
    if duplicates:
        raise DatasetError(f"folder source: {path} lists {', '.join(duplicates)} more than once")
    if not rows:
        raise DatasetError(f"folder source: {path} lists no sequence")
    return rows


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"folder source: {path} is not valid JSON ({exc})") from exc


def _tags(meta: dict) -> tuple:
    text = str(meta.get("attributes", ""))
    match = re.search(r"attrs\s+([A-Z0-9,\s]+)", text)
    if match:
        return tuple(a.strip() for a in match.group(1).split(",") if a.strip())
    return ()


def load_sequence(folder: Path, attributes: Dict[str, str] = None) -> Sequence:
    """One sequence folder; ``attributes`` are its index.tsv columns (without ``name``)."""
    folder = Path(folder)
    what = f"sequence {folder.name}"
    frames = image_files(folder / "img", what)
    groundtruth = folder / "groundtruth.txt"
    boxes = read_groundtruth(groundtruth, what)
    check_counts(frames, boxes, groundtruth, what)
    confidence = read_per_frame(folder / "confidence.txt", len(boxes), what)
    if confidence is not None and (not np.all(np.isfinite(confidence)) or
                                   confidence.min() < 0 or confidence.max() > 1):
        raise DatasetError(f"{what}: {folder / 'confidence.txt'} values must lie in [0, 1]")
    attributes = dict(attributes or {})
    video = attributes.pop("video", "") or video_of(folder.name)
    meta = _read_meta(folder / "meta.json")
    if meta:
        attributes["meta"] = meta
    return Sequence(name=folder.name, dataset="folder", boxes=boxes, frames=frames, video=video,
                    confidence=confidence, tags=_tags(meta), attributes=attributes)


def load(root, sequences=None) -> List[Sequence]:
    """The sequences of ``root`` (index.tsv order if present, else sorted subfolders);
    ``sequences`` keeps only those names."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"folder source: root {root} is not a directory; expected {EXPECTED}")
    index = root / INDEX
    if index.is_file():
        rows = {row["name"]: row for row in read_index(index)}
        names = select(list(rows), sequences, f"sequence folder root {root}")
        for name in names:
            folder = root / name
            if not folder.is_dir():
                raise DatasetError(f"folder source: {folder} (listed in {index}) not found")
            for part in ("img", "groundtruth.txt"):
                if not (folder / part).exists():
                    raise DatasetError(f"folder source: {folder / part} (listed in {index}) not found; "
                                       f"expected {EXPECTED}")
        return [load_sequence(root / name, {k: v for k, v in rows[name].items() if k != "name"})
                for name in names]
    if is_sequence_folder(root):
        found = {root.name: root}
    else:
        found = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and is_sequence_folder(p)}
    if not found:
        raise DatasetError(f"folder source: no {INDEX} and no sequence folder in {root}; expected {EXPECTED}")
    return [load_sequence(found[n]) for n in select(sorted(found), sequences, f"sequence folder root {root}")]
