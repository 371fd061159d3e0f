"""tracker_node: tracks one operator-chosen target in a camera stream and publishes it on every frame.

Interface (names relative to the node's namespace):
  sub  image (sensor_msgs/Image)  or  image/compressed (sensor_msgs/CompressedImage)
  srv  track/init (fcot_ros/srv/InitTrack), track/stop (std_srvs/Trigger)
  sub  camera_info (sensor_msgs/CameraInfo: the image topic's sibling, or camera_info_topic)
  pub  track/target (fcot_ros/msg/TrackedTarget), track/detection (vision_msgs/Detection2D, when
       vision_msgs is installed), track/bearing (geometry_msgs/Vector3Stamped, with a CameraInfo),
       track/event (fcot_ros/msg/TrackEvent, transient local), track/debug_image (sensor_msgs/Image,
       drawn only while subscribed), /diagnostics (diagnostic_msgs/DiagnosticArray)

Threads: a multi-threaded executor runs the image callback, the services and the diagnostics timer
in callback groups of their own, so that images keep coming in (ring buffer + latest-frame slot)
while track/init builds a target model (1-2 s on a small CPU). A tracking thread takes the newest
frame, tracks it and publishes. A frame that arrives while the tracker is busy replaces the pending
one (counted as dropped): latency stays bounded by one tracking step, however slow the tracker.

Time: frames are tracked in arrival order. Image stamps are used to find the frame of a track/init
request, to copy the header into TrackedTarget and for latency; stamps that are zero, repeated or
going back are tracked all the same, logged and counted (time_jump_policy decides whether a jump
back ends tracking). See docs/ros.md, "Time, stamps and sim time".

This module only wires the parts (ros/parts.py: intake, tracking session, services, tracking loop,
diagnostics; docs/architecture.md) to a plain rclpy Node: parameters, QoS, publishers, the image
subscription, the two services, the diagnostics timer and the executor of ``main``.
"""
import signal
import sys
from dataclasses import dataclass

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Vector3Stamped
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_srvs.srv import Trigger

from fcot_ros.errors import FCOTError
from fcot_ros.msg import TrackedTarget, TrackEvent
from fcot_ros.ros.outputs import vision_msgs_detection
from fcot_ros.ros.params import declare_and_read
from fcot_ros.ros.parts import build_parts
from fcot_ros.srv import InitTrack


def image_qos(params: dict) -> QoSProfile:
    """QoS of the image subscription: sensor_data (best effort) or reliable, volatile, keep last."""
    reliability = (ReliabilityPolicy.BEST_EFFORT if params["image_qos"] == "sensor_data"
                   else ReliabilityPolicy.RELIABLE)
    return QoSProfile(depth=params["image_queue_depth"], history=HistoryPolicy.KEEP_LAST,
                      reliability=reliability, durability=DurabilityPolicy.VOLATILE)


def image_input(node, params: dict):
    """(message type, topic name relative to the node, resolved topic) of the image input."""
    if params["image_transport"] == "compressed":
        topic = node.resolve_topic_name("image") + "/compressed"
        return CompressedImage, topic, topic
    return Image, "image", node.resolve_topic_name("image")


DEBUG_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
# track/event: a subscriber that joins late (a mission manager restarted) receives the last event
EVENT_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
CAMERA_INFO_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT)   # takes reliable ones too


@dataclass
class Publishers:
    """The publishers of one tracker_node; detection is None without vision_msgs."""

    target: object
    debug: object
    diagnostics: object
    detection: object
    bearing: object
    event: object

    def all(self) -> list:
        """Every publisher made (to destroy)."""
        return [p for p in (self.target, self.debug, self.diagnostics, self.detection, self.bearing, self.event)
                if p is not None]


