"""tracker_node's error paths, through its ROS interface only (process exit code and log, parameters,
the image topic, track/init replies, /diagnostics): a bad parameter or an unknown model ends the
process with status 1 and the reason; with image_qos=reliable a best-effort camera is not heard and a
reliable one is; init_stamp_tolerance_ms > 0 takes the nearest buffered frame; a box the tracker
refuses is answered "tracker refused the box"; with image_size_change=rescale a smaller frame of the
same aspect ratio is rescaled to; a track() that raises is logged and counted (tracker_errors) and
the node goes on. Loopback-only DDS, a domain per node (conftest.py)."""
import time

import cv2
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import STARTUP_S, image_msg, new_domain_id, sequence, start_node, wait_for
from sensor_msgs.msg import Image

from fcot_ros.msg import TrackedTarget
from fcot_ros.tools.ros.replay import list_frames, read_groundtruth

pytestmark = pytest.mark.slow  # every test launches tracker_node (scripts/test.sh --fast skips them)


@pytest.mark.parametrize("params,why", [
    ({"image_qos": "fast"}, "image_qos"),             # not one of sensor_data / reliable
    ({"model": "no_such_model"}, "no_such_model"),    # not a registered model
])
def test_bad_parameter_or_unknown_model_exits_with_status_1(procs, params, why):
    node = procs.node(new_domain_id(), name="bad", **params)
    assert wait_for(lambda: not node.alive(), 60), f"the node kept running:\n{node.log()}"
    assert node.stop() == 1, node.log()
    log = node.log()
    assert "cannot start" in log and why in log, log


def test_qos_tolerance_refused_box_rescale_and_tracker_errors(procs, ros_client):
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    frames = [cv2.imread(str(f)) for f in list_frames(seq)[:12]]
    height, width = frames[0].shape[:2]                        # 360x240
    domain, node, client = start_node(procs, ros_client, "fcot_lite", warmup=False, image_qos="reliable",
                                      image_size_change="rescale", init_stamp_tolerance_ms=20.0)
    assert "reliable QoS" in node.log(), node.log()

    # a best-effort publisher does not match a reliable subscription: nothing is received
    best_effort = client.create_publisher(Image, "image",
                                          QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
    reliable = client.create_publisher(Image, "image", QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    assert wait_for(lambda: reliable.get_subscription_count() > 0, 10)
    for _ in range(10):
        best_effort.publish(image_msg(frames[0]))
        time.sleep(0.1)
    assert wait_for(lambda: "frames_received" in client.diagnostics, 10), client.diagnostics
    assert client.diagnostics["frames_received"] == "0", client.diagnostics

    # a reliable one is heard; init by a stamp 5 ms off the frame's finds it (tolerance 20 ms), 50 ms off not
    stamp = time.time_ns()
    reliable.publish(image_msg(frames[0], stamp_ns=stamp))
    assert wait_for(lambda: int(client.diagnostics.get("frames_received", 0)) >= 1, 10), client.diagnostics
    r = client.init(gt[0], stamp_ns=stamp + 50_000_000, timeout=STARTUP_S)
    assert not r.success and "no image with stamp" in r.message, r.message
    # a 1-pixel-wide box inside the image passes the node's checks and is refused by the tracker
    r = client.init_raw(int(gt[0][0]), int(gt[0][1]), 1, int(gt[0][3]), stamp_ns=stamp, timeout=STARTUP_S)
    assert not r.success and "tracker refused the box" in r.message, r.message
    r = client.init(gt[0], stamp_ns=stamp + 5_000_000, timeout=STARTUP_S)
    assert r.success, r.message

    # tracking; a frame of half the size (same aspect ratio) is rescaled to and tracked in its pixels
    for k in range(1, 4):
        reliable.publish(image_msg(frames[k]))
        assert client.wait_for_targets(k, 60), node.log()[-2000:]
    half = (width // 2, height // 2)
    reliable.publish(image_msg(cv2.resize(frames[4], half, interpolation=cv2.INTER_AREA)))
    assert node.wait_log("the tracker rescales", 30), node.log()[-2000:]
    assert client.wait_for_targets(4, 60), node.log()[-2000:]
    last = client.targets_since()[-1][1]
    assert last.state != TrackedTarget.LOST and last.x + last.width <= half[0] + 1e-3
    # a 6x4 frame (same aspect ratio again) is too small for the tracker: track() raises, the error
    # is logged and counted, and tracking goes on with the next frame
    reliable.publish(image_msg(cv2.resize(frames[5], (6, 4), interpolation=cv2.INTER_AREA)))
    assert node.wait_log("tracker error on frame", 30), node.log()[-2000:]
    assert wait_for(lambda: client.diagnostics.get("tracker_errors") == "1", 10), client.diagnostics
    reliable.publish(image_msg(cv2.resize(frames[6], half, interpolation=cv2.INTER_AREA)))
    assert client.wait_for_targets(5, 60), node.log()[-2000:]
    assert client.targets_since()[-1][1].state != TrackedTarget.IDLE
    assert node.alive()
    assert node.stop() == 0, node.log()[-2000:]
