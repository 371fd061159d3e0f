"""First-frame data augmentation (DiMP/FCOT): from one expanded crop, a set of transformed
training crops and their target boxes.

A crop ``expansion`` times larger than the search crop (576 for 288) is cut around the target
at the same scale; each transform is applied to it and the central crop_size x crop_size
window (moved by the transform's shift) is kept. Boxes only move by that shift: rotations
and flips keep a centred target centred (as in the authors' tracker).
"""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np


@dataclass
class AugmentedSample:
    """One first-frame training crop (S x S x 3 uint8), its window's shift (dx, dy) in crop pixels, its name."""

    crop: np.ndarray                 # (crop_size, crop_size, 3) uint8
    shift: Tuple[int, int]           # (dx, dy) crop pixels the window moved; the box moves by -shift
    name: str


def _window(img, crop_size, shift):
    """Central crop_size window of the expanded crop, moved by shift = (dx, dy), replicate borders."""
    big = img.shape[0]
    x0 = (big - crop_size) // 2 - shift[0]
    y0 = (big - crop_size) // 2 - shift[1]
    pad = crop_size
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(padded[y0 + pad:y0 + pad + crop_size, x0 + pad:x0 + pad + crop_size])


def augment_first_frame(expanded: np.ndarray, crop_size: int, params) -> List[AugmentedSample]:
    """expanded: (E, E, 3) uint8 crop centred on the target (E = expansion * crop_size).

    Returns [identity, relative shifts, flip, blurs, rotations, zooms] samples; shifts of
    flip/blur/rotation are random within +-random_shift_factor/2 * crop_size (seeded).
    """
    rng = np.random.default_rng(params.augmentation_seed)

    def rand_shift():
        if params.random_shift_factor <= 0:
            return (0, 0)
        s = (rng.random(2) - 0.5) * crop_size * params.random_shift_factor
        return (int(s[0]), int(s[1]))

    samples = [AugmentedSample(_window(expanded, crop_size, (0, 0)), (0, 0), "identity")]
    for rx, ry in params.augment_relative_shift:
        shift = (int(rx * crop_size / 2), int(ry * crop_size / 2))
        samples.append(AugmentedSample(_window(expanded, crop_size, shift), shift, f"shift{rx:+g},{ry:+g}"))
    if params.augment_fliplr:
        shift = rand_shift()
        samples.append(AugmentedSample(_window(expanded[:, ::-1], crop_size, shift), shift, "fliplr"))
    for sy, sx in params.augment_blur:
        shift = rand_shift()
        ksize = (2 * int(3 * sx + 0.5) + 1, 2 * int(3 * sy + 0.5) + 1)
        blurred = cv2.GaussianBlur(expanded, ksize, sigmaX=sx, sigmaY=sy, borderType=cv2.BORDER_REPLICATE)
        samples.append(AugmentedSample(_window(blurred, crop_size, shift), shift, f"blur{sy:g},{sx:g}"))
    big = expanded.shape[0]
    centre = ((big - 1) / 2.0, (big - 1) / 2.0)
    for angle in params.augment_rotate:
        shift = rand_shift()
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(expanded, matrix, (big, big), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        samples.append(AugmentedSample(_window(rotated, crop_size, shift), shift, f"rot{angle:g}"))
    return samples


def zoom_samples(expanded: np.ndarray, crop_size: int, factors) -> List[Tuple[np.ndarray, float]]:
    """Crops zoomed by each factor about the centre (factor > 1 enlarges the target)."""
    big = expanded.shape[0]
    centre = ((big - 1) / 2.0, (big - 1) / 2.0)
    out = []
    for f in factors:
        matrix = cv2.getRotationMatrix2D(centre, 0.0, f)
        zoomed = cv2.warpAffine(expanded, matrix, (big, big), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        out.append((_window(zoomed, crop_size, (0, 0)), f))
    return out
