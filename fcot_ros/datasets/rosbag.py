"""rosbag2 recordings of a camera topic plus a box file, read with the ``rosbags`` package
(no ROS installation needed; sqlite3 and mcap storage).

Layout: ``root`` is one bag directory (with ``metadata.yaml``) or a folder of bag directories.
The boxes of a bag are ``groundtruth`` if given, else ``<bag>/groundtruth.txt``, else
``<bag>.groundtruth.txt`` beside the bag. Its rows are either
- ``x,y,w,h`` pixels, one per image message on the topic, in recording order; or
- ``stamp_ns,x,y,w,h``: matched to the image's header stamp (sec * 1e9 + nanosec); the sequence
  starts at the first annotated image and images without a row are unannotated (NaN).
NaN rows mean the target is absent (not scored, not sampled).

Topics: ``sensor_msgs/msg/Image`` (encodings bgr8, rgb8, mono8, 8UC1, bgra8, rgba8, mono16, 16UC1;
``step`` and ``is_bigendian`` are honoured, see ``fcot_ros.image_msgs``) or
``sensor_msgs/msg/CompressedImage``. Without ``topic`` the bag's only image topic is used.

Frames (``BagFrames``): OPE streams them in order (``iter_frames``); random access (training) decodes
the topic once:
- with ``cache_dir``: at load time into ``cache_dir/<bag>-<digest>/000000.png ...`` (lossless,
  reused by later loads while the bag is unchanged; safe when several processes fill it at once);
- without: on the first ``frame(i)`` in a process, into that process's memory (N x H x W x 3 bytes;
  not pickled, so each DataLoader worker decodes its own copy; prefer ``cache_dir`` for long bags).
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Iterator, List, Optional

import cv2
import numpy as np

from fcot_ros.datasets.frames import read_image
from fcot_ros.datasets.parsing import read_numbers, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError
from fcot_ros.image_msgs import ImageConversionError, compressed_to_bgr, image_to_bgr

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
EXPECTED = "<root>/metadata.yaml (a rosbag2 directory) with <root>/groundtruth.txt, or a folder of such bags"
MARKER = "frames.json"


def _typestore():
    from rosbags.typesys import Stores, get_typestore
    return get_typestore(Stores.LATEST)


def message_to_bgr(msg, msgtype: str) -> np.ndarray:
    """A deserialised sensor_msgs Image / CompressedImage as an HxWx3 uint8 BGR array."""
    try:
        if msgtype.endswith("CompressedImage"):
            return compressed_to_bgr(msg)
        return image_to_bgr(msg, wide=True, exact_size=False)
    except ImageConversionError as exc:
        raise DatasetError(f"{msgtype}: {exc}") from exc


def _stamp_ns(msg) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def _bag_stamp(bag: Path) -> list:
    """Size and modification time of the bag's files: a change invalidates a cache."""
    files = sorted(p for p in Path(bag).iterdir() if p.is_file())
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]


