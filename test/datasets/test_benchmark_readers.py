"""The benchmark readers of fcot_ros.datasets (the layouts ``fcot eval`` reads) on tiny fixtures written in
each benchmark's official layout, and on the real sequence folders."""
import numpy as np
import pytest
from datasets_fixtures import boxes_for, touch_frames, write_boxes

from fcot_ros.datasets import DatasetError
from fcot_ros.datasets import load as load_dataset


def _names(seqs):
    return [s.name for s in seqs]


def _frame_names(seq):
    return [p.rsplit("/", 1)[-1] for p in seq.frame_paths()]


def test_otb_special_cases(tmp_path):
    root = tmp_path / "OTB100"
    touch_frames(root / "Crossing" / "img", range(1, 6))
    write_boxes(root / "Crossing" / "groundtruth_rect.txt", boxes_for(5), delimiter="\t")
    touch_frames(root / "David" / "img", range(1, 306))                 # annotated from frame 300
    write_boxes(root / "David" / "groundtruth_rect.txt", boxes_for(6))
    touch_frames(root / "BlurCar3" / "img", range(3, 9))                # no frames before 0003
    write_boxes(root / "BlurCar3" / "groundtruth_rect.txt", boxes_for(6), delimiter=" ")
    touch_frames(root / "Tiger1" / "img", range(1, 11))                 # first 5 frames left out
    write_boxes(root / "Tiger1" / "groundtruth_rect.txt", boxes_for(10))
    touch_frames(root / "Diving" / "img", range(1, 11))                 # annotation shorter than folder
    write_boxes(root / "Diving" / "groundtruth_rect.txt", boxes_for(8))
    touch_frames(root / "Board" / "img", range(1, 4), digits=5)
    write_boxes(root / "Board" / "groundtruth_rect.txt", boxes_for(3))
    touch_frames(root / "Jogging" / "img", range(1, 4))
    write_boxes(root / "Jogging" / "groundtruth_rect.1.txt", boxes_for(3))
    write_boxes(root / "Jogging" / "groundtruth_rect.2.txt", boxes_for(3, start=100))
    touch_frames(root / "Human4" / "img", range(1, 4))
    write_boxes(root / "Human4" / "groundtruth_rect.2.txt", boxes_for(3))
    (root / "Human4" / "groundtruth_rect1.txt").touch()                # empty file of the release

    seqs = {s.name: s for s in load_dataset("otb", root)}
    assert sorted(seqs) == ["BlurCar3", "Board", "Crossing", "David", "Diving", "Human4.2",
                            "Jogging.1", "Jogging.2", "Tiger1"]
    assert _frame_names(seqs["David"])[0] == "0300.jpg" and len(seqs["David"]) == 6
    assert _frame_names(seqs["BlurCar3"])[0] == "0003.jpg"
    assert _frame_names(seqs["Tiger1"])[0] == "0006.jpg" and len(seqs["Tiger1"]) == 5
    assert seqs["Tiger1"].ground_truth[0, 0] == 5.0                    # the 6th box
    assert len(seqs["Diving"]) == 8
    assert _frame_names(seqs["Board"])[0] == "00001.jpg"
    assert seqs["Jogging.2"].ground_truth[0, 0] == 100.0
    assert load_dataset("otb", root, ["Jogging.1"])[0].name == "Jogging.1"


def test_otb_root_errors(tmp_path):
    with pytest.raises(DatasetError, match="not a directory.*groundtruth_rect"):
        load_dataset("otb", tmp_path / "missing")
    with pytest.raises(DatasetError, match="no sequence folder"):
        load_dataset("otb", tmp_path)
    touch_frames(tmp_path / "Car4" / "img", range(1, 3))
    write_boxes(tmp_path / "Car4" / "groundtruth_rect.txt", boxes_for(4))
    with pytest.raises(DatasetError, match="missing"):
        load_dataset("otb", tmp_path)
    with pytest.raises(DatasetError, match="no sequence named"):
        load_dataset("otb", tmp_path, ["Nope"])


