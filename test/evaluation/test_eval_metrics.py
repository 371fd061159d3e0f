"""Metric functions against hand-computed values."""
import math

import numpy as np
import pytest

from fcot_ros.evaluation.boxes import centre_error, normalised_centre_error, polygon_to_xywh
from fcot_ros.evaluation.metrics import (
    SUCCESS_THRESHOLDS,
    precision_curve,
    score_sequence,
    scored_frames,
    success_curve,
    summarise,
)
from fcot_ros.tracker.box_geometry import iou

NAN = float("nan")


def test_iou_hand_computed():
    gt = [[0, 0, 10, 10]] * 5
    pred = [[5, 0, 10, 10],    # overlap 5x10 = 50, union 150
            [5, 5, 10, 10],    # overlap 25, union 175
            [20, 20, 5, 5],    # disjoint
            [0, 0, 10, 10],    # identical
            [0, 0, 5, 5]]      # inside: 25 / 100
    np.testing.assert_allclose(iou(pred, gt), [1 / 3, 1 / 7, 0.0, 1.0, 0.25])


def test_iou_zero_area_and_nan_give_zero_not_nan():
    gt = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 10], [3, 3, 0, 0]]
    pred = [[0, 0, 0, 10], [NAN, NAN, NAN, NAN], [0, 0, 10, 10], [3, 3, 0, 0]]
    out = iou(pred, gt)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 0.0])


def test_centre_errors():
    np.testing.assert_allclose(centre_error([[3, 4, 10, 10]], [[0, 0, 10, 10]]), [5.0])
    # centre (10, 20) vs (5, 10); gt 10 x 20 -> ((5/10), (10/20)) -> sqrt(0.5)
    np.testing.assert_allclose(normalised_centre_error([[5, 10, 10, 20]], [[0, 0, 10, 20]]), [math.sqrt(0.5)])
    assert centre_error([[NAN] * 4], [[0, 0, 1, 1]])[0] == math.inf
    assert normalised_centre_error([[0, 0, 1, 1]], [[0, 0, 0, 1]])[0] == math.inf


def test_curves_threshold_conventions():
    # success counts IoU strictly above the threshold, precision counts error at or below it
    assert success_curve([0.5], [0.5])[0] == 0.0
    assert precision_curve([20.0], [20.0])[0] == 1.0
    assert len(SUCCESS_THRESHOLDS) == 21


def _sequence():
    gt = np.array([[0, 0, 10, 10],       # frame 0: init, not scored
                   [0, 0, 10, 10],       # scored: IoU 1, error 0
                   [NAN, NAN, NAN, NAN],  # absent: skipped
                   [0, 0, 0, 10],        # zero-area ground truth: skipped
                   [0, 0, 10, 10]])      # scored: IoU 1/3, error 5 px, normalised 0.5
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 5, 5], [50, 50, 5, 5], [5, 0, 10, 10]])
    return pred, gt


def test_score_sequence_hand_computed():
    pred, gt = _sequence()
    s = score_sequence(pred, gt)
    assert s.frames == 2
    # thresholds 0..0.30 (7): both above; 0.35..0.95 (13): only IoU 1; 1.0: none
    assert s.auc == pytest.approx((7 * 1.0 + 13 * 0.5) / 21)
    assert s.precision == 1.0
    assert s.precision_curve[4] == 0.5          # 5 px error is above a 4 px threshold
    assert s.norm_precision == 0.5              # normalised errors 0 and 0.5; threshold 0.2
    assert s.ao == pytest.approx(2 / 3)


def test_absent_flags_skip_frames():
    pred, gt = _sequence()
    absent = np.array([False, True, False, False, False])
    s = score_sequence(pred, gt, absent)
    assert s.frames == 1
    assert s.auc == pytest.approx(7 / 21)
    mask = scored_frames(gt, absent)
    np.testing.assert_array_equal(mask, [False, False, False, False, True])


def test_summarise_sequence_mean_and_pooled_ao():
    pred, gt = _sequence()
    a = score_sequence(pred, gt, name="a")
    b = score_sequence([[0, 0, 10, 10], [30, 30, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 10]], name="b")
    only_absent = score_sequence([[0, 0, 1, 1], [0, 0, 1, 1]], [[0, 0, 1, 1], [NAN] * 4], name="c")
    summary = summarise([a, b, only_absent])
    assert summary.sequences == 2                       # c has no scored frame
    assert summary.auc == pytest.approx(((7 + 6.5) / 21 + 0.0) / 2)
    assert summary.ao == pytest.approx((1 + 1 / 3 + 0) / 3)  # pooled over frames
    assert summary.sr50 == pytest.approx(1 / 3)


def test_prediction_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        score_sequence([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])


def test_polygon_to_axis_aligned():
    diamond = [[5, 0, 10, 5, 5, 10, 0, 5]]
    np.testing.assert_allclose(polygon_to_xywh(diamond), [[0, 0, 10, 10]])
    side = 10 * math.sqrt(0.5)                  # same area (50) as the rotated square
    np.testing.assert_allclose(polygon_to_xywh(diamond, "area"), [[5 - side / 2, 5 - side / 2, side, side]])
