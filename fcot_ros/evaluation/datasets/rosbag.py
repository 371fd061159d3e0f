"""rosbag2 recordings of a camera topic plus a ground-truth file, read with the ``rosbags`` package
(no ROS installation needed; sqlite3 and mcap storage).

Layout: ``root`` is one bag directory (with ``metadata.yaml``) or a folder of bag directories.
The ground truth of a bag is ``groundtruth`` if given, else ``<bag>/groundtruth.txt``, else
``<bag>.groundtruth.txt`` beside the bag. Its rows are either
- ``x,y,w,h`` pixels, one per image message on the topic, in recording order; or
- ``stamp_ns,x,y,w,h``: matched to the image's header stamp (sec * 1e9 + nanosec); the sequence
  starts at the first annotated image and images without a row are unannotated (not scored).
NaN rows mean the target is absent (not scored).

Topics: ``sensor_msgs/msg/Image`` (encodings bgr8, rgb8, mono8, bgra8, rgba8, mono16; ``step`` is
honoured) or ``sensor_msgs/msg/CompressedImage``. Without ``topic`` the bag's only image topic is used.
"""
from pathlib import Path
from typing import Iterator, List, Optional

import cv2
import numpy as np

from fcot_ros.evaluation.datasets.common import DatasetError, read_numbers, require_dir, select
from fcot_ros.evaluation.sequence import FrameSource, Sequence

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
EXPECTED = "<root>/metadata.yaml (a rosbag2 directory) with <root>/groundtruth.txt, or a folder of such bags"


def _typestore():
    from rosbags.typesys import Stores, get_typestore
    return get_typestore(Stores.LATEST)


def image_to_bgr(msg, msgtype: str) -> np.ndarray:
    """Convert a deserialised sensor_msgs Image / CompressedImage to an HxWx3 uint8 BGR array."""
    if msgtype.endswith("CompressedImage"):
        image = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f"cannot decode a CompressedImage of format {msg.format!r}")
        return image
    encoding = msg.encoding.lower()
    channels = {"bgr8": 3, "rgb8": 3, "mono8": 1, "8uc1": 1, "bgra8": 4, "rgba8": 4, "mono16": 1, "16uc1": 1}
    if encoding not in channels:
        raise DatasetError(f"unsupported image encoding {msg.encoding!r}")
    depth = 2 if encoding in ("mono16", "16uc1") else 1
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    raw = np.frombuffer(bytes(msg.data), np.uint8)
    if raw.size < height * step:
        raise DatasetError(f"image data has {raw.size} bytes, expected {height} rows of {step}")
    rows = raw[:height * step].reshape(height, step)[:, :width * channels[encoding] * depth]
    if depth == 2:
        pixels = rows.copy().view(">u2" if msg.is_bigendian else "<u2").reshape(height, width)
        image = (pixels >> 8).astype(np.uint8)
    else:
        image = rows.reshape(height, width, channels[encoding]) if channels[encoding] > 1 else rows.reshape(height, width)
    conversions = {"rgb8": cv2.COLOR_RGB2BGR, "bgra8": cv2.COLOR_BGRA2BGR, "rgba8": cv2.COLOR_RGBA2BGR}
    if image.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR)
    if encoding in conversions:
        return cv2.cvtColor(np.ascontiguousarray(image), conversions[encoding])
    return np.ascontiguousarray(image)


def _stamp_ns(msg) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


