"""Box arithmetic on (x, y, w, h) boxes in image pixels: the tracker's clipping and damping, and the
package's one IoU (used by the tracker, the evaluation metrics and the tools).

A box is ``(x, y, w, h)`` in pixels ("xywh"), x, y the top-left corner, continuous coordinates (no +1
pixel convention); ``xyxy`` is ``(x0, y0, x1, y1)`` with x1 = x + w. Arrays of boxes are float64 of
shape (N, 4); a row holding NaN means "no box" (target absent / no prediction).
"""
import numpy as np


def clip_box(box, image_size, min_size, mode="fcot_ros"):
    """The box inside the image.

    fcot_ros: each axis clipped to the image ([0, W] for x, [0, H] for y), at least ``min_size``
    pixels on a side. authors: every corner coordinate clamped to [1, max(W, H)] (both axes alike,
    as their tracker does). image_size (W, H).
    """
    x, y, w, h = box
    width, height = image_size
    if mode == "authors":
        top = float(max(width, height))
        x1, y1 = min(max(x, 1.0), top), min(max(y, 1.0), top)
        x2, y2 = min(max(x + w, 1.0), top), min(max(y + h, 1.0), top)
        return (x1, y1, x2 - x1, y2 - y1)
    x1, y1 = min(max(x, 0.0), width - min_size), min(max(y, 0.0), height - min_size)
    x2, y2 = max(min(x + w, float(width)), x1 + min_size), max(min(y + h, float(height)), y1 + min_size)
    return (x1, y1, x2 - x1, y2 - y1)


def damp_size(box, previous_size, rate):
    """Same centre; width and height moved from ``previous_size`` (w, h) by ``rate`` in log space."""
    x, y, w, h = box
    w_new = previous_size[0] ** (1.0 - rate) * max(w, 1e-3) ** rate
    h_new = previous_size[1] ** (1.0 - rate) * max(h, 1e-3) ** rate
    return (x + (w - w_new) / 2.0, y + (h - h_new) / 2.0, w_new, h_new)


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


def iou(pred, gt) -> np.ndarray:
    """Per-row intersection over union of two (N, 4) xywh arrays (pixels), float64 (N,) in [0, 1].

    The one IoU of the package (the tracker, the metrics and the tools use it). A row with a NaN or
    an infinity, or with zero/negative width or height in either box, has no area: its IoU is 0
    (never NaN). Callers decide separately whether such a ground-truth row is scored.
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


def box_iou(a, b) -> float:
    """IoU of two (x, y, w, h) pixel boxes as a float (``iou`` of one row; 0 when either is empty)."""
    return float(iou(a, b)[0])