def no_event_handlers(publisher: bool) -> dict:
    """create_publisher / create_subscription keyword arguments for an entity without QoS event
    handlers (rclpy's default ones log incompatible QoS). Entities that are destroyed while the node
    spins need this: destroying one whose event handler a multi-threaded executor is adding to its
    wait set raises InvalidHandle in the executor and ends the process (rclpy, Kilted), which is what
    `ros2 lifecycle set /tracker deactivate` did."""
    callbacks = PublisherEventCallbacks if publisher else SubscriptionEventCallbacks
    return {"event_callbacks": callbacks(use_default_callbacks=False)}


def create_outputs(node, create_publisher, event_handlers: bool = True) -> Publishers:
    """The publishers of ``node``, made by ``create_publisher`` (node.create_publisher, or a lifecycle
    node's create_lifecycle_publisher; ``event_handlers=False`` for publishers that are destroyed
    while spinning, see no_event_handlers). Without vision_msgs: no track/detection, and one log
    line why."""
    detection_types = vision_msgs_detection()
    if detection_types[0] is None:
        node.get_logger().warning(detection_types[1])
    kw = {} if event_handlers else no_event_handlers(publisher=True)
    return Publishers(
        target=create_publisher(TrackedTarget, "track/target", 10, **kw),
        debug=create_publisher(Image, "track/debug_image", DEBUG_QOS, **kw),
        diagnostics=create_publisher(DiagnosticArray, "/diagnostics", 10, **kw),
        detection=(create_publisher(detection_types[0], "track/detection", 10, **kw)
                   if detection_types[0] is not None else None),
        bearing=create_publisher(Vector3Stamped, "track/bearing", 10, **kw),
        event=create_publisher(TrackEvent, "track/event", EVENT_QOS, **kw))


def create_inputs(node, parts, diag_pub, event_handlers: bool = True) -> list:
    """The image subscription, track/init, track/stop, the diagnostics timer and the camera_info
    subscription of ``node``, wired to ``parts``; returns them (to destroy; ``event_handlers=False``
    when that happens while spinning, see no_event_handlers). Image callback, services and timer
    each in a callback group (and executor thread) of their own: images keep coming in while
    track/init builds a target model."""
    p = parts.params
    kw = {} if event_handlers else no_event_handlers(publisher=False)
    msg_type, topic, _ = image_input(node, p)
    services = MutuallyExclusiveCallbackGroup()
    # the camera's two inputs share one group: CameraInfo is kept while track/init blocks the service
    # thread (in the service group, the ~1 s of CameraInfo during an init overflowed its queue and the
    # frames after it had no bearing: seen in a fresh-clone CI run)
    camera = MutuallyExclusiveCallbackGroup()

    def publish_diagnostics():
        arr = DiagnosticArray(status=[parts.status()])
        arr.header.stamp = node.get_clock().now().to_msg()
        diag_pub.publish(arr)

    return [
        node.create_subscription(msg_type, topic, parts.intake.on_image, image_qos(p),
                                 callback_group=camera, **kw),
        node.create_service(InitTrack, "track/init", parts.services.on_init, callback_group=services),
        node.create_service(Trigger, "track/stop", parts.services.on_stop, callback_group=services),
        # steady clock: diagnostics keep coming with use_sim_time and no (or a paused) /clock
        node.create_timer(p["diagnostics_period_s"], publish_diagnostics,
                          callback_group=MutuallyExclusiveCallbackGroup(),
                          clock=Clock(clock_type=ClockType.STEADY_TIME)),
        node.create_subscription(CameraInfo, parts.cameras.topic, parts.cameras.on_camera_info, CAMERA_INFO_QOS,
                                 callback_group=camera, **kw),
    ]


def log_ready(node, parts, image_topic):
    """Log that the node is ready: model, backend, image topic, transport, QoS and the track/init service to call."""
    p = parts.params
    node.get_logger().info(
        f"ready: model={parts.model_name} backend={parts.backend_name} image={image_topic} "
        f"({p['image_transport']}, {p['image_qos']} QoS{', use_sim_time' if parts.use_sim_time else ''}); "
        f"call {node.resolve_service_name('track/init')} to start tracking")


