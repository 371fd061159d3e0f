"""Where a training sequence's pixels come from: image files on disk, read one at a time.

A frame store is a small picklable object with ``len(store)``, ``store.read(i)`` (HxWx3 uint8 BGR)
and ``store.path(i)`` (the file, or None when the frames are not files). It holds no decoded image,
so lists of sequences are cheap to send to DataLoader workers.
"""
import re
from pathlib import Path
from typing import List, Optional, Sequence as SequenceType

import cv2
import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError

_NUMBERED = re.compile(r"^(\D*?)(\d+)(\.[A-Za-z0-9]+)$")


def read_image(path) -> np.ndarray:
    """Read an image file as an HxWx3 uint8 BGR array (grey and 16-bit files are converted).

    Raises DatasetError naming the file if it is missing or cannot be decoded.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        why = "no such file" if not Path(path).is_file() else "not a readable image"
        raise DatasetError(f"cannot read image {path} ({why})")
    return image


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _number_pattern(names: SequenceType[str]):
    """(format, first) if ``names`` are ``format.format(first + k)`` for k = 0..len-1, else None.

    Recognises zero-padded (``00000001.jpg``) and plain (``0.jpg``, ``1.jpg``, ..., ``10.jpg``) numbering.
    """
    match = _NUMBERED.match(names[0]) if names else None
    if match is None:
        return None
    prefix, digits, suffix = match.groups()
    first = int(digits)
    zero_padded = digits.startswith("0") and len(digits) > 1
    same_width = len(names[-1]) == len(names[0])
    number = f"{{:0{len(digits)}d}}" if zero_padded or same_width else "{:d}"
    fmt = _escape(prefix) + number + _escape(suffix)
    if all(fmt.format(first + k) == name for k, name in enumerate(names)):
        return fmt, first
    return None


class ImageFiles:
    """The image files of one sequence, in frame order: frame i is ``folder / name(i)``.

    Consecutively numbered files (the usual case) are stored as a format string and a first number,
    other lists as a tuple of file names, so that a store costs a few hundred bytes.
    """

    __slots__ = ("folder", "names", "pattern", "first", "count")

    def __init__(self, folder, names: SequenceType[str]):
        names = [str(n) for n in names]
        self.folder = str(folder)
        self.count = len(names)
        found = _number_pattern(names) if len(names) > 1 else None
        if found is None:
            self.names, self.pattern, self.first = tuple(names), None, 0
        else:
            self.names, (self.pattern, self.first) = None, found

    @classmethod
    def from_paths(cls, folder, paths: SequenceType[Path]) -> "ImageFiles":
        """A store of ``paths``, which must all lie directly in ``folder``."""
        folder = Path(folder)
        return cls(folder, [Path(p).name for p in paths])

    def __len__(self) -> int:
        return self.count

    def __getstate__(self):
        return {slot: getattr(self, slot) for slot in self.__slots__}

    def __setstate__(self, state):
        for slot, value in state.items():
            setattr(self, slot, value)

    def name(self, i: int) -> str:
        """File name of frame ``i`` (0-based)."""
        return self.names[i] if self.names is not None else self.pattern.format(self.first + i)

    def path(self, i: int) -> Optional[str]:
        """Full path of frame ``i`` (0-based)."""
        return str(Path(self.folder) / self.name(i))

    def paths(self) -> List[str]:
        return [self.path(i) for i in range(self.count)]

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` as HxWx3 uint8 BGR."""
        return read_image(self.path(i))

    def __repr__(self) -> str:
        what = self.pattern if self.pattern is not None else f"{self.count} names"
        return f"ImageFiles({self.folder!r}, {what}, first={self.first}, count={self.count})"
