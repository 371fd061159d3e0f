"""From a sample's frames to network inputs, as the paper's AnchorFreeProcessing: a jittered box per
frame, a square search-area crop around it, grayscale and brightness jitter.

For every frame with box b = (x, y, w, h) (image pixels):
    size'   = (w, h) * exp(N(0, 1) * scale_jitter)                      (per axis)
    centre' = centre(b) + sqrt(w' h') * center_jitter * (U[0, 1) - 0.5)  (per axis)
    crop    = the square of side sqrt(w' h') * search_area_factor around centre', resampled to
              S x S pixels with replicated borders (fcot_ros.tracker.crop, the tracker's own crop)
    box     = b in crop pixels, clipped to [0, S - 1]
Grayscale (probability p) applies to all frames of the sample; brightness (a factor in
[1 - j, 1 + j]) is drawn once for the train frames and once for the test frames.
"""
import math
from dataclasses import dataclass

import cv2
import numpy as np

from fcot_ros.tracker.crop import extract_crop, image_to_crop


@dataclass(frozen=True)
class Jitter:
    """Box jitter: ``center`` (max shift in units of sqrt(w h)) and ``scale`` (std of the log size change)."""

    center: float
    scale: float


def jitter_box(box, jitter: Jitter, rng: np.random.Generator):
    """(x, y, w, h) -> the jittered box (module doc), image pixels."""
    x, y, w, h = (float(v) for v in box)
    size = np.array([w, h]) * np.exp(rng.standard_normal(2) * jitter.scale)
    shift = math.sqrt(size[0] * size[1]) * jitter.center * (rng.random(2) - 0.5)
    cx, cy = x + w / 2 + shift[0], y + h / 2 + shift[1]
    return (cx - size[0] / 2, cy - size[1] / 2, float(size[0]), float(size[1]))


def search_crop(image, box, jittered, search_area_factor, crop_size):
    """(crop (S, S, 3) uint8, box (4,) float32 xywh in crop pixels clipped to [0, S - 1])."""
    jx, jy, jw, jh = jittered
    side = math.sqrt(max(jw * jh, 1e-6)) * search_area_factor
    centre = (jx + jw / 2, jy + jh / 2)
    scale = side / crop_size
    crop = extract_crop(image, centre, scale, crop_size)
    bx, by, bw, bh = image_to_crop(box, centre, scale, crop_size)
    x1, y1 = np.clip([bx, by], 0, crop_size - 1)
    x2, y2 = np.clip([bx + bw, by + bh], 0, crop_size - 1)
    return crop, np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float32)


def to_gray(image):
    """A BGR image converted to grayscale, kept as 3 identical BGR channels."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def brighten(images, factor):
    """uint8 images times ``factor``, rounded and clipped to 0..255."""
    return [np.clip(np.rint(im.astype(np.float32) * factor), 0, 255).astype(np.uint8) for im in images]


def process_sample(train_frames, train_boxes, test_frames, test_boxes, rng, *, crop_size, search_area_factor,
                   train_jitter: Jitter, test_jitter: Jitter, grayscale_probability, brightness_jitter):
    """Frames (HxWx3 uint8 BGR) and boxes (xywh image px) of one sample -> dict of numpy arrays:
    train_images (Ntr, S, S, 3) uint8, train_boxes (Ntr, 4) float32 crop px, test_images, test_boxes."""
    gray = rng.random() < grayscale_probability
    out = {}
    for name, frames, boxes, jitter in (("train", train_frames, train_boxes, train_jitter),
                                        ("test", test_frames, test_boxes, test_jitter)):
        crops, crop_boxes = [], []
        for frame, box in zip(frames, boxes):
            crop, crop_box = search_crop(frame, box, jitter_box(box, jitter, rng), search_area_factor, crop_size)
            crops.append(to_gray(crop) if gray else crop)
            crop_boxes.append(crop_box)
        if brightness_jitter > 0:
            crops = brighten(crops, rng.uniform(max(0.0, 1 - brightness_jitter), 1 + brightness_jitter))
        out[f"{name}_images"] = np.stack(crops)
        out[f"{name}_boxes"] = np.stack(crop_boxes)
    return out
