"""The lifecycle variant of tracker_node (ros/lifecycle_node.py): the same parts as the plain node,
wired to a managed node. Real rclpy in this process (its own context and domain, loopback-only DDS):
no services while unconfigured or inactive; tracks a real sequence once active; deactivate stops
tracking (one IDLE TrackedTarget) and removes the inputs; activate again tracks again."""
import threading
import time

import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import image_msg, new_domain_id, sequence, wait_for
from sensor_msgs.msg import Image

from fcot_ros.msg import TrackedTarget
from fcot_ros.tools.ros.replay import list_frames, read_groundtruth
from fcot_ros.tracker.box_geometry import box_iou

pytestmark = pytest.mark.slow  # builds the tracker and streams a sequence (scripts/test.sh --fast skips it)


@pytest.fixture
def lifecycle_node(test_model):
    """A LifecycleTrackerNode spun by a 3-thread executor in its own context; torn down after."""
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter

    from fcot_ros.ros.lifecycle_node import LifecycleTrackerNode
    domain = new_domain_id()
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=domain)
    node = LifecycleTrackerNode(context=ctx, parameter_overrides=[Parameter("model", value=test_model),
                                                                   Parameter("warmup", value=False)])
    executor = MultiThreadedExecutor(num_threads=3, context=ctx)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        yield domain, node
    finally:
        executor.shutdown(timeout_sec=5.0)
        node.close()
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
        spinner.join(timeout=5.0)


def _stream(pub, frames, k0, n, stamps):
    for k in range(k0, k0 + n):
        stamp = 1_000 * 10**9 + k * 33_333_333
        stamps[stamp] = k
        pub.publish(image_msg(frames[k], stamp_ns=stamp))
        time.sleep(1 / 30)


def test_lifecycle_node_tracks_only_while_active(lifecycle_node, ros_client):
    from rclpy.lifecycle import TransitionCallbackReturn as Ret
    domain, node = lifecycle_node
    seq = sequence("otb_Car4")
    gt = read_groundtruth(seq)
    frames = [cv2.imread(str(f)) for f in list_frames(seq)[:120]]
    client = ros_client(domain)
    pub = client.create_publisher(Image, "image", QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))

    assert not client.wait_for_service(1.0), "unconfigured: no track/init yet"
    assert node.trigger_configure() == Ret.SUCCESS
    assert not client.wait_for_service(1.0), "inactive: no track/init yet"
    assert node.trigger_activate() == Ret.SUCCESS
    assert client.wait_for_service(30.0)
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20)

    stamps = {}
    _stream(pub, frames, 0, 3, stamps)
    r = client.init(gt[0], stamp_ns=min(stamps), timeout=120.0)
    assert r.success, r.message
    n0 = client.count()
    _stream(pub, frames, 3, 60, stamps)
    assert client.wait_for_targets(n0 + 10, 30.0)
    tracked = [m for _, m in client.targets_since(n0) if m.state != TrackedTarget.IDLE]
    overlaps = [box_iou((m.x, m.y, m.width, m.height), gt[stamps[m.header.stamp.sec * 10**9 + m.header.stamp.nanosec]])
                for m in tracked]
    assert len(overlaps) >= 10 and np.mean(overlaps) > 0.5, overlaps

    assert node.trigger_deactivate() == Ret.SUCCESS
    n1 = client.count()
    assert wait_for(lambda: client.count() > n1, 5.0), "no IDLE TrackedTarget on deactivate"
    assert [m.state for _, m in client.targets_since(n1)][-1] == TrackedTarget.IDLE
    assert wait_for(lambda: pub.get_subscription_count() == 0, 10.0), "the image subscription is gone"
    n2 = client.count()
    _stream(pub, frames, 63, 10, stamps)
    assert client.count() == n2, "inactive: nothing tracked"

    assert node.trigger_activate() == Ret.SUCCESS      # the same parts, wired again
    assert client.wait_for_service(30.0) and wait_for(lambda: pub.get_subscription_count() > 0, 20)
    _stream(pub, frames, 73, 3, stamps)
    r = client.init(gt[75], timeout=120.0)
    assert r.success, r.message
    n3 = client.count()
    _stream(pub, frames, 76, 30, stamps)
    assert client.wait_for_targets(n3 + 5, 30.0)
    assert node.trigger_deactivate() == Ret.SUCCESS
    assert node.trigger_cleanup() == Ret.SUCCESS
    assert node.parts is None
