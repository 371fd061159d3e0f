"""rosbag2 recordings of an image topic with a box file, for training.

Layout and box files as the evaluation reader (``fcot_ros.evaluation.datasets.rosbag``, reused
here): ``root`` is one bag directory (with metadata.yaml) or a folder of them; boxes come from
``groundtruth`` or ``<bag>/groundtruth.txt`` or ``<bag>.groundtruth.txt``, rows x,y,w,h per image
message or stamp_ns,x,y,w,h; NaN rows = target absent. ``topic`` picks the image topic.

A bag only streams its messages, but training samples frames at random, so a topic is decoded once:
- with ``cache_dir``: at load time into ``cache_dir/<bag>-<digest>/000000.png ...`` (lossless,
  reused by later loads while the bag is unchanged; safe when several processes fill it at once);
- without: on the first ``frame(i)`` in a process, into that process's memory (N x H x W x 3 bytes;
  not pickled, so each DataLoader worker decodes its own copy; prefer ``cache_dir`` for long bags).
"""
import hashlib
import json
import os
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from fcot_ros.evaluation.datasets import rosbag as bag_reader
from training.data.sources.common import DatasetError
from training.data.sources.frames import read_image
from training.data.sources.sequence import TrainSequence

MARKER = "frames.json"


def _bag_stamp(bag: Path) -> list:
    """Size and modification time of the bag's files: a change invalidates a cache."""
    files = sorted(p for p in Path(bag).iterdir() if p.is_file())
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]


class BagFrames:
    """Random access to ``count`` images of one topic, from message ``start`` on (see the module doc).

    Picklable: the state is the bag path, topic, range and cache folder; decoded frames stay behind.
    """

    def __init__(self, source: "bag_reader.RosbagFrames", cache_dir: Optional[Path] = None):
        self.bag, self.topic, self.start = str(source.bag), source.topic, int(source.start)
        self.count = len(source)
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

    def _source(self):
        return bag_reader.RosbagFrames(Path(self.bag), self.topic, start=self.start, count=self.count)

    def _decode_all(self):
        images = list(self._source())
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
        for i, image in enumerate(self._source()):
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


def load(root, topic: Optional[str] = None, groundtruth=None, cache_dir=None) -> List[TrainSequence]:
    """The bag ``root`` or every bag in it, one TrainSequence per bag (video = bag name).

    topic: image topic (default: the bag's only one). groundtruth: box file (single bag only).
    cache_dir: folder to decode frames into at load time (see the module doc).
    """
    root = Path(root)
    try:
        sequences = bag_reader.load(root, topic=topic, groundtruth=groundtruth)
    except ImportError as exc:
        raise DatasetError("rosbag: the rosbags package is needed (pip install rosbags)") from exc
    except DatasetError:
        raise
    except ValueError as exc:   # the evaluation Sequence refuses e.g. a first frame without box
        raise DatasetError(f"rosbag {root}: {exc}") from exc
    out = []
    for seq in sequences:
        frames = BagFrames(seq.frames, cache_dir=cache_dir)
        frames.fill_cache()
        visible = None if seq.absent is None else ~seq.absent
        out.append(TrainSequence(name=seq.name, source="rosbag", boxes=seq.ground_truth, frames=frames,
                                 visible=visible, attributes={"topic": seq.extra["topic"],
                                                              "bag": seq.extra["bag"]}))
    return out
