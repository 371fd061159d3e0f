"""track/init and track/stop of tracker_node: request checks and replies (the service thread).

track/init finds the frame the box was drawn on (by stamp in the ring buffer, or the latest one),
checks the ROI against it and starts the session; every refusal is a reply with a reason, never an
exception out of the callback.
"""
import time

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.image_conversion import ImageConversionError
from fcot_ros.ros.intake import to_bgr
from fcot_ros.ros.stats import fmt_stamp, stamp_to_ns


class TrackServices:
    """Handlers for track/init (``on_init``) and track/stop (``on_stop``).

    session: TrackingSession; intake: Intake; params: the node's parameter values; logger: the
    node's logger; model_name: for replies; unavailable: why no tracker could be built, else None.
    """

    def __init__(self, session, intake, params: dict, logger, model_name: str, unavailable=None):
        self.session, self.intake, self.p, self._log = session, intake, params, logger
        self.model_name, self.unavailable = model_name, unavailable
        self.inits_ok = self.inits_failed = 0

    def on_init(self, req, resp):
        """track/init callback: start tracking the requested ROI, or reply with why not (never raises)."""
        try:
            ok, message = self._init(req)
        except Exception as e:  # never let a request take the node down
            ok, message = False, f"internal error: {type(e).__name__}: {e}"
        resp.success, resp.message = ok, message
        if ok:
            self.inits_ok += 1
            self._log.info(f"track/init: {message}")
        else:
            self.inits_failed += 1
            self._log.warning(f"track/init refused: {message}")
        return resp

    def on_stop(self, req, resp):
        """track/stop callback: stop tracking (publishing an IDLE target), or refuse when not tracking."""
        session = self.session
        with session.lock:
            if session.state == TrackedTarget.IDLE:
                resp.success, resp.message = False, "not tracking"
            else:
                session.stop_locked("track/stop service")
                resp.success, resp.message = True, "stopped"
        if resp.success:
            self._log.info(f"track/stop: {resp.message}")
        else:
            self._log.warning(f"track/stop refused: {resp.message}")
        return resp

    def _find_frame(self, want_ns):
        """(stamp_ns, frame) of the requested stamp (0: the latest frame), or (None, why not)."""
        ring = self.intake.ring
        if want_ns == 0:
            found = ring.latest()
            return found if found is not None else (None, f"no image received yet on {self.intake.topic}")
        found = ring.find(want_ns, int(self.p["init_stamp_tolerance_ms"] * 1e6))
        if found is not None:
            return found
        span = ring.span()
        held = (f"it holds {len(ring)} frames from {fmt_stamp(span[0])} to {fmt_stamp(span[1])}" if span
                else "it is empty")
        return None, (f"no image with stamp {fmt_stamp(want_ns)} in the buffer "
                      f"(buffer_size={self.p['buffer_size']}; {held})")

    def _init(self, req):
        if self.unavailable:
            return False, self.unavailable
        stamp_ns, frame = self._find_frame(stamp_to_ns(req.stamp))
        if stamp_ns is None:
            return False, frame
        try:
            image = to_bgr(frame.msg)
        except ImageConversionError as e:
            return False, f"cannot use image {fmt_stamp(stamp_ns)}: {e}"
        h, w = image.shape[:2]
        r = req.roi
        x, y, bw, bh = int(r.x_offset), int(r.y_offset), int(r.width), int(r.height)
        if bw <= 0 or bh <= 0:
            return False, f"ROI has zero size ({bw}x{bh})"
        if x + bw > w or y + bh > h:
            return False, f"ROI (x={x}, y={y}, w={bw}, h={bh}) is not inside the {w}x{h} image"
        t0 = time.monotonic()
        ok, why, was = self.session.start(frame, image, (float(x), float(y), float(bw), float(bh)))
        if not ok:
            return False, why
        again = "re-initialised" if was != TrackedTarget.IDLE else "initialised"
        age = time.monotonic() - frame.arrival
        return True, (f"{again} {self.model_name} on image {fmt_stamp(stamp_ns)} ({w}x{h}) "
                      f"with box x={x} y={y} w={bw} h={bh} in {self.session.init_mono - t0:.2f} s "
                      f"(frame received {age:.2f} s before the reply)")
