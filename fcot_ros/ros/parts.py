"""The parts of tracker_node, made from its parameters and wired to one another, but to no executor:
a node (plain, or lifecycle) creates its publishers, hands them in, and connects the parts' handlers
to its own subscription, services and timer.

    intake    Intake: image subscription callback, stamp policy, ring buffer, latest-frame slot
    session   TrackingSession: state, start / stop, one tracking step per frame, track events
    cameras   CameraInfoStore: recent CameraInfo by stamp, the bearing of a box
    services  TrackServices: track/init and track/stop handlers
    loop      TrackingLoop: the tracking thread (start() / close())
    status()  the /diagnostics DiagnosticStatus
"""
from dataclasses import dataclass

from fcot_ros.ros.camera_info import CameraInfoStore, camera_info_topic
from fcot_ros.ros.diagnostics import build_status
from fcot_ros.ros.intake import Intake
from fcot_ros.ros.outputs import Outputs
from fcot_ros.ros.services import TrackServices
from fcot_ros.ros.session import TrackingSession
from fcot_ros.ros.throttled_log import ThrottledLog
from fcot_ros.ros.tracker_setup import make_tracker
from fcot_ros.ros.tracking_loop import TrackingLoop


@dataclass
class NodeParts:
    """The wired parts of one tracker_node (intake, session, services, loop) and what diagnostics report about them."""

    params: dict
    model_name: str
    backend_name: str
    intake: Intake
    session: TrackingSession
    cameras: CameraInfoStore
    services: TrackServices
    loop: TrackingLoop
    use_sim_time: bool
    name: str                      # the node's fully qualified name (diagnostics)

    def status(self):
        """The node's /diagnostics DiagnosticStatus now."""
        return build_status(f"fcot_ros: {self.name}", self.model_name, self.backend_name, self.session,
                            self.intake, self.services, self.params, self.use_sim_time, self.cameras)


def build_parts(node, params: dict, image_topic: str, pubs) -> NodeParts:
    """The parts of ``node`` (an rclpy Node; its logger, clock, context and name are used) from its
    parameter values, with its publishers (node.Publishers)."""
    log = node.get_logger()
    throttled = ThrottledLog(log, params["refusal_log_period_s"])
    tracker, unavailable = make_tracker(params, log)
    model_name = tracker.model_name if tracker is not None else params["model"]
    backend_name = tracker.backend_name if tracker is not None else params["backend"]
    session = None
    intake = Intake(params, throttled, image_topic, counting_drops=lambda: session.tracking())
    outputs = Outputs(pubs.target, pubs.debug, params["publish_debug_image"], detection_pub=pubs.detection,
                      bearing_pub=pubs.bearing, event_pub=pubs.event)
    base_topic = image_topic[:-len("/compressed")] if image_topic.endswith("/compressed") else image_topic
    cameras = CameraInfoStore(params, throttled, node.resolve_topic_name(
        camera_info_topic(base_topic, params["camera_info_topic"])))
    session = TrackingSession(tracker, params, intake, outputs, log, throttled,
                              now_ns=lambda: node.get_clock().now().nanoseconds, cameras=cameras)
    services = TrackServices(session, intake, params, log, model_name, unavailable)

    def on_error(e):
        session.tracker_errors += 1
        log.error(f"tracking step failed: {type(e).__name__}: {e}")

    loop = TrackingLoop(intake.slot, session.step, alive=node.context.ok, on_error=on_error)
    return NodeParts(params, model_name, backend_name, intake, session, cameras, services, loop,
                     use_sim_time=bool(node.get_parameter("use_sim_time").value),
                     name=node.get_fully_qualified_name())
