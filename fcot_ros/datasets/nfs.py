"""Need for Speed (NfS), 30 fps version, in its official layout:
``<root>/<seq>/30/<seq>/00001.jpg`` and ``<root>/<seq>/30/<seq>.txt`` (else ``<root>/<seq>/240/<seq>.txt``).

Annotation rows: ``track_id xmin ymin xmax ymax frame lost occluded generated "label"`` (corners in
pixels, converted here to x, y, w, h). The annotation is made at 240 fps: when it has about 8 times as
many rows as there are 30 fps frames, every 8th row is used; a difference of one frame is trimmed.
Rows with ``lost`` = 1 (target out of view) are absent and not scored.
"""
from pathlib import Path

import numpy as np

from fcot_ros.datasets.parsing import list_images, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

EXPECTED = "<root>/<sequence>/30/<sequence>/00001.jpg and <root>/<sequence>/30/<sequence>.txt (NfS)"


def _read(path: Path) -> np.ndarray:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            rows.append([float(v) for v in parts[1:8]])
        except (ValueError, IndexError) as exc:
            raise DatasetError(f"{path}:{number}: not an NfS annotation row: {line[:80]!r}") from exc
    if not rows or any(len(r) < 6 for r in rows):
        raise DatasetError(f"{path}: empty or malformed NfS annotation")
    return np.asarray(rows)


def load(root, sequences=None):
    """NfS 30 fps sequences under ``root``, sorted by name."""
    root = require_dir(root, "NfS root", EXPECTED)
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        img_dir = folder / "30" / folder.name
        anno = next((a for a in (folder / "30" / f"{folder.name}.txt", folder / "240" / f"{folder.name}.txt")
                     if a.is_file()), None)
        if img_dir.is_dir() and anno is not None:
            found[folder.name] = (img_dir, anno)
    if not found:
        raise DatasetError(f"NfS root {root}: no sequence found; expected {EXPECTED}")
    out = []
    for name in select(sorted(found), sequences, f"NfS root {root}"):
        img_dir, anno_path = found[name]
        frames = [str(p) for p in list_images(img_dir)]
        rows = _read(anno_path)
        if len(rows) != len(frames) and abs(len(rows) / max(len(frames), 1) - 8) < 1:
            rows = rows[0::8]
        n = min(len(rows), len(frames))
        if abs(len(rows) - len(frames)) > 1:
            raise DatasetError(f"NfS {name}: {len(rows)} annotation rows for {len(frames)} frames")
        rows, frames = rows[:n], frames[:n]
        boxes = np.stack([rows[:, 0], rows[:, 1], rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]], axis=1)
        absent = rows[:, 5].astype(bool)
        out.append(Sequence(name=name, dataset="nfs", frames=frames, boxes=boxes, absent=absent))
    return out
