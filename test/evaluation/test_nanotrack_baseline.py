"""opencv_nano: OpenCV's TrackerNano (NanoTrack v2) as a baseline, with its files from the
``weights`` parameter or $FCOT_NANO_DIR, a clear error without them, and its row in fcot bench."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fcot_ros import build_tracker
from fcot_ros.baselines.opencv_trackers import NANO_FILES, nanotrack_files
from fcot_ros.errors import CheckpointError, ConfigurationError
from fcot_ros.evaluation.loading import load_dataset
from fcot_ros.evaluation.runner import parse_trackers, run_sequence
from fcot_ros.tracker.box_geometry import box_iou

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
NANO_DIR = SHARED / "baselines" / "nanotrack"


@pytest.fixture(scope="module")
def nano_dir():
    if not all((NANO_DIR / f).is_file() for f in NANO_FILES):
        pytest.skip(f"NanoTrack v2 files not found in {NANO_DIR}")
    return NANO_DIR


def test_missing_files_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("FCOT_NANO_DIR", raising=False)
    with pytest.raises(CheckpointError, match="FCOT_NANO_DIR"):
        build_tracker(model="opencv_nano")
    with pytest.raises(CheckpointError, match=str(tmp_path / NANO_FILES[0])):
        build_tracker(model="opencv_nano", weights=str(tmp_path))
    monkeypatch.setenv("FCOT_NANO_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CheckpointError, match=r"nowhere.*\$FCOT_NANO_DIR"):
        build_tracker(model="opencv_nano")


def test_corrupt_files_are_refused(tmp_path, nano_dir):
    for name in NANO_FILES:
        (tmp_path / name).write_bytes(b"not an onnx file")
    with pytest.raises(CheckpointError, match="could not load"):
        build_tracker(model="opencv_nano", weights=str(tmp_path))


def test_other_baselines_take_no_files(nano_dir):
    with pytest.raises(ConfigurationError, match="takes no weights"):
        build_tracker(model="opencv_csrt", weights=str(nano_dir))
    # an FCOT checkpoint given to fcot eval / bench goes to the FCOT models only
    specs = parse_trackers("fcot_lite,opencv_nano", weights="some_fcot.pt")
    assert [s.weights for s in specs] == ["some_fcot.pt", None]


@pytest.mark.slow
def test_nano_tracks_a_real_sequence_from_the_environment(nano_dir, monkeypatch):
    monkeypatch.setenv("FCOT_NANO_DIR", str(nano_dir))
    assert nanotrack_files() == tuple(nano_dir / f for f in NANO_FILES)
    sequence = load_dataset("folder", SHARED / "data" / "sequences", ["otb_Car4"])[0]
    run = run_sequence(build_tracker(model="opencv_nano"), sequence)
    gt = sequence.ground_truth
    ious = np.array([box_iou(run.boxes[i], gt[i]) for i in range(1, len(gt))])
    assert ious.mean() > 0.6, ious.mean()           # a car on a road: an easy sequence (measured 0.80)
    assert np.all((run.scores[1:] >= 0) & (run.scores[1:] <= 1)) and np.ptp(run.scores[1:]) > 0   # graded


@pytest.mark.slow
def test_fcot_bench_has_a_nano_row(nano_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("FCOT_NANO_DIR", raising=False)
    root = tmp_path / "seqs"
    root.mkdir()
    (root / "vot_book").symlink_to(SHARED / "data" / "sequences" / "vot_book", target_is_directory=True)
    proc = subprocess.run([sys.executable, "-m", "fcot_ros.cli.main", "bench", "--sequences", str(root),
                           "--trackers", "opencv_nano,opencv_kcf", "--nano-dir", str(nano_dir), "--out",
                           str(tmp_path / "out"), "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["label"]: r for r in json.loads((tmp_path / "out" / "bench.json").read_text())["rows"]}
    assert set(rows) == {"opencv_nano", "opencv_kcf"}
    assert rows["opencv_nano"]["summary"]["auc"] > 0.1 and rows["opencv_nano"]["fps"] > 0
    assert "--nano-dir" in json.loads((tmp_path / "out" / "bench.json").read_text())["command"]
