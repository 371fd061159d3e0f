"""Frame stores: where a sequence's pixels come from.

A frame store is a small picklable object with
    len(store)            N frames
    store.read(i)         frame i (0-based) as an HxWx3 uint8 BGR array, decoded now
    store.path(i)         its image file, or None when the frames are not files (a rosbag2 topic)
and optionally ``store.iter_images()`` (all frames in order, streamed: cheaper than N ``read`` calls
for a recording). It holds no decoded image, so lists of sequences are cheap to send to worker
processes. Stores here: ``ImageFiles`` (image files on disk) and ``FrameSlice`` (frames start..stop of
another store); ``fcot_ros.datasets.rosbag.BagFrames`` reads rosbag2 topics. A new kind of footage
(an MP4 file, a live stream) is one more class with these methods.
"""
import re
from pathlib import Path
from typing import Iterator, List, Optional
from typing import Sequence as SequenceType

import cv2
import numpy as np

from fcot_ros.datasets.parsing import list_images
from fcot_ros.errors import DatasetError

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


def iter_store(store) -> Iterator[np.ndarray]:
    """Every frame of ``store`` in order (its ``iter_images`` when it streams, else ``read(i)``)."""
    if hasattr(store, "iter_images"):
        yield from store.iter_images()
        return
    for i in range(len(store)):
        yield store.read(i)


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
        return cls(Path(folder), [Path(p).name for p in paths])

    @classmethod
    def of(cls, paths: SequenceType) -> "ImageFiles":
        """A store of any list of image paths (one folder: compact; several: full paths kept)."""
        paths = [Path(p) for p in paths]
        parents = {p.parent for p in paths}
        if len(parents) == 1:
            return cls.from_paths(parents.pop(), paths)
        return cls("", [str(p) for p in paths])

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
        """Full paths of all frames, in order."""
        return [self.path(i) for i in range(self.count)]

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` as HxWx3 uint8 BGR."""
        return read_image(self.path(i))

    def __repr__(self) -> str:
        what = self.pattern if self.pattern is not None else f"{self.count} names"
        return f"ImageFiles({self.folder!r}, {what}, first={self.first}, count={self.count})"


class FrameSlice:
    """Frames ``start .. stop - 1`` of another store (a segment of a sequence), renumbered from 0."""

    def __init__(self, store, start: int, stop: int):
        if not 0 <= start <= stop <= len(store):
            raise IndexError(f"frames {start}..{stop} outside 0..{len(store)}")
        self.store, self.start, self.stop = store, int(start), int(stop)

    def __len__(self) -> int:
        return self.stop - self.start

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` of the slice (frame ``start + i`` of the store) as HxWx3 uint8 BGR."""
        return self.store.read(self.start + i)

    def path(self, i: int) -> Optional[str]:
        """Path of frame ``i`` of the slice, or None when the frames are not files (a rosbag2 topic without cache)."""
        return self.store.path(self.start + i)

    def iter_images(self) -> Iterator[np.ndarray]:
        """The slice's frames in order (sequential stores are read from their start, skipping earlier frames)."""
        if not hasattr(self.store, "iter_images"):         # random access: read only the slice
            for i in range(self.start, self.stop):
                yield self.store.read(i)
            return
        for i, image in enumerate(self.store.iter_images()):
            if i >= self.stop:
                return
            if i >= self.start:
                yield image


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
