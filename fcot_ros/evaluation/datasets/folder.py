"""Our sequence folders (``../shared/data/sequences`` and users' own footage):
``<root>/<name>/img/*.jpg`` (any image type, sorted by frame number), ``<root>/<name>/groundtruth.txt``
(x, y, w, h pixels per frame; a NaN line = target absent, not scored) and an optional ``meta.json``.
``root`` may be one sequence folder or a folder of them. Attributes: the OTB-style codes after
"attrs" in meta.json's ``attributes`` (e.g. "OTB attrs SV,DEF,BC"), else none.
"""
import json
import re
from pathlib import Path

from fcot_ros.evaluation.datasets.common import DatasetError, list_images, read_boxes, require_dir, select
from fcot_ros.evaluation.sequence import Sequence

EXPECTED = "<root>/<name>/img/000001.jpg and <root>/<name>/groundtruth.txt (x,y,w,h per line)"


def is_sequence_folder(path: Path) -> bool:
    """True if ``path`` holds img/ and groundtruth.txt."""
    return (path / "img").is_dir() and (path / "groundtruth.txt").is_file()


def _attributes(meta: dict) -> tuple:
    text = str(meta.get("attributes", ""))
    match = re.search(r"attrs\s+([A-Z0-9,\s]+)", text)
    if match:
        return tuple(a.strip() for a in match.group(1).split(",") if a.strip())
    return ()


def load_one(folder: Path) -> Sequence:
    """One sequence folder."""
    boxes = read_boxes(folder / "groundtruth.txt")
    frames = [str(p) for p in list_images(folder / "img")]
    if len(frames) != len(boxes):
        raise DatasetError(f"sequence {folder}: {len(frames)} images but {len(boxes)} ground-truth lines")
    meta = {}
    if (folder / "meta.json").is_file():
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{folder / 'meta.json'}: invalid JSON ({exc})") from exc
    return Sequence(name=folder.name, dataset="folder", frames=frames, ground_truth=boxes,
                    attributes=_attributes(meta), extra={"meta": meta})


def load(root, sequences=None):
    """All sequence folders under ``root`` (or ``root`` itself if it is one), sorted by name."""
    root = require_dir(root, "sequence folder root", EXPECTED)
    if is_sequence_folder(root):
        found = {root.name: root}
    else:
        found = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and is_sequence_folder(p)}
    if not found:
        raise DatasetError(f"sequence folder root {root}: no sequence found; expected {EXPECTED}")
    return [load_one(found[n]) for n in select(sorted(found), sequences, f"sequence folder root {root}")]
