"""Helpers shared by the training source readers: file checks, per-frame label files, name lists.

Errors are ``DatasetError`` (an FCOTError and ValueError) from the evaluation readers, and every
message names the file or folder at fault. Parsing reuses ``fcot_ros.evaluation.datasets.common``.
"""
from pathlib import Path
from typing import List, Optional

import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError, list_images, read_boxes, read_numbers

from training.data.sources.frames import ImageFiles

__all__ = ["DatasetError", "require_file", "read_groundtruth", "read_per_frame", "read_name_list",
           "image_files", "check_counts"]


def require_file(path: Path, what: str, expected: str) -> Path:
    """Return ``path`` if it is a file, else raise DatasetError "<what>: <path> not found; expected ..."."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{what}: {path} not found; expected {expected}")
    return path


def read_groundtruth(path: Path, what: str) -> np.ndarray:
    """(N, 4) float64 xywh pixels, one line per frame of ``path`` (NaN allowed); malformed files are refused."""
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


def image_files(folder: Path, what: str) -> ImageFiles:
    """The images of ``folder`` sorted by frame number, as a frame store; refuses a missing or empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{what}: image folder {folder} not found")
    paths = list_images(folder)
    if not paths:
        raise DatasetError(f"{what}: no image (.jpg, .jpeg, .png, .bmp) in {folder}")
    return ImageFiles.from_paths(folder, paths)


def check_counts(frames: ImageFiles, boxes: np.ndarray, groundtruth: Path, what: str) -> None:
    """Refuse a sequence whose number of images differs from its number of annotation lines."""
    if len(frames) != len(boxes):
        raise DatasetError(f"{what}: {groundtruth} has {len(boxes)} boxes but {frames.folder} "
                           f"has {len(frames)} images")
