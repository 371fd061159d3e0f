"""contract.size_policy.SizeChangePolicy, the one home of the image-size-change policy, around real
trackers on a real sequence: "lost" stops with the last box until initialize(); "rescale" scales an
FCOT tracker's state on a pure resolution change and stops on an aspect-ratio change or for a
tracker that cannot rescale (OpenCV)."""
import cv2
import numpy as np
import pytest
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.contract import LOST, Tracker
from fcot_ros.contract.size_policy import SIZE_CHANGE_POLICIES, SizeChangePolicy
from fcot_ros.errors import ConfigurationError


@pytest.fixture(scope="module")
def fcot():
    return build_tracker(model="fcot_lite", backend="torch")


def _resized(image, f):
    return cv2.resize(image, (int(round(image.shape[1] * f)), int(round(image.shape[0] * f))),
                      interpolation=cv2.INTER_AREA)


@pytest.mark.slow
def test_lost_stops_with_the_last_box_until_initialize(fcot, load_sequence):
    seq = load_sequence("otb_Car4")
    tracker = SizeChangePolicy(fcot, "lost")
    assert isinstance(tracker, Tracker) and tracker.model_name == "fcot_lite"
    tracker.initialize(seq.image(0), seq.groundtruth[0])
    for i in range(1, 4):
        held = tracker.track(seq.image(i))
    assert held.state != LOST and tracker.lost_reason is None and tracker.size_event is None
    h, w = seq.image(4).shape[:2]
    frames_run = fcot.frame_num
    result = tracker.track(_resized(seq.image(4), 0.5))
    assert result.state == LOST and result.score == 0.0
    assert result.box == held.box                        # the last box, in the init image's pixels
    assert tracker.size_event == "stopped" and tracker.stopped and tracker.size_changes == 1
    assert f"from {w}x{h} to {w // 2}x{h // 2}" in tracker.lost_reason
    assert "initializ" in tracker.lost_reason
    later = tracker.track(seq.image(5))                  # stopped, even at the old size
    assert later.state == LOST and later.box == held.box and tracker.size_event is None
    assert fcot.frame_num == frames_run                  # the tracker itself did not run
    tracker.initialize(seq.image(5), seq.groundtruth[5])
    assert tracker.lost_reason is None and not tracker.stopped
    assert iou(tracker.track(seq.image(6)).box, seq.groundtruth[6]) > 0.5


@pytest.mark.slow
def test_rescale_keeps_tracking_in_new_pixels(fcot, load_sequence):
    """A pure resolution change (same aspect ratio) scales the state and the boxes come back in the
    new image's pixels; an aspect-ratio change still stops (LOST)."""
    seq = load_sequence("otb_Car4")
    tracker = SizeChangePolicy(fcot, "rescale")
    tracker.initialize(seq.image(0), seq.groundtruth[0])
    for i in range(1, 10):
        tracker.track(seq.image(i))
    overlaps = []
    for i in range(10, 30):
        result = tracker.track(_resized(seq.image(i), 0.5))
        assert result.state != LOST, tracker.lost_reason
        assert tracker.size_event == ("rescaled" if i == 10 else None)
        overlaps.append(iou(result.box, tuple(0.5 * v for v in seq.groundtruth[i])))
    assert tracker.lost_reason is None and tracker.size_changes == 1
    assert np.mean(overlaps) > 0.5, overlaps
    squeezed = tracker.track(np.ascontiguousarray(_resized(seq.image(30), 0.5)[:, :100]))
    assert squeezed.state == LOST and "aspect ratio" in tracker.lost_reason
    assert tracker.size_event == "stopped" and tracker.size_changes == 2


def test_rescale_stops_a_tracker_that_cannot_rescale(load_sequence):
    seq = load_sequence("otb_Car4")
    tracker = SizeChangePolicy(build_tracker(model="opencv_csrt"), "rescale")
    assert not tracker.can_rescale
    tracker.initialize(seq.image(0), seq.groundtruth[0])
    held = tracker.track(seq.image(1))
    result = tracker.track(_resized(seq.image(2), 0.5))
    assert result.state == LOST and result.score == 0.0 and result.box == held.box
    assert "cannot rescale" in tracker.lost_reason and "opencv_csrt" in tracker.lost_reason


def test_unknown_policy_is_refused():
    assert SIZE_CHANGE_POLICIES == ("lost", "rescale")
    with pytest.raises(ConfigurationError, match="image_size_change"):
        SizeChangePolicy(build_tracker(model="opencv_kcf"), "resize")
