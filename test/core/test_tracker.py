"""FCOTTracker on real sequences: it holds an easy target, reports LOST when the target leaves
the view, and refuses bad input with clear errors while staying usable."""
import numpy as np
import pytest
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.contract import LOST, STATES, TRACKING
from fcot_ros.errors import InvalidBoxError, InvalidImageError, NotInitializedError


@pytest.fixture(scope="module")
def tracker():
    return build_tracker(model="fcot_lite", backend="torch")


@pytest.mark.slow
def test_holds_target_on_easy_sequence(tracker, load_sequence):
    seq = load_sequence("otb_Car4")
    tracker.initialize(seq.image(0), seq.groundtruth[0])
    overlaps = []
    for i in range(1, 100):
        result = tracker.track(seq.image(i))
        assert result.state in STATES and np.isfinite(result.score)
        assert set(result.timings) == {"crop", "network", "decode", "optimizers"}
        overlaps.append(iou(result.box, seq.groundtruth[i]))
    # measured 0.70 (fcot_lite, torch, CPU, frames 1-99); asserted >= 0.65: Car4 is a steady sequence
    # (float rounding of another CPU moves boxes by a pixel or less), a lost or drifting box falls far below
    print(f"otb_Car4 frames 1-99: mean IoU {np.mean(overlaps):.3f}")
    assert np.mean(overlaps) >= 0.65
    assert min(overlaps[-20:]) > 0.3


@pytest.mark.slow
def test_reports_lost_when_target_leaves_the_view(tracker, load_sequence):
    """A 300x360 view of tlp_Bike that pans right until the cyclist has left it."""
    seq = load_sequence("tlp_Bike")
    width, height = 300, 360
    offsets = [50] * 20 + [min(50 + 10 * k, 340) for k in range(1, 40)]

    def view(i):
        ox = offsets[i]
        x, y, w, h = seq.groundtruth[i]
        box = (x - ox, y, w, h)
        visible = (max(0.0, min(box[0] + w, width) - max(box[0], 0)) *
                   max(0.0, min(box[1] + h, height) - max(box[1], 0))) / (w * h)
        return np.ascontiguousarray(seq.image(i)[:height, ox:ox + width]), box, visible

    image, box, _ = view(0)
    tracker.initialize(image, box)
    held, gone = [], []
    for i in range(1, len(offsets)):
        image, box, visible = view(i)
        result = tracker.track(image)
        if i < 20:
            held.append(iou(result.box, box))
        elif visible == 0.0:
            gone.append(result.state)
    assert np.mean(held) > 0.5
    assert len(gone) >= 10
    assert gone.count(LOST) >= 0.7 * len(gone), gone


def test_bad_inputs_get_clear_errors_and_tracker_stays_usable(tracker, load_sequence):
    seq = load_sequence("otb_Crossing")
    image, box = seq.image(0), seq.groundtruth[0]
    fresh = build_tracker(model="fcot_lite", backend="torch")
    with pytest.raises(NotInitializedError, match="before"):
        fresh.track(image)
    grey = image[:, :, 0]
    with pytest.raises(InvalidImageError, match="HxWx3"):
        fresh.initialize(grey, box)
    with pytest.raises(InvalidImageError, match="4 channels"):
        fresh.initialize(np.dstack([image, image[:, :, :1]]), box)
    with pytest.raises(InvalidImageError, match="uint8"):
        fresh.initialize(image.astype(np.float32), box)
    with pytest.raises(InvalidImageError):
        fresh.initialize(np.zeros((0, 0, 3), np.uint8), box)
    for bad in [(10, 10, 0, 20), (np.nan, 10, 20, 20), (5000, 5000, 20, 20), (-100, -100, 50, 50), (1, 2, 3)]:
        with pytest.raises(InvalidBoxError):
            fresh.initialize(image, bad)
    with pytest.raises(NotInitializedError):  # failed initialisations leave it uninitialised
        fresh.track(image)
    fresh.initialize(image, box)
    result = fresh.track(seq.image(1))
    assert result.state == TRACKING and iou(result.box, seq.groundtruth[1]) > 0.5
    with pytest.raises(InvalidImageError):
        fresh.track(grey)
    assert iou(fresh.track(seq.image(2)).box, seq.groundtruth[2]) > 0.5


def _visible(box, width, height):
    """The part of an (x, y, w, h) box inside a width x height image, (x, y, w, h); None if empty."""
    x0, y0 = max(box[0], 0.0), max(box[1], 0.0)
    x1, y1 = min(box[0] + box[2], float(width)), min(box[1] + box[3], float(height))
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