class RosbagFrames(FrameSource):
    """The images of one topic of a rosbag2 directory, from message index ``start`` on (picklable)."""

    def __init__(self, bag: Path, topic: str, start: int = 0, count: Optional[int] = None):
        self.bag, self.topic, self.start = str(bag), topic, start
        self._count = count

    def _messages(self):
        from rosbags.rosbag2 import Reader
        typestore = _typestore()
        with Reader(self.bag) as reader:
            connections = [c for c in reader.connections if c.topic == self.topic]
            for index, (connection, _, raw) in enumerate(reader.messages(connections=connections)):
                if index < self.start:
                    continue
                if self._count is not None and index >= self.start + self._count:
                    return
                yield connection.msgtype, typestore.deserialize_cdr(raw, connection.msgtype)

    def stamps(self) -> List[int]:
        """Header stamps (nanoseconds) of the images, in order."""
        return [_stamp_ns(msg) for _, msg in self._messages()]

    def __iter__(self) -> Iterator[np.ndarray]:
        for msgtype, msg in self._messages():
            yield image_to_bgr(msg, msgtype)

    def __len__(self) -> int:
        if self._count is None:
            from rosbags.rosbag2 import Reader
            with Reader(self.bag) as reader:
                total = sum(c.msgcount for c in reader.connections if c.topic == self.topic)
            self._count = max(total - self.start, 0)
        return self._count


def image_topics(bag: Path) -> List[str]:
    """Topics of the bag that carry Image or CompressedImage messages."""
    from rosbags.rosbag2 import Reader
    with Reader(str(bag)) as reader:
        return sorted({c.topic for c in reader.connections if c.msgtype in IMAGE_TYPES})


def _groundtruth_file(bag: Path, groundtruth) -> Path:
    candidates = [Path(groundtruth)] if groundtruth else [bag / "groundtruth.txt",
                                                         bag.parent / f"{bag.name}.groundtruth.txt"]
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetError(f"rosbag {bag}: no ground-truth file (looked for {', '.join(map(str, candidates))})")


def load_bag(bag: Path, topic: Optional[str] = None, groundtruth=None) -> Sequence:
    """One bag directory as a Sequence."""
    bag = Path(bag)
    topics = image_topics(bag)
    if topic is None:
        if len(topics) != 1:
            raise DatasetError(f"rosbag {bag}: {len(topics)} image topics {topics}; choose one with --topic")
        topic = topics[0]
    elif topic not in topics:
        raise DatasetError(f"rosbag {bag}: topic {topic!r} has no Image/CompressedImage messages "
                           f"(image topics: {topics})")
    gt_path = _groundtruth_file(bag, groundtruth)
    rows = read_numbers(gt_path)
    frames = RosbagFrames(bag, topic)
    if rows.shape[1] == 4:
        boxes = rows
        if len(boxes) != len(frames):
            raise DatasetError(f"rosbag {bag}: {len(boxes)} ground-truth rows for {len(frames)} images on {topic}")
    elif rows.shape[1] == 5:
        by_stamp = {int(round(r[0])): r[1:] for r in rows}
        stamps = frames.stamps()
        annotated = [i for i, s in enumerate(stamps) if s in by_stamp]
        if not annotated:
            raise DatasetError(f"rosbag {bag}: no image stamp on {topic} matches a row of {gt_path}")
        start = annotated[0]
        boxes = np.array([by_stamp.get(s, [np.nan] * 4) for s in stamps[start:]], dtype=np.float64)
        frames = RosbagFrames(bag, topic, start=start, count=len(boxes))
    else:
        raise DatasetError(f"{gt_path}: rows must be x,y,w,h or stamp_ns,x,y,w,h (got {rows.shape[1]} values)")
    return Sequence(name=bag.name, dataset="rosbag", frames=frames, ground_truth=boxes,
                    extra={"topic": topic, "bag": str(bag)})


def load(root, sequences=None, topic: Optional[str] = None, groundtruth=None):
    """The bag ``root`` or every bag directory inside it."""
    root = require_dir(root, "rosbag2 root", EXPECTED)
    if (root / "metadata.yaml").is_file():
        bags = {root.name: root}
    else:
        bags = {p.name: p for p in sorted(root.iterdir()) if (p / "metadata.yaml").is_file()}
    if not bags:
        raise DatasetError(f"rosbag2 root {root}: no bag found; expected {EXPECTED}")
    names = select(sorted(bags), sequences, f"rosbag2 root {root}")
    if groundtruth and len(names) != 1:
        raise DatasetError("a single --groundtruth file needs a single bag")
    return [load_bag(bags[n], topic=topic, groundtruth=groundtruth) for n in names]
