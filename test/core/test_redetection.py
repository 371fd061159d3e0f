"""Re-detection after loss: the search crop widens while the target is lost, a confident peak in the
widened crop re-acquires the target (state "uncertain", no model update), and the setting is off in
the authors' presets."""
import numpy as np
import pytest
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.contract import LOST, UNCERTAIN
from fcot_ros.errors import ConfigurationError
from fcot_ros.tracker.params import PRESETS, get_params


def test_settings_are_checked_and_off_for_the_authors():
    for name in ("lasot", "otb", "uav", "vot", "nfs", "trackingnet"):
        assert PRESETS[name].redetect_after == 0
    with pytest.raises(ConfigurationError, match="redetect"):
        get_params("default", redetect_growth=0.5)
    with pytest.raises(ConfigurationError, match="redetect"):
        get_params("default", redetect_after=-1)


@pytest.mark.slow
def test_lost_target_is_searched_wider_and_found_again(load_sequence):
    seq = load_sequence("otb_Car4")
    tracker = build_tracker(model="fcot_lite", backend="onnxruntime", redetect_after=2, redetect_growth=1.25,
                            redetect_max_zoom=1.6, redetect_threshold=0.3)
    tracker.initialize(seq.image(0), tuple(seq.groundtruth[0]))
    for i in range(1, 8):
        tracker.track(seq.image(i))
    grey = np.full_like(seq.image(8), 127)          # the target gone: a flat frame
    zooms, states = [], []
    for _ in range(5):
        zooms.append(tracker.search_zoom())
        states.append(tracker.track(grey).state)
    assert states == [LOST] * 5
    assert zooms == pytest.approx([1.0, 1.0, 1.25, 1.5625, 1.6])     # after 2 lost frames, x1.25 each, capped
    # the target reappears 40 frames later, moved: found in the widened crop
    k = 48
    result = tracker.track(seq.image(k))
    assert result.state == UNCERTAIN and iou(result.box, seq.groundtruth[k]) > 0.5
    assert tracker.search_zoom() == 1.0 and tracker.lost_count == 0
    assert iou(tracker.track(seq.image(k + 1)).box, seq.groundtruth[k + 1]) > 0.5


@pytest.mark.slow
def test_without_redetection_the_crop_never_widens(load_sequence):
    seq = load_sequence("otb_Car4")
    tracker = build_tracker(model="fcot_lite", backend="onnxruntime", redetect_after=0)
    tracker.initialize(seq.image(0), tuple(seq.groundtruth[0]))
    grey = np.full_like(seq.image(1), 127)
    for _ in range(4):
        assert tracker.track(grey).state == LOST
        assert tracker.search_zoom() == 1.0
