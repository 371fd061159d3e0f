"""Helpers of the dataset tests (tiny fixture writers); a uniquely named module so that it never
clashes with another test folder's helpers."""
from pathlib import Path

import cv2
import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def touch_frames(folder: Path, numbers, digits: int = 4, ext: str = "jpg") -> None:
    """Empty image files named like a benchmark's frames (readers only list them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / f"{n:0{digits}d}.{ext}").touch()


def write_boxes(path: Path, boxes, delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(delimiter.join(f"{v:g}" for v in row) + "\n" for row in np.asarray(boxes, float)))


def boxes_for(n: int, start: float = 0.0) -> np.ndarray:
    """n distinct boxes (x = start + i) so a test can tell which rows a reader kept."""
    return np.array([[start + i, 2.0, 10.0, 20.0] for i in range(n)])


TOPIC = "/camera/image_raw"


def bag_frames(n, height=24, width=32):
    """n BGR frames whose blue channel encodes the index (10 * i)."""
    frames = []
    for i in range(n):
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 0] = 10 * i          # blue encodes the index
        image[..., 2] = 200
        frames.append(image)
    return frames


def write_bag(path, frames, compressed=False, padding=0, extra_topic=False):
    """A rosbag2 (sqlite3) of ``frames`` on TOPIC: rgb8 Image messages with ``padding`` bytes per row, or
    PNG CompressedImage messages; header stamps 100 s, 101 s, ..."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore
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
