"""The rosbag2 reader of fcot_ros.datasets, streamed as OPE reads it, on tiny bags written here with
the rosbags package (sqlite3 storage). Random access for training: test_training_layouts.py."""
import numpy as np
import pytest
from datasets_fixtures import TOPIC, write_bag
from datasets_fixtures import bag_frames as _frames

from fcot_ros.datasets import DatasetError
from fcot_ros.datasets import load as load_dataset


def test_raw_images_with_row_padding_and_boxes_per_message(tmp_path):
    frames = _frames(4)
    bag = tmp_path / "run1"
    write_bag(bag, frames, padding=4)
    (bag / "groundtruth.txt").write_text("1,2,10,12\n2,2,10,12\nnan,nan,nan,nan\n3,2,10,12\n")
    seq = load_dataset("rosbag", bag)[0]
    assert seq.name == "run1" and len(seq) == 4
    images = list(seq.iter_frames())
    for got, want in zip(images, frames):
        np.testing.assert_array_equal(got, want)
    assert np.isnan(seq.ground_truth[2]).all()


def test_compressed_images_and_stamped_groundtruth(tmp_path):
    frames = _frames(5)
    bag = tmp_path / "bags" / "run2"
    write_bag(bag, frames, compressed=True)
    stamp = lambda i: (100 + i) * 1_000_000_000  # noqa: E731
    # annotation starts at the 2nd image; the 4th has no row
    (tmp_path / "bags" / "run2.groundtruth.txt").write_text(
        f"{stamp(1)},1,1,8,8\n{stamp(2)},2,1,8,8\n{stamp(4)},4,1,8,8\n")
    seq = load_dataset("rosbag", tmp_path / "bags")[0]
    assert len(seq) == 4
    np.testing.assert_allclose(seq.ground_truth[:, 0], [1, 2, np.nan, 4])
    images = list(seq.iter_frames())
    assert len(images) == 4 and images[0][0, 0, 0] == 10     # starts at the 2nd image


def test_rosbag_errors(tmp_path):
    with pytest.raises(DatasetError, match="metadata.yaml"):
        load_dataset("rosbag", tmp_path)
    bag = tmp_path / "two"
    write_bag(bag, _frames(2), extra_topic=True)
    (bag / "groundtruth.txt").write_text("1,1,8,8\n1,1,8,8\n")
    with pytest.raises(DatasetError, match="--topic"):
        load_dataset("rosbag", bag)
    assert len(load_dataset("rosbag", bag, topic=TOPIC)[0]) == 2
    (bag / "groundtruth.txt").write_text("1,1,8,8\n")
    with pytest.raises(DatasetError, match="1 ground-truth rows for 2 images"):
        load_dataset("rosbag", bag, topic=TOPIC)