class BagFrames:
    """The images of one topic of a rosbag2 directory, messages ``start`` .. ``start + count - 1``.

    A frame store (``fcot_ros.datasets.frames``): ``iter_images`` streams the messages; ``read(i)``
    uses the cache folder, else decodes the topic into memory once. Picklable: the state is the bag
    path, topic, range and cache folder; decoded frames stay behind.
    """

    def __init__(self, bag: Path, topic: str, start: int = 0, count: Optional[int] = None, cache_dir=None):
        self.bag, self.topic, self.start = str(bag), topic, int(start)
        self.count = count
        if count is None:
            from rosbags.rosbag2 import Reader
            with Reader(self.bag) as reader:
                total = sum(c.msgcount for c in reader.connections if c.topic == self.topic)
            self.count = max(total - self.start, 0)
        self.cache = None
        if cache_dir is not None:
            key = f"{Path(self.bag).resolve()}|{self.topic}|{self.start}|{self.count}"
            digest = hashlib.sha1(key.encode()).hexdigest()[:12]
            self.cache = str(Path(cache_dir) / f"{Path(self.bag).name}-{digest}")
        self._images = None

    def __getstate__(self):
        return {"bag": self.bag, "topic": self.topic, "start": self.start, "count": self.count,
                "cache": self.cache}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._images = None

    def __len__(self) -> int:
        return self.count

    def _messages(self):
        from rosbags.rosbag2 import Reader
        typestore = _typestore()
        with Reader(self.bag) as reader:
            connections = [c for c in reader.connections if c.topic == self.topic]
            for index, (connection, _, raw) in enumerate(reader.messages(connections=connections)):
                if index < self.start:
                    continue
                if index >= self.start + self.count:
                    return
                yield connection.msgtype, typestore.deserialize_cdr(raw, connection.msgtype)

    def stamps(self) -> List[int]:
        """Header stamps (nanoseconds) of the images, in order."""
        return [_stamp_ns(msg) for _, msg in self._messages()]

    def iter_images(self) -> Iterator[np.ndarray]:
        """The frames in recording order, decoded one message at a time."""
        for msgtype, msg in self._messages():
            yield message_to_bgr(msg, msgtype)

    def _decode_all(self):
        images = list(self.iter_images())
        if len(images) != self.count:
            raise DatasetError(f"rosbag {self.bag}: decoded {len(images)} images on {self.topic}, "
                               f"expected {self.count}")
        return images

    def _marker(self) -> dict:
        return {"bag": str(Path(self.bag).resolve()), "topic": self.topic, "start": self.start,
                "count": self.count, "files": _bag_stamp(Path(self.bag))}

    def cache_is_complete(self) -> bool:
        """True if the cache folder holds every frame of this bag as it is now."""
        if self.cache is None:
            return False
        marker = Path(self.cache) / MARKER
        try:
            return json.loads(marker.read_text()) == json.loads(json.dumps(self._marker()))
        except (OSError, ValueError):
            return False

    def fill_cache(self) -> None:
        """Decode the topic into the cache folder once (no-op when it is already complete)."""
        if self.cache is None or self.cache_is_complete():
            return
        folder = Path(self.cache)
        folder.mkdir(parents=True, exist_ok=True)
        written = 0
        for i, image in enumerate(self.iter_images()):
            ok, data = cv2.imencode(".png", image)
            if not ok:
                raise DatasetError(f"rosbag {self.bag}: cannot encode frame {i} into {folder}")
            temporary = folder / f".{i:06d}.{os.getpid()}.tmp"
            temporary.write_bytes(data.tobytes())
            os.replace(temporary, folder / f"{i:06d}.png")
            written += 1
        if written != self.count:
            raise DatasetError(f"rosbag {self.bag}: decoded {written} images on {self.topic}, expected {self.count}")
        temporary = folder / f".{MARKER}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(self._marker()))
        os.replace(temporary, folder / MARKER)

    def path(self, i: int) -> Optional[str]:
        """The cached PNG of frame ``i``, or None without a cache folder."""
        return str(Path(self.cache) / f"{i:06d}.png") if self.cache is not None else None

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` (0-based) as HxWx3 uint8 BGR."""
        if self.cache is not None:
            return read_image(self.path(i))
        if self._images is None:
            self._images = self._decode_all()
        return self._images[i].copy()


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


def load_bag(bag: Path, topic: Optional[str] = None, groundtruth=None, cache_dir=None) -> Sequence:
    """One bag directory as a Sequence (video = bag name)."""
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
    frames = BagFrames(bag, topic)
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
        frames = BagFrames(bag, topic, start=start, count=len(boxes))
    else:
        raise DatasetError(f"{gt_path}: rows must be x,y,w,h or stamp_ns,x,y,w,h (got {rows.shape[1]} values)")
    if cache_dir is not None:
        frames = BagFrames(bag, topic, start=frames.start, count=frames.count, cache_dir=cache_dir)
        frames.fill_cache()
    return Sequence(name=bag.name, dataset="rosbag", frames=frames, boxes=boxes,
                    attributes={"topic": topic, "bag": str(bag)})


def load(root, sequences=None, topic: Optional[str] = None, groundtruth=None, cache_dir=None) -> List[Sequence]:
    """The bag ``root`` or every bag directory inside it, one Sequence per bag.

    topic: image topic (default: the bag's only one). groundtruth: box file (single bag only).
    cache_dir: folder to decode frames into at load time (see the module doc).
    """
    try:
        import rosbags  # noqa: F401
    except ImportError as exc:
        raise DatasetError("rosbag: the rosbags package is needed (pip install rosbags)") from exc
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
    return [load_bag(bags[n], topic=topic, groundtruth=groundtruth, cache_dir=cache_dir) for n in names]
