"""The follow demo's virtual pan-tilt camera and PD law without ROS (fcot_ros.tools.ros.follow_scene),
on the real otb_Basketball frames: the view shows the world where the head points, the true box in
the view matches what the view shows, the head's limits hold, the camera's K turns a view pixel into
the bearing fcot_ros.camera_bearing gives, and the PD law closed around the true bearing keeps the
target centred far more often than a still camera."""
import math

import numpy as np
import pytest
from ros_helpers import sequence

from fcot_ros.camera_bearing import CameraModel
from fcot_ros.tools.ros.follow_scene import FollowScene, PDController, static_share
from fcot_ros.tools.ros.replay import list_frames, read_groundtruth

pytestmark = pytest.mark.no_ros


@pytest.fixture(scope="module")
def basketball():
    import cv2
    seq = sequence("otb_Basketball")
    files = list_frames(seq)[:300]
    return [cv2.imread(str(f)) for f in files], read_groundtruth(seq)[:300]


def test_view_shows_the_world_where_it_points(basketball):
    frames, boxes = basketball
    scene = FollowScene(frames, boxes, view_size=(480, 360), zoom=2.0, focal=500.0)
    scene.point_at(scene.target_centre_world(0))
    dx, dy = scene.centre_error(0)
    assert abs(dx) < 1e-9 and abs(dy) < 1e-9 and scene.in_centre(0)
    view = scene.render(0).astype(np.float64)
    # the view's pixel rows/cols around the centre are the frame's target centre, magnified 2x
    x, y, w, h = boxes[0]
    cx, cy = x + w / 2, y + h / 2                       # frame pixels (continuous)
    frame = frames[0].astype(np.float64)
    # view pixel (239, 179) covers [239, 240) = world [cx*2 - 1, cx*2): frame [cx - 0.5, cx), centre cx - 0.25
    u_frame, v_frame = cx - 0.25 - 0.5, cy - 0.25 - 0.5   # in OpenCV's integer-centre convention
    i0, j0 = int(math.floor(v_frame)), int(math.floor(u_frame))
    a, b = v_frame - i0, u_frame - j0
    expected = ((1 - a) * (1 - b) * frame[i0, j0] + (1 - a) * b * frame[i0, j0 + 1]
                + a * (1 - b) * frame[i0 + 1, j0] + a * b * frame[i0 + 1, j0 + 1])
    assert np.abs(view[179, 239] - expected).max() <= 1.0
    # the true box in the view: its size is the frame box times the zoom
    assert scene.target_box(0)[2:] == pytest.approx((2 * w, 2 * h))


def test_head_limits_keep_the_view_inside_the_world(basketball):
    frames, boxes = basketball
    scene = FollowScene(frames, boxes, view_size=(480, 360), zoom=2.0, focal=500.0)
    scene.turn(10.0, -10.0, 1.0)
    cx, cy = scene.view_centre()
    ww, wh = scene.world_size
    assert cx == pytest.approx(ww - 240) and cy == pytest.approx(wh - 180)
    with pytest.raises(ValueError, match="does not fit"):
        FollowScene(frames, boxes, view_size=(1400, 360), zoom=2.0)


def test_camera_matrix_gives_the_bearing_of_a_view_pixel(basketball):
    frames, boxes = basketball
    scene = FollowScene(frames, boxes, view_size=(480, 360), zoom=2.0, focal=500.0)
    cam = CameraModel.checked(width=480, height=360, distortion_model="plumb_bob", d=(0.0,) * 5,
                              k=scene.camera_matrix(), r=tuple(np.eye(3).ravel()), p=(0.0,) * 12)
    scene.point_at((700.0, 300.0))
    x, y, w, h = scene.target_box(0)
    dx, dy = scene.centre_error(0)
    b = cam.bearing(x + w / 2, y + h / 2)
    assert b.azimuth == pytest.approx(math.atan2(dx, 500.0), abs=1e-12)
    assert b.elevation == pytest.approx(math.atan2(-dy, math.hypot(dx, 500.0)), abs=1e-12)


def test_pd_law_around_the_true_bearing_keeps_the_target_centred(basketball):
    """Closed loop at 30 Hz with a 2-frame delay (a tracker's latency), the bearing computed from the
    true box: the target's centre stays in the central 20% far more often than with the head still."""
    frames, boxes = basketball
    scene = FollowScene(frames, boxes, view_size=(480, 360), zoom=2.0, focal=500.0)
    cx, cy = scene.target_centre_world(0)
    scene.point_at((cx - 60, cy + 40))
    start = (scene.pan, scene.tilt)
    pd = PDController()
    delayed, rates, inside = [], (0.0, 0.0), []
    for k in range(len(scene)):
        scene.turn(*rates, 1 / 30)
        dx, dy = scene.centre_error(k)
        inside.append(scene.in_centre(k))
        delayed.append((math.atan2(dx, 500.0), math.atan2(-dy, math.hypot(dx, 500.0)), k / 30))
        if len(delayed) > 2:
            rates = pd.update(*delayed.pop(0))
    following = float(np.mean(inside))
    scene.pan, scene.tilt = start
    still = static_share(scene, range(len(scene)))
    print(f"\nin centre: following {following:.2f}, still {still:.2f}")
    assert following >= 0.85 and following >= still + 0.5, (following, still)


def test_pd_rates_are_limited_and_reset():
    pd = PDController(kp=3.0, kd=0.0, max_rate=1.0)
    assert pd.update(0.1, -0.2, 0.0) == pytest.approx((0.3, -0.6))
    assert pd.update(2.0, 0.0, 0.1) == pytest.approx((1.0, 0.0))
    pd = PDController(kp=0.0, kd=1.0)
    pd.update(0.0, 0.0, 0.0)
    assert pd.update(0.1, 0.0, 0.1) == pytest.approx((1.0, 0.0))
    pd.reset()
    assert pd.update(0.1, 0.0, 0.2) == pytest.approx((0.0, 0.0))