def close_parts(node, parts, timeout: float = 60.0):
    """Stop the tracking thread, letting a step in progress finish (idempotent)."""
    if not parts.loop.close(timeout):
        node.get_logger().error(f"tracking thread still busy after {timeout:.0f} s")


class TrackerNode(Node):
    """tracker_node as a plain node: the parts are built and running from construction on."""

    def __init__(self, **kwargs):
        super().__init__("tracker", **kwargs)
        self.p = declare_and_read(self)
        _, _, self.image_topic = image_input(self, self.p)
        pubs = create_outputs(self, self.create_publisher)
        self.parts = build_parts(self, self.p, self.image_topic, pubs)
        self.model_name, self.backend_name = self.parts.model_name, self.parts.backend_name
        self.use_sim_time = self.parts.use_sim_time
        self._inputs = create_inputs(self, self.parts, pubs.diagnostics)
        self.parts.loop.start()
        log_ready(self, self.parts, self.image_topic)

    def close(self, timeout: float = 60.0):
        """Stop the tracking thread, letting a step in progress finish (waits up to ``timeout`` s)."""
        close_parts(self, self.parts, timeout)


def _ignore_further_signals():
    """Once shutting down, a second SIGINT/SIGTERM must not interrupt the clean-up: `ros2 launch` in a
    terminal delivers Ctrl-C twice (the terminal's process group, then launch's own SIGINT)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):      # not the main thread / not supported
            pass


# The GIL switch interval of the node's process (seconds; Python's default is 0.005). rclpy's executor
# loop runs in Python and holds the GIL for most of each wait-set rebuild; every torch or ONNX Runtime
# call of the tracking thread releases the GIL and must get it back, each time waiting up to one
# interval while the executor holds it. A model update is hundreds of small torch calls, so at 5 ms
# the waits added up to 0.5-1.5 s per update step on 2 cores (py-spy: the executor held the GIL 41%
# of the time). 0.1 ms bounds each wait: 640x480 at 30 Hz, the shipped fcot_lite, 40 s runs of
# fcot_ros.tools.ros.node_load: 5 ms 13.9 Hz delivered, p99 563 ms, 552 ms after init; 0.5 ms 17.5 Hz,
# 271 ms, 250 ms; 0.1 ms 22.7 Hz, 183 ms, 135 ms.
GIL_SWITCH_INTERVAL_S = 0.0001


def main(args=None):
    """Entry point of tracker_node: build the node, spin it on three threads, exit 1 when it cannot start."""
    run(TrackerNode, args)


def run(make_node, args=None):
    """Build the node with ``make_node()`` (TrackerNode, or the lifecycle variant), spin it on three
    threads until shut down, then stop it cleanly; exit 1 when it cannot start."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    rclpy.init(args=args)
    node = None
    executor = None
    code = 0
    try:
        try:
            node = make_node()
        except (FCOTError, ValueError, ImportError, NotImplementedError, RuntimeError) as e:
            # a tracker that cannot be built or a bad parameter: say why and exit non-zero
            rclpy.logging.get_logger("tracker").fatal(f"cannot start: {type(e).__name__}: {e}")
            code = 1
        else:
            # image callback, services and diagnostics timer each in a thread of their own
            # image callback, services and diagnostics timer each in a thread of their own (a
            # SingleThreadedExecutor with track/init in a plain thread was measured slower, README)
            executor = MultiThreadedExecutor(num_threads=3)
            executor.add_node(node)
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        _ignore_further_signals()
        try:
            if node is not None:
                node.close()
            if executor is not None:
                executor.shutdown(timeout_sec=5.0)
            if node is not None:
                node.destroy_node()
        except KeyboardInterrupt:
            pass
        rclpy.try_shutdown()
    sys.exit(code)


if __name__ == "__main__":
    main()