def test_uav123_subsequence_ranges_30fps_and_10fps(tmp_path):
    root = tmp_path / "UAV123"
    touch_frames(root / "data_seq" / "UAV123" / "person12", range(1, 1622), digits=6)
    write_boxes(root / "anno" / "UAV123" / "person12_2.txt", boxes_for(1021))
    touch_frames(root / "data_seq" / "UAV123" / "bike2", range(1, 6), digits=6)
    gt = boxes_for(5)
    gt[3] = np.nan                                                        # full occlusion row
    write_boxes(root / "anno" / "UAV123" / "bike2.txt", gt)
    (root / "anno" / "UAV123" / "att").mkdir()
    (root / "anno" / "UAV123" / "att" / "bike2.txt").write_text("1,0,0,1,0,0,0,0,0,0,1,0\n")
    seqs = {s.name: s for s in load_dataset("uav123", root)}
    assert _frame_names(seqs["person12_2"])[0] == "000601.jpg"
    assert _frame_names(seqs["person12_2"])[-1] == "001621.jpg"
    assert np.isnan(seqs["bike2"].ground_truth[3]).all()
    assert seqs["bike2"].tags == ("SV", "FM", "CM")

    ten = tmp_path / "UAV123_10fps"
    touch_frames(ten / "data_seq" / "UAV123_10fps" / "person12", range(1, 542), digits=6)
    write_boxes(ten / "anno" / "UAV123_10fps" / "person12_2.txt", boxes_for(341))
    seq = load_dataset("uav123_10fps", ten)[0]
    assert _frame_names(seq)[0] == "000201.jpg" and len(seq) == 341

    write_boxes(ten / "anno" / "UAV123_10fps" / "person12_2.txt", boxes_for(340))
    with pytest.raises(DatasetError, match="table gives frames 201-541"):
        load_dataset("uav123_10fps", ten)
    with pytest.raises(DatasetError, match="data_seq"):
        load_dataset("uav123", tmp_path)


def test_lasot_test_split_and_absence(tmp_path):
    for name in ("airplane-1", "airplane-2"):
        seq = tmp_path / "airplane" / name
        touch_frames(seq / "img", range(1, 6), digits=8)
        write_boxes(seq / "groundtruth.txt", boxes_for(5))
        (seq / "full_occlusion.txt").write_text("0,0,1,0,0\n")
        (seq / "out_of_view.txt").write_text("0,0,0,0,1\n")
    (tmp_path / "testing_set.txt").write_text("airplane-1\n")
    seqs = load_dataset("lasot", tmp_path)
    assert _names(seqs) == ["airplane-1"]
    np.testing.assert_array_equal(seqs[0].absent, [False, False, True, False, True])
    assert seqs[0].tags == ("airplane",)
    with pytest.raises(DatasetError, match="LaSOT"):
        load_dataset("lasot", tmp_path / "airplane" / "airplane-1" / "img")


