"""Box arithmetic of the tracker on (x, y, w, h) boxes in image pixels."""
import math


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


def box_iou(a, b):
    """IoU of two (x, y, w, h) boxes (0 when either is empty)."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 and math.isfinite(union) else 0.0
