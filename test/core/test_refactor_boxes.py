"""The model-API refactor (branch target models, the assembly room, the shared steepest-descent
loop) changed no box: fcot_lite's boxes on two shared sequences equal those of the code before it
(commit PRE_REFACTOR, read from this repository's history), both runs in fresh processes here."""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import SEQUENCES

PRE_REFACTOR = "a592fec"          # main before the model-API refactor
REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "scripts" / "record_boxes.py"
FRAMES = 60
NAMES = ("otb_Car4", "vot_book")


def _old_tree(tmp_path):
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", PRE_REFACTOR, "fcot_ros"],
                                 capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"commit {PRE_REFACTOR} is not available in this checkout ({exc})")
    path = tmp_path / "archive.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path / "old", filter="data")
    return tmp_path / "old"


def _record(code_root):
    env = {**os.environ, "PYTHONPATH": str(code_root), "OMP_NUM_THREADS": "2"}
    run = subprocess.run([sys.executable, str(SCRIPT), str(SEQUENCES), str(FRAMES), *NAMES], env=env,
                         capture_output=True, text=True, timeout=600, cwd=str(code_root))
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_boxes_unchanged_by_the_refactor(tmp_path, load_sequence):
    old = _record(_old_tree(tmp_path))
    new = _record(REPO)
    for name in NAMES:
        diff = np.abs(np.asarray(old[name]) - np.asarray(new[name]))
        assert diff.shape == (FRAMES - 1, 4)
        assert diff.max() == 0.0, f"{name}: max box difference {diff.max():.3g} px"
