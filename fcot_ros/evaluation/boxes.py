"""Box geometry used by the metrics: centres and centre errors.

Conventions (those of fcot_ros.tracker.box_geometry, home of ``as_boxes`` and the IoU): a box is
``(x, y, w, h)`` in pixels ("xywh"), x, y the top-left corner, continuous coordinates (no +1 pixel
convention). Arrays are float64 of shape (N, 4). A row holding NaN means "no box" (target absent /
no prediction).
"""
import numpy as np

from fcot_ros.datasets.vot import polygon_to_xywh  # noqa: F401  (VOT polygons -> xywh; lives with the VOT reader)
from fcot_ros.tracker.box_geometry import as_boxes


def centres(boxes) -> np.ndarray:
    """(N, 2) box centres in pixels: (x + w / 2, y + h / 2)."""
    b = as_boxes(boxes)
    return b[:, :2] + b[:, 2:] / 2.0


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
