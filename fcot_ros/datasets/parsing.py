"""Helpers shared by the readers: text tables of numbers, per-frame label files, name lists, image
listing, and the layout checks whose DatasetError names the file or folder at fault."""
import re
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from fcot_ros.errors import DatasetError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_SPLIT = re.compile(r"[,\s;]+")


def require_dir(path: Path, what: str, expected: str) -> Path:
    """Return ``path`` if it is a directory, else raise DatasetError describing the expected layout."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{what}: {path} is not a directory; expected {expected}")
    return path


def read_numbers(path, columns: Optional[int] = None) -> np.ndarray:
    """Read a text table of numbers (comma, tab, space or ';' separated; 'nan'/'NaN' allowed) as float64.

    Blank lines are skipped. With ``columns`` set, every row must have that many values.
    """
    rows = []
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                values = [float(v) for v in _SPLIT.split(line) if v]
            except ValueError as exc:
                raise DatasetError(f"{path}:{number}: not a row of numbers: {line[:80]!r}") from exc
            if columns is not None and len(values) != columns:
                raise DatasetError(f"{path}:{number}: expected {columns} values, got {len(values)}")
            rows.append(values)
    if not rows:
        return np.zeros((0, columns or 0))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        raise DatasetError(f"{path}: rows have different numbers of values")
    return np.asarray(rows, dtype=np.float64)


def read_boxes(path) -> np.ndarray:
    """Read an (N, 4) xywh annotation / result file (one box per line, pixels)."""
    return read_numbers(path, columns=4).reshape(-1, 4)


def read_flags(path) -> np.ndarray:
    """Read a per-frame 0/1 flag file (one value per line, or one comma-separated line) as bool."""
    return read_numbers(path).reshape(-1).astype(bool)


def read_groundtruth(path: Path, what: str) -> np.ndarray:
    """(N, 4) float64 xywh pixels, one line per frame of ``path`` (NaN allowed); a missing or empty file is refused."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{what}: {path} not found")
    boxes = read_boxes(path)
    if len(boxes) == 0:
        raise DatasetError(f"{what}: {path} has no box")
    return boxes


def read_per_frame(path: Path, count: int, what: str) -> Optional[np.ndarray]:
    """(count,) float64 values of a per-frame label file (one per line, or one comma-separated line).

    None if the file does not exist; a length other than ``count`` is refused naming the file.
    """
    path = Path(path)
    if not path.is_file():
        return None
    values = read_numbers(path).reshape(-1)
    if len(values) != count:
        raise DatasetError(f"{what}: {path} has {len(values)} values for {count} frames")
    return values


def read_name_list(path: Path, what: str) -> List[str]:
    """Non-empty lines of a list file (one name per line; '#' starts a comment line)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{what}: {path} not found")
    names = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    if not names:
        raise DatasetError(f"{what}: {path} lists no sequence")
    return names


def frame_number(path: Path) -> int:
    """The integer in an image file's stem (``0042.jpg`` -> 42); -1 if it has none."""
    digits = re.findall(r"\d+", Path(path).stem)
    return int(digits[-1]) if digits else -1


def list_images(folder: Path) -> List[Path]:
    """Image files of a folder sorted by frame number, then name."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(files, key=lambda p: (frame_number(p), p.name))


def select(names: Iterable[str], wanted: Optional[Iterable[str]], what: str) -> List[str]:
    """Keep ``names`` in ``wanted`` (all when None), in the order of ``names``; unknown wanted names
    raise DatasetError."""
    names = list(names)
    if wanted is None:
        return names
    wanted = list(wanted)
    missing = [w for w in wanted if w not in names]
    if missing:
        raise DatasetError(f"{what}: no sequence named {', '.join(missing)} "
                           f"(have {len(names)}: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''})")
    return [n for n in names if n in set(wanted)]
