"""Train / validation split by whole videos: a split file lists the validation videos (one per line,
``#`` comments), and a source takes the sequences outside it ("train"), inside it ("val") or all."""
from pathlib import Path
from typing import List, Set

from fcot_ros.errors import DatasetError


def read_split(path) -> Set[str]:
    """Video names listed in a split file (``#`` comments, blank lines skipped); DatasetError if missing or empty."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"split file {path} not found")
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    if not names:
        raise DatasetError(f"split file {path} lists no validation video")
    return names


def select_split(sequences: List, validation_videos: Set[str], part: str) -> List:
    """The sequences of ``part`` ("train": videos not listed, "val": listed ones, "all")."""
    if part == "all" or not validation_videos:
        return list(sequences)
    if part == "val":
        return [s for s in sequences if s.video in validation_videos]
    if part == "train":
        return [s for s in sequences if s.video not in validation_videos]
    raise DatasetError(f"split part must be train, val or all, not {part!r}")
