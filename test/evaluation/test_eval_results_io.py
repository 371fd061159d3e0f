"""Result files: layouts, round trip, resumability checks and the server submission formats."""
import zipfile

import numpy as np
import pytest

from fcot_ros.evaluation import results_io
from fcot_ros.evaluation.runner import SequenceRun


def _run(n=4):
    boxes = np.array([[1.5, 2.25, 10, 20]] * n)
    boxes[2] = np.nan
    return SequenceRun(boxes=boxes, times_s=np.linspace(0.01, 0.04, n), scores=np.ones(n),
                       states=["init"] + ["tracking"] * (n - 1))


@pytest.mark.parametrize("layout, boxes_rel, times_rel, delimiter", [
    ("pytracking", "trk/otb/Seq.txt", "trk/otb/Seq_time.txt", "\t"),
    ("got10k", "otb/trk/Seq.txt", "otb/trk/times/Seq_time.txt", ","),
])
def test_layouts_round_trip(tmp_path, layout, boxes_rel, times_rel, delimiter):
    run = _run()
    path = results_io.write_result(tmp_path, "otb", "trk", "Seq", run, layout)
    assert path == tmp_path / boxes_rel and (tmp_path / times_rel).is_file()
    assert delimiter in path.read_text().splitlines()[0]
    boxes, times = results_io.read_result(tmp_path, "otb", "trk", "Seq", layout)
    np.testing.assert_allclose(boxes, run.boxes)
    np.testing.assert_allclose(times, run.times_s, atol=1e-6)
    assert results_io.is_complete(tmp_path, "otb", "trk", "Seq", 4, layout)
    assert not results_io.is_complete(tmp_path, "otb", "trk", "Seq", 5, layout)
    assert not results_io.is_complete(tmp_path, "otb", "trk", "Other", 4, layout)


def test_pytracking_style_file_reads_with_numpy(tmp_path):
    path = results_io.write_result(tmp_path, "d", "t", "s", _run(), "pytracking")
    np.testing.assert_allclose(np.loadtxt(path, delimiter="\t")[0], [1.5, 2.25, 10, 20])


def test_got10k_submission_layout(tmp_path):
    run = _run(3)
    archive = results_io.write_got10k_submission(tmp_path / "fcot_lite",
                                                 {"GOT-10k_Test_000001": (run.boxes, run.times_s)})
    assert archive.name == "fcot_lite.zip"
    with zipfile.ZipFile(archive) as z:
        names = sorted(z.namelist())
        assert names == ["GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt",
                         "GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt"]
        first = z.read(names[0]).decode().splitlines()[0]
    assert first == "1.5000,2.2500,10.0000,20.0000"


def test_trackingnet_submission_layout(tmp_path):
    run = _run(3)
    archive = results_io.write_trackingnet_submission(tmp_path / "sub", {"abc": (run.boxes, run.times_s)})
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == ["abc.txt"]
        assert len(z.read("abc.txt").decode().splitlines()) == 3
