"""Smoke tests of fcot eval / bench / track through the dispatcher's main(argv)."""
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from eval_fixtures import touch_frames, write_boxes

from fcot_ros.cli.main import main


def _short_copy(src, dst, n):
    """The first n frames of a shared sequence, in our folder layout."""
    (dst / "img").mkdir(parents=True)
    for path in sorted((src / "img").iterdir())[:n]:
        shutil.copy(path, dst / "img" / path.name)
    lines = (src / "groundtruth.txt").read_text().splitlines()[:n]
    (dst / "groundtruth.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def short_sequences(tmp_path_factory, shared_sequences):
    root = tmp_path_factory.mktemp("seqs")
    _short_copy(shared_sequences / "otb_Crossing", root / "otb_Crossing", 25)
    _short_copy(shared_sequences / "vot_bag", root / "vot_bag", 25)
    return root


@pytest.mark.slow
def test_eval_writes_results_report_and_plots(tmp_path, short_sequences, capsys):
    out = tmp_path / "results"
    argv = ["eval", "--dataset", "folder", "--root", str(short_sequences), "--trackers", "opencv_kcf,opencv_mil",
            "--out", str(out), "--jobs", "2", "--quiet"]
    assert main(argv) == 0
    for tracker in ("opencv_kcf", "opencv_mil"):
        for seq in ("otb_Crossing", "vot_bag"):
            assert len((out / tracker / "folder" / f"{seq}.txt").read_text().splitlines()) == 25
            assert (out / tracker / "folder" / f"{seq}_time.txt").is_file()
    report_dir = out / "reports" / "folder"
    report = (report_dir / "report.md").read_text()
    assert "| opencv_kcf |" in report and "success.png" in report
    assert "fcot eval --dataset folder --root" in report
    for name in ("success.png", "success.svg", "precision.png", "precision.svg"):
        assert (report_dir / name).stat().st_size > 1000
    # second run: everything is already done
    capsys.readouterr()
    assert main(argv) == 0
    assert "skipped 4 already done" in capsys.readouterr().err


def test_eval_got10k_layout_and_submission(tmp_path):
    seq = tmp_path / "got" / "test" / "GOT-10k_Test_000001"
    seq.mkdir(parents=True)
    for i in range(1, 6):
        image = np.full((48, 64, 3), 40, np.uint8)
        cv2.rectangle(image, (10 + i, 10), (30 + i, 30), (0, 200, 255), -1)
        cv2.imwrite(str(seq / f"{i:08d}.jpg"), image)
    write_boxes(seq / "groundtruth.txt", [[11, 10, 21, 21]])
    out = tmp_path / "res"
    assert main(["eval", "--dataset", "got10k_test", "--root", str(tmp_path / "got"), "--trackers", "opencv_kcf",
                 "--out", str(out), "--layout", "got10k", "--quiet"]) == 0
    assert (out / "got10k_test" / "opencv_kcf" / "GOT-10k_Test_000001.txt").is_file()
    assert (out / "submissions" / "got10k_test" / "opencv_kcf.zip").is_file()


def test_eval_bad_root_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", "--dataset", "otb", "--root", str(tmp_path), "--trackers", "opencv_kcf",
                 "--out", str(tmp_path / "o")]) == 2
    assert "expected <root>/<Sequence>/img/0001.jpg" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_table_and_json(tmp_path, short_sequences, capsys):
    out = tmp_path / "bench"
    code = main(["bench", "--sequences", str(short_sequences), "--trackers", "opencv_kcf,opencv_mil",
                 "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| opencv_kcf | opencv | 2 | 48 |" in printed and "peak RSS MB" in printed
    data = json.loads((out / "bench.json").read_text())
    rows = {r["label"]: r for r in data["rows"]}
    assert rows["opencv_mil"]["fps"] > 0 and rows["opencv_mil"]["peak_rss_mb"] > 10
    assert rows["opencv_kcf"]["stage_ms"]["total"] > 0
    assert (out / "success.png").is_file() and (out / "report.md").is_file()


@pytest.mark.slow
def test_bench_reports_a_failing_configuration(tmp_path, short_sequences, capsys):
    code = main(["bench", "--sequences", str(short_sequences), "--trackers", "opencv_nope",
                 "--out", str(tmp_path / "b"), "--quiet"])
    assert code == 1
    assert "failed" in capsys.readouterr().out


def test_track_sequence_writes_boxes_and_video(tmp_path, short_sequences):
    boxes, video = tmp_path / "boxes.txt", tmp_path / "out.mp4"
    assert main(["track", "--sequence", str(short_sequences / "otb_Crossing"), "--model", "opencv_kcf",
                 "--boxes", str(boxes), "--out", str(video), "--quiet"]) == 0
    lines = boxes.read_text().splitlines()
    assert len(lines) == 25 and lines[0] == "205.00,151.00,17.00,50.00"
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 25
    capture.release()
    # the annotated video is itself a valid --video input
    again = tmp_path / "again.txt"
    assert main(["track", "--video", str(video), "--init", "205,151,17,50", "--model", "opencv_kcf",
                 "--boxes", str(again), "--max-frames", "10", "--quiet"]) == 0
    assert len(again.read_text().splitlines()) == 10


def test_track_needs_an_init_box(tmp_path, capsys):
    touch_frames(tmp_path / "imgs", range(1, 3))
    assert main(["track", "--sequence", str(tmp_path / "imgs"), "--model", "opencv_kcf"]) == 2
    assert "--init" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_on_a_rosbag_recording(tmp_path, short_sequences):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasets"))   # the bag writer
    from datasets_fixtures import TOPIC, write_bag
    src = short_sequences / "otb_Crossing"
    frames = [cv2.imread(str(p)) for p in sorted((src / "img").iterdir())[:15]]
    bag = tmp_path / "bags" / "walk"
    write_bag(bag, frames, compressed=True)
    (bag / "groundtruth.txt").write_text("\n".join((src / "groundtruth.txt").read_text().splitlines()[:15]) + "\n")
    out = tmp_path / "res"
    assert main(["eval", "--dataset", "rosbag", "--root", str(tmp_path / "bags"), "--topic", TOPIC,
                 "--trackers", "opencv_csrt", "--out", str(out), "--jobs", "2", "--quiet"]) == 0
    assert len((out / "opencv_csrt" / "rosbag" / "walk.txt").read_text().splitlines()) == 15
    assert "| opencv_csrt | 1 | 14 |" in (out / "reports" / "rosbag" / "report.md").read_text()


@pytest.mark.slow
def test_bench_goes_on_past_a_failing_sequence(tmp_path, short_sequences, capsys):
    root = tmp_path / "seqs"
    shutil.copytree(short_sequences / "vot_bag", root / "vot_bag")
    shutil.copytree(short_sequences / "vot_bag", root / "zz_broken")
    (root / "zz_broken" / "img" / sorted(p.name for p in (root / "zz_broken" / "img").iterdir())[5]).write_bytes(b"")
    assert main(["bench", "--sequences", str(root), "--trackers", "opencv_kcf", "--out", str(tmp_path / "b"),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "| opencv_kcf | opencv | 1 | 24 |" in printed
    assert "1 sequence(s) failed and are not in its means: zz_broken (DatasetError" in printed
