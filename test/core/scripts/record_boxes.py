"""Print the boxes the training-free fcot_lite (torch backend; the older tree's "default" preset) gives on the first frames of shared
sequences, as JSON, with whatever fcot_ros is first on sys.path (the tests run it on two code trees).

    python record_boxes.py SEQUENCES_DIR FRAMES NAME [NAME ...]
"""
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from fcot_ros import build_tracker


# Behaviour added after the recorded code, switched off where the running tree knows it, so that
# both trees compute the same thing: field -> the value that reproduces the older behaviour.
OLDER_BEHAVIOUR = {"max_update_iter_per_frame": 0}


def _overrides():
    try:
        from dataclasses import fields
        from fcot_ros.tracker.params import TrackerParams
    except ImportError:
        return {}
    known = {f.name for f in fields(TrackerParams)}
    return {k: v for k, v in OLDER_BEHAVIOUR.items() if k in known}


def _training_free_preset():
    """The hand-initialised network's preset: "training_free" since the shipped weights, "default" before."""
    from fcot_ros.tracker.params import PRESETS
    return "training_free" if "training_free" in PRESETS else "default"


def main(root, frames, names):
    tracker = build_tracker(model="fcot_lite", backend="torch", preset=_training_free_preset(), **_overrides())
    out = {}
    for name in names:
        files = sorted((Path(root) / name / "img").glob("*.jpg"))[:frames]
        gt = np.loadtxt(Path(root) / name / "groundtruth.txt", delimiter=",", ndmin=2)
        tracker.initialize(cv2.imread(str(files[0])), tuple(gt[0]))
        out[name] = [list(tracker.track(cv2.imread(str(f))).box) for f in files[1:]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
