"""The package's one IoU (fcot_ros.tracker.box_geometry): exact on the shared sequences' real boxes,
the same function for the tracker and the metrics, and 0 for a box with no area."""
from fractions import Fraction

import numpy as np

from fcot_ros.evaluation import metrics
from fcot_ros.tracker import box_geometry
from fcot_ros.tracker.box_geometry import box_iou, iou


def _exact_iou(a, b):
    """IoU in exact rational arithmetic (the float64 inputs taken as they are), as a float."""
    a, b = [Fraction(float(v)) for v in a], [Fraction(float(v)) for v in b]
    iw = max(Fraction(0), min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(Fraction(0), min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return float(inter / (a[2] * a[3] + b[2] * b[3] - inter))


def test_iou_of_real_boxes_is_exact_to_rounding(load_sequence):
    gt = load_sequence("otb_Car4").groundtruth
    gt = gt[np.all(np.isfinite(gt), axis=1)][:200]
    pred = gt[1:] + np.array([1.5, -2.25, 3.0, -1.0])     # each frame's box against the next, moved
    ref = np.array([_exact_iou(p, g) for p, g in zip(pred, gt[:-1])])
    got = iou(pred, gt[:-1])
    assert got.shape == (len(pred),) and got.dtype == np.float64
    assert ref.min() < 0.95 and ref.max() > 0.5              # the comparison spans real overlaps
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert [box_iou(p, g) for p, g in zip(pred, gt[:-1])] == list(got)


def test_one_iou_for_the_tracker_and_the_metrics():
    assert metrics.iou is box_geometry.iou


def test_identical_boxes_overlap_exactly_once():
    # (0.1 + 0.2) - 0.1 > 0.2 in float64: a scalar formula without clipping gave 1 + 2.2e-16 here
    box = (0.1, 0.1, 0.2, 0.2)
    assert box_iou(box, box) == 1.0


def test_a_box_with_a_nan_coordinate_has_no_overlap():
    # Python's max(x, nan) is x: the tracker's former scalar IoU ignored the NaN and gave ~1 here
    a = (100.0, 50.0, 40.0, 30.0)
    b = (float("nan"), 50.5, 40.0, 30.0)
    assert box_iou(a, b) == 0.0 and box_iou(b, a) == 0.0
    assert box_iou(a, (100.0, 50.0, 0.0, 30.0)) == 0.0      # zero width: no area
    assert box_iou(a, (100.0, 50.0, -40.0, -30.0)) == 0.0   # negative sides: no area, even if w*h > 0
