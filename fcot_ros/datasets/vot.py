"""VOT short-term sequences (VOT2013-2019 layout), evaluated axis-aligned with OPE:
``<root>/<seq>/color/00000001.jpg`` (or images directly in ``<root>/<seq>/``), ``<root>/<seq>/groundtruth.txt``
with either x,y,w,h or a polygon x1,y1,...,x4,y4 per line, and optional per-frame ``*.tag`` / ``*.label``
files (e.g. ``occlusion.tag``). ``<root>/list.txt`` gives the sequence order when present.

Polygons are converted to axis-aligned boxes (``polygon`` = "minmax": tight bounding box of the
corners, default; "area": same-area box around the corner mean, as pysot / got10k do). A sequence's
attributes are the tags set in at least one frame. VOT2020+ mask annotations are not supported.
"""
from pathlib import Path

import numpy as np

from fcot_ros.datasets.parsing import list_images, read_numbers, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import ConfigurationError, DatasetError

EXPECTED = "<root>/<sequence>/color/00000001.jpg and <root>/<sequence>/groundtruth.txt (VOT)"


def polygon_to_xywh(polygons, method: str = "minmax") -> np.ndarray:
    """Convert (N, 2K) polygons (x1, y1, x2, y2, ...; VOT rotated boxes have K = 4) to xywh pixels.

    method "minmax": the tight axis-aligned bounding box of the corners (the VOT toolkit's
    conversion). method "area": the box centred on the corners' mean whose area equals the
    rotated rectangle's (pysot/got10k style, 4 corners only; the +1 of their pixel convention is
    not applied). Rows with NaN stay NaN.
    """
    poly = np.asarray(polygons, dtype=np.float64)
    if poly.ndim == 1:
        poly = poly[None, :]
    if poly.shape[1] % 2 or poly.shape[1] < 6:
        raise ValueError(f"polygons need an even number (>= 6) of coordinates per row, got {poly.shape[1]}")
    xs, ys = poly[:, 0::2], poly[:, 1::2]
    x0, x1 = xs.min(axis=1), xs.max(axis=1)
    y0, y1 = ys.min(axis=1), ys.max(axis=1)
    if method == "minmax":
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    if method != "area":
        raise ConfigurationError(f"unknown polygon conversion {method!r}; use 'minmax' or 'area'")
    if poly.shape[1] != 8:
        raise ValueError("the 'area' conversion needs 4-corner polygons (8 values per row)")
    cx, cy = xs.mean(axis=1), ys.mean(axis=1)
    side1 = np.hypot(xs[:, 0] - xs[:, 1], ys[:, 0] - ys[:, 1])
    side2 = np.hypot(xs[:, 1] - xs[:, 2], ys[:, 1] - ys[:, 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(side1 * side2 / ((x1 - x0) * (y1 - y0)))
    w, h = scale * (x1 - x0), scale * (y1 - y0)
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)


def read_vot_groundtruth(path: Path, polygon: str = "minmax") -> np.ndarray:
    """(N, 4) xywh pixels from a VOT groundtruth.txt (rectangles or polygons)."""
    if Path(path).read_text().lstrip().startswith("m"):
        raise DatasetError(f"{path}: VOT mask annotations (VOT2020+) are not supported; use a rectangle/polygon set")
    values = read_numbers(path)
    if values.shape[1] == 4:
        return values
    if values.shape[1] >= 6 and values.shape[1] % 2 == 0:
        return polygon_to_xywh(values, method=polygon)
    raise DatasetError(f"{path}: rows of {values.shape[1]} values are neither x,y,w,h nor a polygon")


def _images(folder: Path):
    color = folder / "color"
    return list_images(color if color.is_dir() else folder)


def load(root, sequences=None, polygon: str = "minmax"):
    """VOT sequences under ``root``, in list.txt order (else sorted)."""
    root = require_dir(root, "VOT root", EXPECTED)
    present = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "groundtruth.txt").is_file())
    if not present:
        raise DatasetError(f"VOT root {root}: no sequence found; expected {EXPECTED}")
    names = present
    if (root / "list.txt").is_file():
        listed = [n.strip() for n in (root / "list.txt").read_text().splitlines() if n.strip()]
        names = [n for n in listed if n in set(present)] or present
    out = []
    for name in select(names, sequences, f"VOT root {root}"):
        folder = root / name
        boxes = read_vot_groundtruth(folder / "groundtruth.txt", polygon)
        frames = [str(p) for p in _images(folder)]
        if len(frames) < len(boxes):
            raise DatasetError(f"VOT {name}: {len(boxes)} boxes but {len(frames)} images")
        tags = []
        for tag_file in sorted(list(folder.glob("*.tag")) + list(folder.glob("*.label"))):
            try:
                if read_numbers(tag_file).any():
                    tags.append(tag_file.stem)
            except DatasetError:
                continue
        out.append(Sequence(name=name, dataset="vot", frames=frames[:len(boxes)], boxes=boxes,
                            tags=tuple(tags)))
    return out
