"""Helpers of the evaluation tests (tiny fixture writers); a uniquely named module so that it never
clashes with another test folder's conftest."""
from pathlib import Path

import numpy as np

SHARED_SEQUENCES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sequences"


def touch_frames(folder: Path, numbers, digits: int = 4, ext: str = "jpg") -> None:
    """Empty image files named like a benchmark's frames (readers only list them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / f"{n:0{digits}d}.{ext}").touch()


def write_boxes(path: Path, boxes, delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(delimiter.join(f"{v:g}" for v in row) + "\n" for row in np.asarray(boxes, float)))


def boxes_for(n: int, start: float = 0.0) -> np.ndarray:
    """n distinct boxes (x = start + i) so a test can tell which rows a reader kept."""
    return np.array([[start + i, 2.0, 10.0, 20.0] for i in range(n)])
