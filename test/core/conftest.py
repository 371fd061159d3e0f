"""Fixtures of the core tests: the shared real sequences and a loader for them."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from fcot_ros.tracker.box_geometry import box_iou as iou  # noqa: F401  (the tests' IoU is the package's)

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
