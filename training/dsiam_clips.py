"""Short clips for DSiam's unrolled training (supplement section 1.3): ``clip_length`` frames of one
video with their ground truth, turned into the crops and label maps of one unrolled tracker run.

A clip (frames t = 1..T, increasing indices, gaps of 1..max_gap frames, all with a visible target):

    searches   Z_t for t = 1..T: ``search_size`` px around box_{t-1}'s centre (box_1 for t = 1) at
               box_{t-1}'s scale, moved by a random shift of up to ``shift`` crop pixels (the
               previous estimate is never exact); teacher forcing: the ground truth, not the
               tracker's own output, places the crops (the supplement's Crop layer passes no
               gradient to the boxes either); the template O_1 is the window of Z_1 at box_1
               (DSiamModel.template_window), as the tracker takes it
    targets    per t: the target centre in Z_t (dx, dy) crop pixels from the crop centre, and its
               size (w, h) in crop pixels
    labels     per t: (R, R) map of +1 within ``radius`` crop pixels of the target centre, -1 elsewhere
               (response cell i is (i - (R-1)/2) * stride crop pixels from the centre)
"""
from dataclasses import dataclass
from typing import List

import numpy as np

from fcot_ros.errors import DatasetError
from fcot_ros.tracker.crop import extract_crop


@dataclass
class Clip:
    """Crops and targets of one clip: searches (T, S, S, 3) uint8;
    shifts (T, 2) target centre minus crop centre, crop px; sizes (T, 2) target (w, h), crop px;
    labels (T, R, R) float32 of +1 / -1."""

    searches: np.ndarray
    shifts: np.ndarray
    sizes: np.ndarray
    labels: np.ndarray
    name: str = ""


def label_map(shift, size: int, stride: int, radius: float) -> np.ndarray:
    """(size, size) float32: +1 where the cell's offset from the centre (cells * stride crop px) is
    within ``radius`` crop pixels of ``shift`` (dx, dy), else -1."""
    k = (np.arange(size) - (size - 1) / 2.0) * stride
    d2 = (k[None, :] - shift[0]) ** 2 + (k[:, None] - shift[1]) ** 2
    return np.where(d2 <= radius * radius, 1.0, -1.0).astype(np.float32)


def draw_frames(visible: np.ndarray, length: int, max_gap: int, rng: np.random.Generator):
    """``length`` increasing indices of visible frames, consecutive ones at most ``max_gap`` apart
    among the visible frames, or None when the sequence has too few."""
    idx = np.flatnonzero(visible)
    if len(idx) < length:
        return None
    gaps = rng.integers(1, max_gap + 1, size=length - 1)
    span = int(gaps.sum())
    if span >= len(idx):
        gaps = np.ones(length - 1, dtype=np.int64)
        span = length - 1
    start = int(rng.integers(0, len(idx) - span))
    pos = start + np.concatenate([[0], np.cumsum(gaps)])
    return idx[pos]


def make_clip(seq, frames, cfg, rng, shift: float, radius: float) -> Clip:
    """The Clip of ``frames`` (indices) of ``seq`` for a DSiamConfig ``cfg``."""
    boxes = seq.boxes[frames]
    images = [seq.frames.read(int(i)) for i in frames]
    r, stride = cfg.response_size, min(cfg.strides)
    searches, shifts, sizes, labels = [], [], [], []
    for t, (image, box) in enumerate(zip(images, boxes)):
        prev = boxes[max(t - 1, 0)]
        scale = cfg.exemplar_scale(prev[2], prev[3])
        jitter = rng.uniform(-shift, shift, size=2) if t > 0 else np.zeros(2)
        centre = (prev[0] + prev[2] / 2 + jitter[0] * scale, prev[1] + prev[3] / 2 + jitter[1] * scale)
        searches.append(extract_crop(image, centre, scale, cfg.search_size))
        d = ((box[0] + box[2] / 2 - centre[0]) / scale, (box[1] + box[3] / 2 - centre[1]) / scale)
        shifts.append(d)
        sizes.append((box[2] / scale, box[3] / scale))
        labels.append(label_map(d, r, stride, radius))
    return Clip(np.stack(searches), np.asarray(shifts, np.float32), np.asarray(sizes, np.float32),
                np.stack(labels), name=seq.name)


class ClipSampler:
    """draw(rng) -> Clip from videos with at least ``length`` visible frames (still images skipped)."""

    def __init__(self, sequences: List, cfg, length: int = 10, max_gap: int = 3, shift: float = 8.0,
                 radius: float = 16.0):
        self.videos = [s for s in sequences if not s.is_static_image and int(s.visible.sum()) >= length]
        if not self.videos:
            raise DatasetError(f"no training video has {length} visible frames")
        self.cfg, self.length, self.max_gap, self.shift, self.radius = cfg, length, max_gap, shift, radius

    def draw(self, rng: np.random.Generator) -> Clip:
        """A random clip of a random usable video."""
        for _ in range(100):
            seq = self.videos[int(rng.integers(len(self.videos)))]
            frames = draw_frames(seq.visible, self.length, self.max_gap, rng)
            if frames is not None:
                return make_clip(seq, frames, self.cfg, rng, self.shift, self.radius)
        raise DatasetError("no clip could be drawn in 100 tries")  # pragma: no cover - videos are checked
