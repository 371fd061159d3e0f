"""Box geometry used by the metrics and the dataset readers.

Conventions: a box is ``(x, y, w, h)`` in pixels ("xywh"), x, y the top-left corner, continuous
coordinates (no +1 pixel convention); ``xyxy`` is ``(x0, y0, x1, y1)`` with x1 = x + w. Arrays are
float64 of shape (N, 4). A row holding NaN means "no box" (target absent / no prediction).
"""
import numpy as np

from fcot_ros.errors import ConfigurationError


def as_boxes(boxes) -> np.ndarray:
    """Return ``boxes`` as a float64 (N, 4) array of xywh pixels (a single box becomes N=1)."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) (x, y, w, h), got {array.shape}")
    return array


def xywh_to_xyxy(boxes) -> np.ndarray:
    """(N, 4) xywh pixels -> (N, 4) xyxy pixels (x1 = x + w, y1 = y + h)."""
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """(N, 4) xyxy pixels -> (N, 4) xywh pixels."""
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def centres(boxes) -> np.ndarray:
    """(N, 2) box centres in pixels: (x + w / 2, y + h / 2)."""
    b = as_boxes(boxes)
    return b[:, :2] + b[:, 2:] / 2.0


def iou(pred, gt) -> np.ndarray:
    """Per-row intersection over union of two (N, 4) xywh arrays, in [0, 1].

    A row with a NaN, or with zero/negative width or height in either box, has no area:
    its IoU is 0 (never NaN). Callers decide separately whether such a ground-truth row is scored.
    """
    p, g = as_boxes(pred), as_boxes(gt)
    if p.shape != g.shape:
        raise ValueError(f"pred and gt differ in shape: {p.shape} vs {g.shape}")
    px0, py0, px1, py1 = xywh_to_xyxy(p).T
    gx0, gy0, gx1, gy1 = xywh_to_xyxy(g).T
    with np.errstate(invalid="ignore"):
        iw = np.clip(np.minimum(px1, gx1) - np.maximum(px0, gx0), 0.0, None)
        ih = np.clip(np.minimum(py1, gy1) - np.maximum(py0, gy0), 0.0, None)
        inter = iw * ih
        area_p = np.clip(p[:, 2], 0.0, None) * np.clip(p[:, 3], 0.0, None)
        area_g = np.clip(g[:, 2], 0.0, None) * np.clip(g[:, 3], 0.0, None)
        union = area_p + area_g - inter
        has_area = (area_p > 0) & (area_g > 0) & np.isfinite(inter) & np.isfinite(union)
        out = np.where(has_area, inter / np.where(has_area, union, 1.0), 0.0)
    return np.clip(out, 0.0, 1.0)


def centre_error(pred, gt) -> np.ndarray:
    """Euclidean distance in pixels between box centres, per row; inf where pred has a NaN."""
    d = np.linalg.norm(centres(pred) - centres(gt), axis=1)
    return np.where(np.isfinite(d), d, np.inf)


def normalised_centre_error(pred, gt) -> np.ndarray:
    """Centre error with each axis divided by the ground-truth width / height (LaSOT style), unitless.

    inf where pred has a NaN or the ground-truth box has zero width or height.
    """
    g = as_boxes(gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (centres(pred) - centres(g)) / g[:, 2:]
        d = np.linalg.norm(diff, axis=1)
    return np.where(np.isfinite(d), d, np.inf)


def polygon_to_xywh(polygons, method: str = "minmax") -> np.ndarray:
    """Convert (N, 2K) polygons (x1, y1, x2, y2, ...; VOT rotated boxes have K = 4) to xywh pixels.

    method "minmax": the tight axis-aligned bounding box of the corners (the VOT toolkit's
    conversion). method "area": the box centred on the corners' mean whose area equals the
    rotated rectangle's (pysot/got10k style, 4 corners only; the +1 of their pixel convention is
    not applied). Rows with NaN stay NaN.
    """
    poly = np.asarray(polygons, dtype=np.float64)
    if poly.ndim == 1:
        poly = poly[None, :]
    if poly.shape[1] % 2 or poly.shape[1] < 6:
        raise ValueError(f"polygons need an even number (>= 6) of coordinates per row, got {poly.shape[1]}")
    xs, ys = poly[:, 0::2], poly[:, 1::2]
    x0, x1 = xs.min(axis=1), xs.max(axis=1)
    y0, y1 = ys.min(axis=1), ys.max(axis=1)
    if method == "minmax":
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    if method != "area":
        raise ConfigurationError(f"unknown polygon conversion {method!r}; use 'minmax' or 'area'")
    if poly.shape[1] != 8:
        raise ValueError("the 'area' conversion needs 4-corner polygons (8 values per row)")
    cx, cy = xs.mean(axis=1), ys.mean(axis=1)
    side1 = np.hypot(xs[:, 0] - xs[:, 1], ys[:, 0] - ys[:, 1])
    side2 = np.hypot(xs[:, 1] - xs[:, 2], ys[:, 1] - ys[:, 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(side1 * side2 / ((x1 - x0) * (y1 - y0)))
    w, h = scale * (x1 - x0), scale * (y1 - y0)
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
