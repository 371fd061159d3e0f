"""The tracking session of tracker_node: its state (IDLE / TRACKING / UNCERTAIN / LOST), starting
(track/init), stopping (track/stop) and one tracking step per frame (the tracking thread), with the
step statistics that /diagnostics reports. No executor, publisher or timer is made here: the node's
wiring hands in the parts (intake, outputs, logs) and calls these methods.

The tracker is used from the service thread (initialize) and the tracking thread (track) under
``lock``. Only frames that arrived after the init frame, in its time epoch or later, are tracked.
"""
import threading
import time

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from fcot_ros.contract import TRACKER_STAGES
from fcot_ros.errors import FCOTError
from fcot_ros.msg import TrackedTarget, TrackEvent
from fcot_ros.ros.image_conversion import ImageConversionError
from fcot_ros.ros.intake import TIME_LOG_PERIOD_S, to_bgr
from fcot_ros.ros.outputs import STATE_CODES
from fcot_ros.ros.stats import RateLatency, fmt_stamp

# latency (image stamp -> publication, node clock) is recorded only inside this range: zero stamps,
# recorded (bag) stamps and sim time without /clock give no latency figure rather than a wrong one
LATENCY_RANGE_MS = (-50.0, 60_000.0)
POST_INIT_WINDOW_S = 2.0            # diagnostics post_init_step_max_ms: steps that start this soon after init
NODE_STAGES = ("wait", "convert", "track", "publish", "debug")
STAGES = NODE_STAGES + TRACKER_STAGES