@pytest.mark.slow
@pytest.mark.parametrize("edge", ["left", "right"])
def test_box_partly_outside_is_clipped_and_tracked(tracker, load_sequence, edge):
    """A first box that crosses the image edge (half of the pedestrian of otb_Crossing, 17x50 px,
    outside a view cut through his middle) is accepted, clipped to the image, and tracked: every box
    lies inside the image and follows the visible part of the target.

    The view: frames cut at the first box's centre column (left: the columns from it on, so the box
    starts at x = -8.5; right: the columns up to it, so the box ends 8.5 px past the right edge).
    Measured (fcot_lite, torch, CPU), mean IoU with the visible part: left 0.52 over frames 1-5 (then
    the pedestrian has walked out of that view), right 0.54 over frames 1-10; asserted >= 0.4 over at
    least 5 frames (a tracker that refuses the box fails at once; one that loses it drops below 0.3).
    """
    seq = load_sequence("otb_Crossing")
    x, y, w, h = seq.groundtruth[0]
    cut = int(round(x + w / 2))
    if edge == "left":
        def view(i):
            return (np.ascontiguousarray(seq.image(i)[:, cut:]),
                    (seq.groundtruth[i][0] - cut,) + tuple(seq.groundtruth[i][1:]))
    else:
        def view(i):
            return np.ascontiguousarray(seq.image(i)[:, :cut]), tuple(seq.groundtruth[i])
    image, box = view(0)
    height, width = image.shape[:2]
    assert box[0] < 0 < box[0] + box[2] <= width if edge == "left" else 0 <= box[0] < width < box[0] + box[2]
    tracker.initialize(image, box)               # accepted: no InvalidBoxError
    overlaps = []
    for i in range(1, 11):
        image, box = view(i)
        bx, by, bw, bh = tracker.track(image).box
        assert 0 <= bx and 0 <= by and bx + bw <= width + 1e-6 and by + bh <= height + 1e-6
        visible = _visible(box, width, height)
        if visible is not None:
            overlaps.append(iou((bx, by, bw, bh), visible))
    print(f"{edge}: mean IoU with the visible part {np.mean(overlaps):.3f}, min {min(overlaps):.3f}")
    assert len(overlaps) >= 5 and np.mean(overlaps) >= 0.4, overlaps


@pytest.mark.slow
def test_first_updates_are_spread_over_frames(tracker, load_sequence):
    """max_update_iter_per_frame (default preset: 1) caps the classifier iterations of each step and
    carries the rest over; 0 (the authors' presets) runs each first-frame update in full."""
    from fcot_ros.tracker.params import PRESETS
    assert PRESETS["default"].max_update_iter_per_frame == 1
    assert all(PRESETS[name].max_update_iter_per_frame == 0
               for name in ("lasot", "otb", "nfs", "uav", "trackingnet", "vot"))
    seq = load_sequence("otb_Car4")
    saved = tracker.params
    calls = []
    real = type(tracker)._optimize

    def record(cls_iter, reg_iter):
        calls.append((cls_iter, reg_iter))
        return real(tracker, cls_iter, reg_iter)

    tracker._optimize = record
    try:
        for cap in (0, 1):
            tracker.params = saved.with_overrides(max_update_iter_per_frame=cap)
            calls.clear()
            tracker.initialize(seq.image(0), seq.groundtruth[0])
            overlaps = [iou(tracker.track(seq.image(i)).box, seq.groundtruth[i]) for i in range(1, 41)]
            cls = [c for c, _ in calls]
            if cap == 0:
                assert cls[:5] == [saved.init_train_iter] * 5
            else:
                assert max(cls) == 1 and len(calls) >= 30
                # the five first updates' iterations all ran within the 40 frames
                assert sum(cls) >= saved.init_train_frames * saved.init_train_iter
            assert np.mean(overlaps) > 0.55, (cap, np.mean(overlaps))
    finally:
        del tracker._optimize
        tracker.params = saved


def test_opencv_baseline_and_configuration_errors_are_package_errors():
    """A raw cv2.error (MIL on a tiny image) comes back as an FCOTError with a message; unknown names
    raise ConfigurationError (an FCOTError and a ValueError) before anything runs."""
    from fcot_ros.baselines.opencv_trackers import OpenCVTracker
    from fcot_ros.errors import ConfigurationError, FCOTError
    from fcot_ros.evaluation.runner import parse_trackers
    tiny = np.zeros((9, 9, 3), np.uint8)
    with pytest.raises(InvalidImageError, match="OpenCV MIL cannot start"):
        OpenCVTracker("mil").initialize(tiny, (1, 1, 6, 6))
    for make in (lambda: OpenCVTracker("nope"), lambda: parse_trackers("opencv_kcf,nope"),
                 lambda: parse_trackers("fcot_lite", backend="cuda9"), lambda: parse_trackers(" , "),
                 lambda: parse_trackers("fcot_lite", preset="nope")):
        with pytest.raises(ConfigurationError) as err:
            make()
        assert isinstance(err.value, FCOTError) and isinstance(err.value, ValueError)
    assert [s.model for s in parse_trackers("opencv_kcf, fcot_lite")] == ["opencv_kcf", "fcot_lite"]


def test_eval_refuses_an_unknown_tracker_at_once(tmp_path, capsys):
    from fcot_ros.cli.main import main
    out = tmp_path / "results"
    assert main(["eval", "--dataset", "folder", "--root", str(tmp_path), "--trackers", "nope",
                 "--out", str(out)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert not out.exists(), "nothing may be written for a refused command"
