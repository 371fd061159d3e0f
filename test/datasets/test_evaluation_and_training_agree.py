"""Evaluation (``fcot_ros.evaluation.loading.load_dataset``, what ``fcot eval`` / ``fcot bench`` read) and
training (``training.data.sources.load_source``, what a recipe reads) go through the one dataset
package: the same files give the same sequence, boxes, flags and pixels on both sides."""
import numpy as np
from datasets_fixtures import bag_frames, boxes_for, write_bag, write_boxes

from fcot_ros.datasets import Sequence
from fcot_ros.evaluation.loading import load_dataset
from training.data.sources import load_source


def _assert_same(ev: Sequence, tr: Sequence, frames_to_compare):
    assert type(ev) is type(tr) is Sequence
    assert (ev.name, ev.dataset, ev.video, ev.tags) == (tr.name, tr.dataset, tr.video, tr.tags)
    np.testing.assert_array_equal(ev.boxes, tr.boxes)                 # NaN rows in the same places
    np.testing.assert_array_equal(ev.visible, tr.visible)
    assert ev.frame_paths() == tr.frame_paths()
    streamed = ev.iter_frames()                                       # OPE streams, training picks frames
    for i in range(max(frames_to_compare) + 1):
        image = next(streamed)
        if i in frames_to_compare:
            np.testing.assert_array_equal(image, tr.frame(i))
            np.testing.assert_array_equal(image, ev.frame(i))


def test_shared_folders_read_alike(shared_sequences):
    training = {s.name: s for s in load_source("folder", shared_sequences)}
    evaluation = load_dataset("folder", shared_sequences)
    assert sorted(training) == [s.name for s in evaluation]           # OPE lists folders by name
    for ev in evaluation:
        tr = training[ev.name]
        frames = {0, len(ev) // 2} if ev.name in ("otb_Crossing", "uav_group2_2") else {0}
        _assert_same(ev, tr, frames)
    group = next(s for s in evaluation if s.name == "uav_group2_2")
    assert int((~group.visible).sum()) == 5 == int(np.isnan(group.boxes).any(axis=1).sum())
    crossing = next(s for s in evaluation if s.name == "otb_Crossing")
    assert crossing.tags == ("SV", "DEF", "BC") and crossing.attributes["dataset"] == "OTB-100"


def test_got10k_val_reads_alike(tmp_path):
    import cv2
    folder = tmp_path / "val" / "GOT-10k_Val_000001"
    folder.mkdir(parents=True)
    for i in range(4):
        cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), np.full((12, 16, 3), 30 * i, np.uint8))
    write_boxes(folder / "groundtruth.txt", boxes_for(4))
    (folder / "absence.label").write_text("0\n0\n1\n0\n")
    (folder / "cover.label").write_text("8\n0\n0\n8\n")
    (folder / "meta_info.ini").write_text("[METAINFO]\nobject_class: goose\nmotion_class: flying\n")
    (tmp_path / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    (ev,) = load_dataset("got10k_val", tmp_path)
    (tr,) = load_source("got10k", tmp_path, split="val")
    _assert_same(ev, tr, {0, 3})
    assert ev.absent.tolist() == [False, True, True, False]           # absence 1 or cover 0, both sides
    assert ev.tags == ("object:goose", "motion:flying") and tr.attributes["object_class"] == "goose"


def test_rosbag_reads_alike(tmp_path):
    bag = tmp_path / "run"
    write_bag(bag, bag_frames(3), padding=2)
    (bag / "groundtruth.txt").write_text("1,2,10,12\nnan,nan,nan,nan\n3,2,10,12\n")
    (ev,) = load_dataset("rosbag", bag)
    (tr,) = load_source("rosbag", bag, cache_dir=tmp_path / "cache")
    assert ev.frame_path(0) is None and tr.frame_path(0).endswith("000000.png")   # streamed vs cached
    np.testing.assert_array_equal(ev.boxes, tr.boxes)
    for i, image in enumerate(ev.iter_frames()):
        np.testing.assert_array_equal(image, tr.frame(i))
