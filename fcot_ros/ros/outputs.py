"""What tracker_node publishes per frame: TrackedTarget on track/target and the overlay on
track/debug_image (drawn only while someone subscribes). The publishers are created by the node's
wiring (plain or lifecycle publishers alike) and handed in."""
from sensor_msgs.msg import Image

from fcot_ros.contract import LOST, TRACKING, UNCERTAIN
from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.image_conversion import fill_image
from fcot_ros.ros.overlay import draw_overlay

STATE_CODES = {TRACKING: TrackedTarget.TRACKING, UNCERTAIN: TrackedTarget.UNCERTAIN, LOST: TrackedTarget.LOST}
STATE_NAMES = {TrackedTarget.IDLE: "idle", TrackedTarget.TRACKING: "tracking",
               TrackedTarget.UNCERTAIN: "uncertain", TrackedTarget.LOST: "lost"}


def make_target(header, box, confidence, state) -> TrackedTarget:
    """TrackedTarget with ``header`` (copied from the source image), box (x, y, w, h) image pixels
    or None (IDLE), confidence and state (a TrackedTarget state code)."""
    out = TrackedTarget(header=header, confidence=float(confidence), state=state)
    if box is not None:
        out.x, out.y, out.width, out.height = (float(v) for v in box)
    return out


class Outputs:
    """target_pub: TrackedTarget publisher; debug_pub: Image publisher; debug: publish_debug_image."""

    def __init__(self, target_pub, debug_pub, debug: bool):
        self._target_pub, self._debug_pub, self._debug = target_pub, debug_pub, debug

    def target(self, header, box, confidence, state) -> TrackedTarget:
        """Publish a TrackedTarget (box [x, y, w, h] in image pixels, or None when IDLE) and return it."""
        out = make_target(header, box, confidence, state)
        self._target_pub.publish(out)
        return out

    def debug_wanted(self) -> bool:
        """True when debug images are enabled and someone subscribes to track/debug_image."""
        return self._debug and self._debug_pub.get_subscription_count() > 0

    def debug(self, header, image, box, state, confidence, note: str):
        """Draw the overlay on ``image`` (H x W x 3 uint8 BGR) and publish it with ``header``."""
        overlay = draw_overlay(image, box, STATE_NAMES[state], confidence, note)
        self._debug_pub.publish(fill_image(Image(header=header), overlay))