def test_got10k_val_and_test(tmp_path):
    val = tmp_path / "val" / "GOT-10k_Val_000001"
    touch_frames(val, range(1, 5), digits=8)
    write_boxes(val / "groundtruth.txt", boxes_for(4))
    (val / "absence.label").write_text("0\n0\n1\n0\n")
    (val / "meta_info.ini").write_text("[METAINFO]\nurl: https://example.org/v\nobject_class: goose\n"
                                       "motion_class: flying\nresolution: (1920, 1080)\n")
    (tmp_path / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    seq = load_dataset("got10k_val", tmp_path)[0]
    assert seq.has_ground_truth and seq.absent.tolist() == [False, False, True, False]
    assert seq.tags == ("object:goose", "motion:flying")
    assert load_dataset("got10k_val", tmp_path / "val")[0].name == "GOT-10k_Val_000001"  # split folder as root

    test = tmp_path / "test" / "GOT-10k_Test_000001"
    touch_frames(test, range(1, 4), digits=8)
    write_boxes(test / "groundtruth.txt", boxes_for(1))
    seq = load_dataset("got10k_test", tmp_path)[0]
    assert not seq.has_ground_truth and len(seq) == 3 and np.isnan(seq.ground_truth[1:]).all()
    with pytest.raises(DatasetError, match="GOT-10k test"):
        load_dataset("got10k_test", tmp_path / "val" / "GOT-10k_Val_000001")


def test_trackingnet_test(tmp_path):
    frames = tmp_path / "TEST" / "frames" / "seqA"
    frames.mkdir(parents=True)
    for i in range(12):
        (frames / f"{i}.jpg").touch()
    write_boxes(tmp_path / "TEST" / "anno" / "seqA.txt", boxes_for(1))
    seq = load_dataset("trackingnet", tmp_path)[0]
    assert _frame_names(seq)[:3] == ["0.jpg", "1.jpg", "2.jpg"] and _frame_names(seq)[-1] == "11.jpg"
    assert not seq.has_ground_truth
    with pytest.raises(DatasetError, match="TEST/frames"):
        load_dataset("trackingnet", tmp_path / "TEST" / "frames")


def test_nfs_30fps_uses_every_8th_240fps_row(tmp_path):
    seq_dir = tmp_path / "Gymnastics" / "30"
    touch_frames(seq_dir / "Gymnastics", range(1, 5), digits=5)
    rows = []
    for i in range(32):
        lost = 1 if i == 16 else 0
        rows.append(f'1 {i} 10 {i + 30} 50 {i + 1} {lost} 0 0 "person"')
    (seq_dir / "Gymnastics.txt").write_text("\n".join(rows) + "\n")
    seq = load_dataset("nfs", tmp_path)[0]
    assert len(seq) == 4
    np.testing.assert_allclose(seq.ground_truth[1], [8, 10, 30, 40])   # corners -> x, y, w, h
    assert seq.absent.tolist() == [False, False, True, False]
    with pytest.raises(DatasetError, match="NfS"):
        load_dataset("nfs", seq_dir)


def test_vot_polygons_tags_and_list(tmp_path):
    seq = tmp_path / "bag"
    touch_frames(seq / "color", range(1, 4), digits=8)
    (seq / "groundtruth.txt").write_text("5,0,10,5,5,10,0,5\n6,0,11,5,6,10,1,5\n7,0,12,5,7,10,2,5\n")
    (seq / "occlusion.tag").write_text("0\n1\n0\n")
    (seq / "camera_motion.tag").write_text("0\n0\n0\n")
    rect = tmp_path / "ball"
    touch_frames(rect, range(1, 3), digits=8)                              # images directly in the folder
    write_boxes(rect / "groundtruth.txt", boxes_for(2))
    (tmp_path / "list.txt").write_text("bag\nball\n")
    seqs = load_dataset("vot", tmp_path)
    assert _names(seqs) == ["bag", "ball"]
    np.testing.assert_allclose(seqs[0].ground_truth[0], [0, 0, 10, 10])
    assert seqs[0].tags == ("occlusion",)
    area = load_dataset("vot", tmp_path, ["bag"], polygon="area")[0]
    assert area.ground_truth[0, 2] == pytest.approx(10 * np.sqrt(0.5))
    (seq / "groundtruth.txt").write_text("m1,2,3\n")
    with pytest.raises(DatasetError, match="mask"):
        load_dataset("vot", tmp_path, ["bag"])


def test_folder_reader_on_shared_and_absent_rows(tmp_path, shared_sequences):
    seqs = load_dataset("folder", shared_sequences)
    assert len(seqs) == 15
    group = next(s for s in seqs if s.name == "uav_group2_2")
    assert np.isnan(group.ground_truth).any(axis=1).sum() == 5
    crossing = next(s for s in seqs if s.name == "otb_Crossing")
    assert len(crossing) == 120 and crossing.tags == ("SV", "DEF", "BC")
    single = load_dataset("folder", shared_sequences / "vot_bag")
    assert _names(single) == ["vot_bag"]
    (tmp_path / "x" / "img").mkdir(parents=True)
    touch_frames(tmp_path / "x" / "img", range(1, 3), digits=6)
    write_boxes(tmp_path / "x" / "groundtruth.txt", boxes_for(3))
    with pytest.raises(DatasetError, match=r"x/groundtruth.txt has 3 boxes but .*x/img has 2 images"):
        load_dataset("folder", tmp_path)


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("imagenet", ".")
