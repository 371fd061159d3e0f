"""training.distill on the real training pool: a short run lowers the separable network's error
against the full one on held-out crops (measured by an independent forward of both networks, not by
the run's own log), the file it writes loads as a separable fcot_lite that tracks, and a resumed run
ends where a straight run ends."""
import cv2
import numpy as np
import pytest
import torch

from fcot_ros.assembly import build_tracker, load_model
from fcot_ros.assembly.registry import FULL_WEIGHTS, WEIGHTS_DIR
from training.config import load_recipe
from training.distill import CropStream, held_out_errors, main

pytestmark = pytest.mark.slow

TEACHER = WEIGHTS_DIR / FULL_WEIGHTS


def _run(out, steps, extra=()):
    argv = ["--rank", "1", "--minutes", "5", "--max-steps", str(steps), "--batch", "1", "--held-out-samples", "1",
            "--log-every", "100", "--teacher", str(TEACHER), "--out", str(out), *extra]
    assert main(argv) == 0


def test_short_distillation_lowers_the_error_and_writes_a_separable_model(shared_data, tmp_path):
    _run(tmp_path / "a", 8)
    teacher = load_model("fcot_lite", str(TEACHER), crop_size=224)
    student = load_model("fcot_lite", str(tmp_path / "a" / "student.pt"), crop_size=224)
    assert student.config.separable_rank == 1
    from fcot_ros.models.separable_conversion import to_separable
    start, _ = to_separable(teacher, 1)
    # other crops than the run's own held-out set (another seed): what the student learnt carries over
    crops = CropStream(load_recipe("training/configs/fcot_lite_cpu.yaml"), 224, 3.5, seed=77).batch(0, 2)
    before, after = held_out_errors(start, teacher, crops), held_out_errors(student, teacher, crops)
    print("relative squared error before", before, "after", after)
    assert after["cls72"] < 0.5 * before["cls72"] and after["reg"] < 0.5 * before["reg"]
    root = shared_data / "sequences" / "otb_Car4"
    frames = sorted((root / "img").glob("*.jpg"))
    boxes = np.loadtxt(root / "groundtruth.txt", delimiter=",", ndmin=2)
    tracker = build_tracker(model="fcot_lite", weights=str(tmp_path / "a" / "student.pt"), backend="torch")
    tracker.initialize(cv2.imread(str(frames[0])), tuple(boxes[0]))
    results = [tracker.track(cv2.imread(str(frames[k]))) for k in range(1, 11)]
    assert all(np.isfinite(r.box).all() for r in results)


def test_resumed_distillation_ends_where_a_straight_run_ends(shared_data, tmp_path):
    _run(tmp_path / "straight", 4)
    _run(tmp_path / "half", 2)
    _run(tmp_path / "half", 4, ["--resume", str(tmp_path / "half" / "state.pt")])
    a = load_model("fcot_lite", str(tmp_path / "straight" / "student.pt")).state_dict()
    b = load_model("fcot_lite", str(tmp_path / "half" / "student.pt")).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_separable_teacher_or_another_ranks_state_is_refused(shared_data, tmp_path, capsys):
    _run(tmp_path / "r1", 1)
    assert main(["--rank", "1", "--minutes", "1", "--max-steps", "1", "--teacher", str(tmp_path / "r1" / "student.pt"),
                 "--out", str(tmp_path / "x")]) == 2
    assert "already separable" in capsys.readouterr().err
    assert main(["--rank", "2", "--minutes", "1", "--max-steps", "1", "--teacher", str(TEACHER), "--out",
                 str(tmp_path / "y"), "--resume", str(tmp_path / "r1" / "state.pt")]) == 2
    assert "rank-1 run, not rank 2" in capsys.readouterr().err
