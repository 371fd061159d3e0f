"""track/init's last line of defence: an exception that no check foresaw (here a tracker whose
initialize raises RuntimeError, the way a driver or OpenCV bug would) becomes a reply with
success=false and "internal error: <type>: <text>", is counted as a failed init, and the node keeps
serving: the next request on the same node succeeds. A real TrackerNode (real rclpy, its own context
and loopback-only domain), driven through its own parts' callbacks with real messages.

Shown to fail on the defect: with on_init's ``except Exception`` removed the RuntimeError escapes the
handler and the first assertion's call raises."""
import time

import cv2
import pytest
from ros_helpers import image_msg, new_domain_id, sequence

from fcot_ros.tools.ros.replay import list_frames, read_groundtruth


def _init_request(box):
    from fcot_ros.srv import InitTrack
    req = InitTrack.Request()
    req.roi.x_offset, req.roi.y_offset, req.roi.width, req.roi.height = (int(round(v)) for v in box)
    return req, InitTrack.Response()


@pytest.fixture
def csrt_node():
    import rclpy

    from fcot_ros.ros.node import TrackerNode
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=new_domain_id())
    node = TrackerNode(context=ctx, parameter_overrides=[
        rclpy.parameter.Parameter("model", value="opencv_csrt")])
    try:
        yield node
    finally:
        node.close()
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def test_unforeseen_exception_is_an_internal_error_reply_and_the_node_goes_on(csrt_node):
    seq = sequence("otb_Crossing")
    box = read_groundtruth(seq)[0]
    frame = cv2.imread(str(list_frames(seq)[0]))
    parts = csrt_node.parts
    parts.intake.on_image(image_msg(frame, stamp_ns=time.time_ns()))

    tracker = parts.session.tracker
    real_initialize = tracker.initialize

    def broken_initialize(image, b):
        raise RuntimeError("camera driver handed a freed buffer")

    tracker.initialize = broken_initialize
    try:
        resp = parts.services.on_init(*_init_request(box))
    finally:
        tracker.initialize = real_initialize
    assert resp.success is False
    assert resp.message == "internal error: RuntimeError: camera driver handed a freed buffer", resp.message
    assert parts.services.inits_failed == 1 and parts.services.inits_ok == 0

    resp = parts.services.on_init(*_init_request(box))
    assert resp.success is True, resp.message
    assert parts.services.inits_ok == 1
    assert parts.session.tracking()
