"""Fixtures of the core tests: the shared real sequences and a loader for them."""
from pathlib import Path

import cv2
import numpy as np
import pytest

SEQUENCES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sequences"


class Sequence:
    def __init__(self, name):
        self.name = name
        self.root = SEQUENCES / name
        self.frames = sorted((self.root / "img").glob("*.jpg"))
        self.groundtruth = np.loadtxt(self.root / "groundtruth.txt", delimiter=",", ndmin=2)

    def image(self, index):
        return cv2.imread(str(self.frames[index]), cv2.IMREAD_COLOR)


@pytest.fixture(scope="session")
def load_sequence():
    if not SEQUENCES.is_dir():
        pytest.skip(f"shared sequences not found at {SEQUENCES}")
    return Sequence


def iou(a, b):
    """IoU of two (x, y, w, h) boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
