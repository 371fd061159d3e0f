"""The follow demo's controller node: steers a pan-tilt head from tracker_node's bearing.

    python -m fcot_ros.tools.ros.follow_controller [--kp 5.0] [--kd 0.2] [--max-rate 1.5]

Subscribes ``track/bearing`` (geometry_msgs/Vector3Stamped, unit vector in the optical frame) and
``track/event`` (fcot_ros/msg/TrackEvent); publishes ``gimbal/rate_cmd`` (geometry_msgs/Vector3Stamped:
x = pan rate, y = tilt rate, rad/s; the header of the bearing it answers) with a PD law on azimuth and
elevation (follow_scene.PDController). It holds still (zero rates) when the target is lost or
tracking stopped, and when no bearing came for --stale s (a stalled tracker must not keep the head
turning).
"""
import argparse
import math
import sys
import time

from fcot_ros.tools.ros.follow_scene import PDController


def parse_args(argv=None):
    """The controller's command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kp", type=float, default=5.0, help="rad/s per rad of bearing angle")
    ap.add_argument("--kd", type=float, default=0.2, help="rad/s per rad/s of bearing angle change")
    ap.add_argument("--max-rate", type=float, default=1.5, help="rad/s")
    ap.add_argument("--stale", type=float, default=0.3, help="s without a bearing before holding still")
    return ap.parse_args(argv)


class FollowController:
    """The controller's ROS side: bearing in, rates out, holds still on loss or silence."""

    def __init__(self, node, args):
        from geometry_msgs.msg import Vector3Stamped

        from fcot_ros.msg import TrackEvent
        from fcot_ros.ros.node import EVENT_QOS
        self.node, self.args = node, args
        self.pd = PDController(kp=args.kp, kd=args.kd, max_rate=args.max_rate)
        self.pub = node.create_publisher(Vector3Stamped, "gimbal/rate_cmd", 10)
        node.create_subscription(Vector3Stamped, "track/bearing", self._on_bearing, 10)
        node.create_subscription(TrackEvent, "track/event", self._on_event, EVENT_QOS)
        node.create_timer(0.05, self._watchdog)
        self._last_bearing = 0.0
        self._holding = True
        self.commands = 0

    def _on_bearing(self, msg):
        x, y, z = msg.vector.x, msg.vector.y, msg.vector.z
        azimuth, elevation = math.atan2(x, z), math.atan2(-y, math.hypot(x, z))
        pan_rate, tilt_rate = self.pd.update(azimuth, elevation, msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
        self._send(msg.header, pan_rate, tilt_rate)
        self._last_bearing = time.monotonic()
        self._holding = False

    def _on_event(self, msg):
        from fcot_ros.msg import TrackEvent
        if msg.event in (TrackEvent.LOST, TrackEvent.STOPPED):
            self.node.get_logger().info(f"holding still: {msg.event_name} ({msg.reason})")
            self._hold(msg.header)

    def _watchdog(self):
        if not self._holding and time.monotonic() - self._last_bearing > self.args.stale:
            from std_msgs.msg import Header
            self._hold(Header(stamp=self.node.get_clock().now().to_msg()))

    def _hold(self, header):
        self.pd.reset()
        self._holding = True
        self._send(header, 0.0, 0.0)

    def _send(self, header, pan_rate, tilt_rate):
        from geometry_msgs.msg import Vector3Stamped
        msg = Vector3Stamped(header=header)
        msg.vector.x, msg.vector.y = float(pan_rate), float(tilt_rate)
        self.pub.publish(msg)
        self.commands += 1


def main(argv=None) -> int:
    """Spin the controller until Ctrl-C / shutdown; returns 0."""
    if argv is None:                 # launch_ros appends --ros-args ...: argparse must not see them
        from rclpy.utilities import remove_ros_args
        argv = remove_ros_args(sys.argv)[1:]
    args = parse_args(argv)
    from fcot_ros.tools.ros.rosenv import check_safe_env
    check_safe_env()
    import rclpy
    from rclpy.executors import ExternalShutdownException
    rclpy.init(args=sys.argv)
    node = rclpy.create_node("follow_controller")
    FollowController(node, args)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
