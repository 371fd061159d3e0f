"""rosbag2 reader on tiny bags written here with the rosbags package (sqlite3 storage)."""
import cv2
import numpy as np
import pytest

pytest.importorskip("rosbags")
from rosbags.rosbag2 import Writer  # noqa: E402
from rosbags.typesys import Stores, get_typestore  # noqa: E402

from fcot_ros.evaluation.datasets import DatasetError, load_dataset  # noqa: E402

TOPIC = "/camera/image_raw"


def _frames(n, height=24, width=32):
    frames = []
    for i in range(n):
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 0] = 10 * i          # blue encodes the index
        image[..., 2] = 200
        frames.append(image)
    return frames


def write_bag(path, frames, compressed=False, padding=0, extra_topic=False):
    store = get_typestore(Stores.LATEST)
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    msgtype = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
    with Writer(path, version=9) as writer:
        conn = writer.add_connection(TOPIC, msgtype, typestore=store)
        if extra_topic:
            writer.add_connection("/other/image", "sensor_msgs/msg/Image", typestore=store)
        for i, image in enumerate(frames):
            header = Header(stamp=Time(sec=100 + i, nanosec=0), frame_id="cam")
            if compressed:
                ok, data = cv2.imencode(".png", image)
                msg = store.types[msgtype](header=header, format="png", data=data.reshape(-1))
            else:
                h, w = image.shape[:2]
                rgb = image[..., ::-1]                     # store as rgb8 to test the conversion
                rows = np.zeros((h, w * 3 + padding), np.uint8)
                rows[:, :w * 3] = rgb.reshape(h, -1)
                msg = store.types[msgtype](header=header, height=h, width=w, encoding="rgb8", is_bigendian=0,
                                           step=w * 3 + padding, data=rows.reshape(-1))
            writer.write(conn, (100 + i) * 1_000_000_000, store.serialize_cdr(msg, msgtype))


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
