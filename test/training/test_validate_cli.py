"""training.validate on real footage: the first frames of two shared sequences, OpenCV CSRT and
fcot_lite (the shipped weights) side by side. bench.json holds one row per tracker with its metrics in
[0, 1] and an AUC per sequence that the written result files reproduce; report.md has the tables; a
missing or empty split file, a video no root holds and a bad --tracker are clear errors (status 2)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training import validate

REPO = Path(__file__).resolve().parents[2]
NAMES = ("otb_Crossing", "uav_building5")          # 120 and 161 frames; the first FRAMES of each are used
FRAMES = 25
TRACKERS = ['{"model": "opencv_csrt"}', '{"name": "lite", "model": "fcot_lite"}']


@pytest.fixture(scope="module")
def short_root(shared_data, tmp_path_factory) -> Path:
    """A sequence root with the first FRAMES real frames (links) and ground-truth rows of NAMES."""
    root = tmp_path_factory.mktemp("short") / "sequences"
    for name in NAMES:
        source = shared_data / "sequences" / name
        (root / name / "img").mkdir(parents=True)
        for image in sorted((source / "img").iterdir())[:FRAMES]:
            (root / name / "img" / image.name).symlink_to(image)
        rows = (source / "groundtruth.txt").read_text().splitlines()[:FRAMES]
        (root / name / "groundtruth.txt").write_text("\n".join(rows) + "\n")
    return root


def _split(path: Path, *names) -> Path:
    path.write_text("# validation videos of the test\n" + "".join(f"{n}\n" for n in names))
    return path


def _auc(result_file: Path, groundtruth: Path) -> float:
    """Success AUC of a result file, computed here (OTB: frames after the first, IoU > t, t = 0 .. 1)."""
    pred = np.loadtxt(result_file, delimiter="\t", ndmin=2)[1:]
    gt = np.loadtxt(groundtruth, delimiter=",", ndmin=2)[1:len(pred) + 1]
    x1, y1 = np.maximum(pred[:, 0], gt[:, 0]), np.maximum(pred[:, 1], gt[:, 1])
    x2 = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    y2 = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    iou = inter / (pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter)
    return float(np.mean([(iou > t).mean() for t in np.linspace(0, 1, 21)]))


# Shown to fail, each defect put into a copy of training/ (the tree itself untouched): run() benching
# only the first --tracker -> labels ['opencv_csrt']; validation_folder() keeping only the first video
# it finds -> 24 frames tracked, not 48.
@pytest.mark.slow
def test_validate_writes_rows_and_per_sequence_scores(short_root, tmp_path):
    out = tmp_path / "val"
    cmd = [sys.executable, "-m", "training.validate", "--split", str(_split(tmp_path / "split.txt", *NAMES)),
           "--roots", str(short_root), "--out", str(out), "--quiet"]
    for tracker in TRACKERS:
        cmd += ["--tracker", tracker]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    assert [row["label"] for row in bench["rows"]] == ["opencv_csrt", "lite"]
    for row in bench["rows"]:
        assert not row.get("error") and not row.get("failed"), row
        assert row["frames"] == len(NAMES) * (FRAMES - 1)     # every frame after the first was tracked
        summary = row["summary"]
        assert summary["sequences"] == len(NAMES)
        for key in ("auc", "precision", "norm_precision"):
            assert 0.0 <= summary[key] <= 1.0, (row["label"], key, summary[key])
        per_sequence = row["per_sequence_auc"]
        assert sorted(per_sequence) == sorted(NAMES)
        # both trackers follow these easy starts (an AUC near 0 would mean boxes of another frame or scale)
        assert all(0.3 < auc <= 1.0 for auc in per_sequence.values()), per_sequence
        assert summary["auc"] == pytest.approx(np.mean(list(per_sequence.values())), abs=1e-9)
        for name in NAMES:
            result = out / row["label"] / "bench" / f"{name}.txt"
            assert _auc(result, short_root / name / "groundtruth.txt") == pytest.approx(per_sequence[name], abs=0.02)
    report = (out / "report.md").read_text()
    assert report.startswith("# validation") and "python -m training.validate" in report
    assert [line.split("|")[1].strip() for line in report.splitlines()
            if line.startswith("| opencv_csrt |") or line.startswith("| lite |")] == ["opencv_csrt", "lite"]
    assert all(f"| {name} | {FRAMES} |" in report for name in NAMES)
    assert (out / "success.png").is_file()


# Shown to fail, one case each (in a copy of training/): read_split's missing-file raise disabled ->
# FileNotFoundError; its empty-list raise disabled -> another message (no sequence folder); the
# missing-video raise of validation_folder disabled -> exit status 0; tracker_spec's check -> KeyError.
@pytest.mark.parametrize("case", ["no split file", "empty split", "unknown video", "bad tracker"])
def test_validate_refuses_bad_input(case, shared_data, tmp_path, capsys):
    split = _split(tmp_path / "split.txt", "otb_Crossing")
    trackers = ['{"model": "opencv_csrt"}']
    if case == "no split file":
        split = tmp_path / "missing.txt"
        expected = f"split file {split} not found"
    elif case == "empty split":
        split = _split(tmp_path / "empty.txt")
        expected = "lists no validation video"
    elif case == "unknown video":
        split = _split(tmp_path / "split.txt", "otb_Crossing", "otb_NoSuchVideo")
        expected = "validation videos not found under"
    else:
        trackers = ['{"modle": "opencv_csrt"}']
        expected = "--tracker needs model"
    argv = ["--split", str(split), "--roots", str(shared_data / "sequences"), "--out", str(tmp_path / "val")]
    for tracker in trackers:
        argv += ["--tracker", tracker]
    assert validate.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m training.validate: error:") and expected in err, err
    if case == "unknown video":
        assert "otb_NoSuchVideo" in err and "otb_Crossing" not in err.split("not found under", 1)[1]
    assert not list((tmp_path / "val").glob("*.bench.json"))   # no tracker ran
