"""What tracker_node publishes per frame: TrackedTarget on track/target, vision_msgs/Detection2D on
track/detection (when vision_msgs is installed), the bearing on track/bearing (with a CameraInfo),
the overlay on track/debug_image (drawn only while someone subscribes), and TrackEvent on
track/event when the track changes. The publishers are created by the node's wiring (plain or
lifecycle publishers alike) and handed in."""
import math

from geometry_msgs.msg import Vector3Stamped
from sensor_msgs.msg import Image

from fcot_ros.contract import LOST, TRACKING, UNCERTAIN
from fcot_ros.msg import TrackedTarget, TrackEvent
from fcot_ros.ros.image_conversion import fill_image
from fcot_ros.ros.overlay import draw_overlay

STATE_CODES = {TRACKING: TrackedTarget.TRACKING, UNCERTAIN: TrackedTarget.UNCERTAIN, LOST: TrackedTarget.LOST}
STATE_NAMES = {TrackedTarget.IDLE: "idle", TrackedTarget.TRACKING: "tracking",
               TrackedTarget.UNCERTAIN: "uncertain", TrackedTarget.LOST: "lost"}
EVENT_NAMES = {TrackEvent.INIT: "init", TrackEvent.LOST: "lost", TrackEvent.REACQUIRED: "reacquired",
               TrackEvent.STOPPED: "stopped"}
HELD = (TrackedTarget.TRACKING, TrackedTarget.UNCERTAIN)     # states with a current box: detection, bearing
DETECTION_CLASS_ID = "target"                              # ObjectHypothesis.class_id of track/detection


def vision_msgs_detection():
    """(vision_msgs.msg.Detection2D, ObjectHypothesisWithPose), or (None, why) when vision_msgs is
    not installed (PyPI has no wheel: a robot has it from apt, this repo's set-up builds it)."""
    try:
        from vision_msgs.msg import Detection2D, ObjectHypothesisWithPose
    except ImportError as e:
        return None, (f"vision_msgs is not installed ({e}): no track/detection "
                      "(apt install ros-<distro>-vision-msgs, or scripts/setup_env.sh with ../shared/ros_interfaces)")
    return Detection2D, ObjectHypothesisWithPose


def make_target(header, box, confidence, state, track_id: int = 0, bearing=None) -> TrackedTarget:
    """TrackedTarget with ``header`` (copied from the source image), box (x, y, w, h) image pixels
    or None (IDLE), confidence, state (a TrackedTarget state code), track id and bearing
    (fcot_ros.camera_bearing.Bearing or None: bearing_valid false, angles NaN)."""
    out = TrackedTarget(header=header, confidence=float(confidence), state=state, track_id=int(track_id))
    if box is not None:
        out.x, out.y, out.width, out.height = (float(v) for v in box)
    out.bearing_valid = bearing is not None
    out.azimuth = float(bearing.azimuth) if bearing is not None else math.nan
    out.elevation = float(bearing.elevation) if bearing is not None else math.nan
    return out


def make_detection(detection_types, header, box, confidence, track_id: int):
    """vision_msgs/Detection2D of ``box`` (x, y, w, h) image pixels: bbox centre and size in pixels,
    one hypothesis (class "target", score = confidence), id = the track id as a string."""
    detection_cls, hypothesis_cls = detection_types
    x, y, w, h = (float(v) for v in box)
    det = detection_cls(header=header, id=str(int(track_id)))
    det.bbox.center.position.x, det.bbox.center.position.y = x + w / 2.0, y + h / 2.0
    det.bbox.size_x, det.bbox.size_y = w, h
    hyp = hypothesis_cls()
    hyp.hypothesis.class_id, hyp.hypothesis.score = DETECTION_CLASS_ID, float(confidence)
    det.results = [hyp]
    return det


class Outputs:
    """target_pub: TrackedTarget publisher; debug_pub: Image publisher; debug: publish_debug_image;
    detection_pub: Detection2D publisher or None (no vision_msgs); bearing_pub: Vector3Stamped
    publisher; event_pub: TrackEvent publisher."""

    def __init__(self, target_pub, debug_pub, debug: bool, detection_pub=None, bearing_pub=None, event_pub=None):
        self._target_pub, self._debug_pub, self._debug = target_pub, debug_pub, debug
        self._detection_pub, self._bearing_pub, self._event_pub = detection_pub, bearing_pub, event_pub
        self._detection_types = vision_msgs_detection() if detection_pub is not None else None
        self.events = 0

    def target(self, header, box, confidence, state, track_id: int = 0, bearing=None) -> TrackedTarget:
        """Publish a TrackedTarget (box [x, y, w, h] in image pixels, or None when IDLE) and return it;
        while the target is held (TRACKING, UNCERTAIN) also its Detection2D and, given ``bearing``,
        the unit vector on track/bearing, all with ``header``."""
        out = make_target(header, box, confidence, state, track_id, bearing)
        self._target_pub.publish(out)
        if state in HELD and box is not None:
            if self._detection_pub is not None:
                self._detection_pub.publish(make_detection(self._detection_types, header, box, confidence, track_id))
            if bearing is not None and self._bearing_pub is not None:
                msg = Vector3Stamped(header=header)
                msg.vector.x, msg.vector.y, msg.vector.z = bearing.x, bearing.y, bearing.z
                self._bearing_pub.publish(msg)
        return out

    def event(self, header, event: int, track_id: int, reason: str):
        """Publish a TrackEvent (``event`` one of TrackEvent's constants) with ``header`` and ``reason``."""
        self.events += 1
        if self._event_pub is not None:
            self._event_pub.publish(TrackEvent(header=header, event=event, event_name=EVENT_NAMES[event],
                                               track_id=int(track_id), reason=reason))

    def debug_wanted(self) -> bool:
        """True when debug images are enabled and someone subscribes to track/debug_image."""
        return self._debug and self._debug_pub.get_subscription_count() > 0

    def debug(self, header, image, box, state, confidence, note: str):
        """Draw the overlay on ``image`` (H x W x 3 uint8 BGR) and publish it with ``header``."""
        overlay = draw_overlay(image, box, STATE_NAMES[state], confidence, note)
        self._debug_pub.publish(fill_image(Image(header=header), overlay))
