"""Checks of the caller's inputs (image, box), shared by every tracker; each failure raises a clear error."""
import math

import numpy as np

from fcot_ros.errors import InvalidBoxError, InvalidImageError


def check_image(image) -> np.ndarray:
    """Return ``image`` if it is a non-empty HxWx3 uint8 array (BGR), else raise InvalidImageError."""
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidImageError(
            f"image must be HxWx3 (BGR); got shape {tuple(image.shape)}"
            + (" (grey image: convert it with cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))" if image.ndim == 2 else "")
            + (" (4 channels: drop alpha with cv2.cvtColor(img, cv2.COLOR_BGRA2BGR))"
               if image.ndim == 3 and image.shape[2] == 4 else ""))
    if image.dtype != np.uint8:
        raise InvalidImageError(f"image must be uint8, got {image.dtype}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise InvalidImageError(f"image is too small: {image.shape[1]}x{image.shape[0]} pixels")
    return image


def check_box(box, image_shape, min_size: float = 2.0):
    """Validate an (x, y, w, h) pixel box against an image of shape (H, W, ...).

    Returns the box as a tuple of floats clipped to the image. Raises InvalidBoxError
    if it has the wrong length, holds NaN/inf, is smaller than ``min_size`` pixels on
    a side, or lies outside the image.
    """
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError) as exc:
        raise InvalidBoxError(f"box must be 4 numbers (x, y, w, h), got {box!r}") from exc
    if len(values) != 4:
        raise InvalidBoxError(f"box must be 4 numbers (x, y, w, h), got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise InvalidBoxError(f"box holds a non-finite value: {values}")
    x, y, w, h = values
    if w < min_size or h < min_size:
        raise InvalidBoxError(f"box is empty or too small (w={w:g}, h={h:g}; need >= {min_size:g} px)")
    height, width = image_shape[0], image_shape[1]
    x0, y0 = max(x, 0.0), max(y, 0.0)
    x1, y1 = min(x + w, float(width)), min(y + h, float(height))
    if x1 - x0 < min_size or y1 - y0 < min_size:
        raise InvalidBoxError(
            f"box {values} does not overlap the {width}x{height} image by at least {min_size:g} px")
    return (x0, y0, x1 - x0, y1 - y0)