class TrackingSession:
    """tracker: a contract Tracker behind a SizeChangePolicy (None when it could not be built);
    params: the node's parameter values; intake: Intake; outputs: Outputs; logger: the node's
    logger; throttled: ThrottledLog; now_ns: callable, the node clock in ns (latency); cameras:
    CameraInfoStore (the bearing of the box) or None.

    Track ids count the successful starts (1, 2, ...); TrackEvents go out on start (INIT), on the
    way into LOST (LOST), from LOST back to TRACKING (REACQUIRED) and when tracking ends (STOPPED).
    """

    def __init__(self, tracker, params: dict, intake, outputs, logger, throttled, now_ns, cameras=None):
        self.tracker, self.p, self.intake, self.out = tracker, params, intake, outputs
        self._log, self._throttled, self._now_ns = logger, throttled, now_ns
        self.cameras = cameras
        self.lock = threading.Lock()
        self.state = TrackedTarget.IDLE
        self.track_id = 0
        self._lost_reported = False      # a LOST event went out and no REACQUIRED since
        self.initializing = False
        self._after_seq = 0              # only frames that arrived after the init frame are tracked
        self._epoch = 0                  # time epoch (Intake) of the frames being tracked
        self.size_lost = None            # message, while stopped (LOST) by an image size change
        self._last_header = None
        self._last_box = None
        self._last_frame = None          # the last tracked (or init) frame: re-sends of it are skipped
        self.init_mono = None
        self.post_init_max_ms = float("nan")
        self.duplicates = self.tracker_errors = 0
        window = params["stats_window_s"]
        self.tracked = RateLatency(window)
        self.track_ms = RateLatency(window)
        self.stages = {name: RateLatency(window) for name in STAGES}

    def tracking(self) -> bool:
        """A pending frame that gets replaced counts as dropped: tracking and not initialising."""
        return self.state != TrackedTarget.IDLE and not self.initializing

    @property
    def size_changes(self) -> int:
        """Image size changes met by the tracker since it was built (0 without a tracker)."""
        return self.tracker.size_changes if self.tracker is not None else 0

    # ------------------------------------------------------------------ start / stop
    def start(self, frame, image, box):
        """Initialise on ``frame`` (its ``image`` converted) with ``box`` (x, y, w, h) pixels;
        returns (ok, why not or "", the state before). Runs in the service thread; intake goes on."""
        self.initializing = True
        try:
            with self.lock:
                was = self.state
                try:
                    self.tracker.initialize(image, box)
                except FCOTError as e:
                    self.state = TrackedTarget.IDLE
                    return False, f"tracker refused the box: {e}", was
                self.state = TrackedTarget.TRACKING
                self.track_id += 1
                self._lost_reported = False
                x, y, w, h = box
                self.out.event(frame.msg.header, TrackEvent.INIT, self.track_id,
                               f"track/init with box x={x:g} y={y:g} w={w:g} h={h:g}")
                # track only frames that arrived after the init frame, in the init frame's time epoch
                # or later; what came in while initialising waits in the latest slot
                self._after_seq, self._epoch = frame.seq, frame.epoch
                self.size_lost = None
                self._last_box = tuple(float(v) for v in box)
                self._last_header = frame.msg.header
                self._last_frame = frame
                self.init_mono = time.monotonic()
                self.post_init_max_ms = float("nan")
        finally:
            self.initializing = False
        return True, "", was

    def stop_locked(self, reason: str = "track/stop"):
        """End tracking (caller holds ``lock``): state IDLE, one IDLE TrackedTarget, a STOPPED event
        with ``reason`` (stamped with the node clock, the last image's frame_id)."""
        was = self.state
        self.state = TrackedTarget.IDLE
        self.size_lost = None
        self.intake.slot.clear()
        if self._last_header is not None:
            self.out.target(self._last_header, None, 0.0, TrackedTarget.IDLE, self.track_id)
        if was != TrackedTarget.IDLE:
            now = self._now_ns()
            header = Header(frame_id=self._last_header.frame_id if self._last_header is not None else "",
                            stamp=Time(sec=now // 1_000_000_000, nanosec=now % 1_000_000_000))
            self.out.event(header, TrackEvent.STOPPED, self.track_id, reason)

    # ------------------------------------------------------------------ one step (tracking thread)
    def step(self, frame):
        """Track one frame and publish the result, unless it is stale, a re-send, or the session is idle."""
        if self.initializing or self.state == TrackedTarget.IDLE:
            return
        t_start = time.monotonic()
        with self.lock:
            if self.state == TrackedTarget.IDLE or frame.seq <= self._after_seq:
                return
            if not self._in_time(frame) or self._skip_resend(frame):
                return
            self.stages["wait"].add((t_start - frame.arrival) * 1e3)
            try:
                image = to_bgr(frame.msg)
            except ImageConversionError as e:
                self.intake.refuse(e)
                return
            t_conv = time.monotonic()
            self.stages["convert"].add((t_conv - t_start) * 1e3)
            t0 = time.perf_counter()
            try:
                result = self.tracker.track(image)
            except FCOTError as e:
                self.tracker_errors += 1
                self._log.error(f"tracker error on frame {fmt_stamp(frame.stamp_ns)}: {e}")
                return
            if self._size_stopped(frame, result):
                return
            if self.tracker.lost_reason:
                self._throttled("tracker_lost", f"tracker: {self.tracker.lost_reason}", period=TIME_LOG_PERIOD_S)
            if self.p["simulated_delay_ms"] > 0:
                time.sleep(self.p["simulated_delay_ms"] / 1e3)
            self._publish(frame, image, result, t_start, (time.perf_counter() - t0) * 1e3)

    def _in_time(self, frame) -> bool:
        """time_jump_policy on a frame of a new time epoch (stamps went back): False when it stops."""
        if frame.epoch != self._epoch:
            self._epoch = frame.epoch
            if self.p["time_jump_policy"] == "stop":
                self.stop_locked("image stamps went back (time_jump_policy=stop)")
                self._log.warning("tracking stopped: image stamps went back (time_jump_policy=stop); "
                                  "call track/init again")
                return False
        return True

    def _skip_resend(self, frame) -> bool:
        """The same frame again (stamp and pixels equal to the last tracked or init frame's): a
        driver or replay re-sending it. A repeated stamp with other pixels is a new frame."""
        last = self._last_frame
        if last is None or frame.stamp_ns != last.stamp_ns:
            return False
        a, b = frame.msg, last.msg
        if type(a) is not type(b) or len(a.data) != len(b.data):
            return False
        if hasattr(a, "encoding") and ((a.width, a.height, a.step, a.encoding)
                                       != (b.width, b.height, b.step, b.encoding)):
            return False
        if a.data != b.data:
            return False
        self.duplicates += 1
        self._throttled("time:resend", f"image {fmt_stamp(frame.stamp_ns)} received again (same stamp, same "
                        "pixels): not tracked twice", level="info", period=TIME_LOG_PERIOD_S)
        return True

    def _size_stopped(self, frame, result) -> bool:
        """The size policy's events: a rescale is logged; while stopped by a size change, a LOST
        TrackedTarget (last box, confidence 0) goes out for every frame and True is returned."""
        policy = self.tracker
        if policy.size_event == "rescaled":
            (w0, h0), (w1, h1) = policy.size_change
            self._log.info(f"image size changed from {w0}x{h0} to {w1}x{h1}: the tracker rescales "
                           "(image_size_change=rescale)")
        elif policy.size_event == "stopped":
            self.size_lost = f"{policy.lost_reason}; call track/init again"
            self._log.warning(self.size_lost)
        if not policy.stopped:
            return False
        self.size_lost = self.size_lost or f"{policy.lost_reason}; call track/init again"
        if self.state != TrackedTarget.LOST:
            self.out.event(frame.msg.header, TrackEvent.LOST, self.track_id, self.size_lost)
            self._lost_reported = True
        self.state = TrackedTarget.LOST
        self._last_header = frame.msg.header
        self.out.target(frame.msg.header, result.box, 0.0, TrackedTarget.LOST, self.track_id)
        self._throttled("size", self.size_lost, period=TIME_LOG_PERIOD_S)
        return True

    def _state_event(self, header, was, result):
        """LOST on the way into LOST; REACQUIRED at the first TRACKING after a LOST (a re-detection
        may pass through UNCERTAIN first)."""
        if self.state == TrackedTarget.LOST and was != TrackedTarget.LOST:
            reason = self.tracker.lost_reason or f"target not found (confidence {float(result.score):.2f})"
            self.out.event(header, TrackEvent.LOST, self.track_id, reason)
            self._lost_reported = True
        elif self.state == TrackedTarget.TRACKING and self._lost_reported:
            self.out.event(header, TrackEvent.REACQUIRED, self.track_id,
                           f"target found again (confidence {float(result.score):.2f})")
            self._lost_reported = False

    def _publish(self, frame, image, result, t_start, step_ms):
        header = frame.msg.header
        self._last_frame = frame
        was, self.state = self.state, STATE_CODES.get(result.state, TrackedTarget.UNCERTAIN)
        self._last_box = tuple(float(v) for v in result.box)
        self._last_header = header
        t_pub = time.monotonic()
        self._state_event(header, was, result)
        bearing = None
        if self.cameras is not None and self.state != TrackedTarget.LOST:
            bearing = self.cameras.bearing(frame.stamp_ns, (image.shape[1], image.shape[0]), self._last_box)
        out = self.out.target(header, self._last_box, float(result.score), self.state, self.track_id, bearing)
        t_done = time.monotonic()
        latency_ms = (self._now_ns() - frame.stamp_ns) / 1e6
        ok = frame.stamp_ns > 0 and LATENCY_RANGE_MS[0] <= latency_ms <= LATENCY_RANGE_MS[1]
        self.tracked.add(latency_ms if ok else None)
        self.track_ms.add(step_ms)
        self.stages["track"].add(step_ms)
        self.stages["publish"].add((t_done - t_pub) * 1e3)
        for name, ms in result.timings.items():
            if name in self.stages:
                self.stages[name].add(ms)
        if self.init_mono is not None and t_start - self.init_mono <= POST_INIT_WINDOW_S:
            self.post_init_max_ms = step_ms if np.isnan(self.post_init_max_ms) else max(self.post_init_max_ms, step_ms)
        if self.out.debug_wanted():
            self.out.debug(header, image, self._last_box, self.state, out.confidence, f"{step_ms:.0f} ms")
            self.stages["debug"].add((time.monotonic() - t_done) * 1e3)
