"""tracker_node: tracks one operator-chosen target in a camera stream and publishes it on every frame.

Interface (names relative to the node's namespace):
  sub  image (sensor_msgs/Image)  or  image/compressed (sensor_msgs/CompressedImage)
  srv  track/init (fcot_ros/srv/InitTrack), track/stop (std_srvs/Trigger)
  pub  track/target (fcot_ros/msg/TrackedTarget), track/debug_image (sensor_msgs/Image, drawn only
       while subscribed), /diagnostics (diagnostic_msgs/DiagnosticArray)

Threads: a multi-threaded executor runs the image callback, the services and the diagnostics timer
in callback groups of their own, so that images keep coming in (ring buffer + latest-frame slot)
while track/init builds a target model (1-2 s on a small CPU). A tracking thread takes the newest
frame, tracks it and publishes. A frame that arrives while the tracker is busy replaces the pending
one (counted as dropped): latency stays bounded by one tracking step, however slow the tracker.

Time: frames are tracked in arrival order. Image stamps are used to find the frame of a track/init
request, to copy the header into TrackedTarget and for latency; stamps that are zero, repeated or
going back are tracked all the same, logged and counted (time_jump_policy decides whether a jump
back ends tracking). See docs/ros.md, "Time, stamps and sim time".
"""
import signal
import sys
import threading
import time

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, HistoryPolicy, DurabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import Trigger

from fcot_ros import build_tracker
from fcot_ros.errors import CheckpointError, FCOTError
from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.buffers import Frame, LatestSlot, StampRing
from fcot_ros.ros.image_conversion import (ImageConversionError, check_image_msg, compressed_to_bgr,
                                           fill_image, image_to_bgr)
from fcot_ros.ros.overlay import draw_overlay
from fcot_ros.ros.params import declare_and_read
from fcot_ros.ros.stats import RateLatency, stamp_to_ns
from fcot_ros.srv import InitTrack

STATE_CODES = {"tracking": TrackedTarget.TRACKING, "uncertain": TrackedTarget.UNCERTAIN,
               "lost": TrackedTarget.LOST}
STATE_NAMES = {TrackedTarget.IDLE: "idle", TrackedTarget.TRACKING: "tracking",
               TrackedTarget.UNCERTAIN: "uncertain", TrackedTarget.LOST: "lost"}
# latency (image stamp -> publication, node clock) is recorded only inside this range: zero stamps,
# recorded (bag) stamps and sim time without /clock give no latency figure rather than a wrong one
LATENCY_RANGE_MS = (-50.0, 60_000.0)
POST_INIT_WINDOW_S = 2.0            # diagnostics post_init_step_max_ms: steps that start this soon after init
TIME_LOG_PERIOD_S = 10.0            # zero / repeated / backward stamps: one log line per kind per period
STAGES = ("wait", "convert", "track", "publish", "debug", "crop", "network", "optimizers", "decode")


def _fmt_stamp(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    return f"{sign}{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


class _LimitedLog:
    """Log lines limited per kind: at most one per ``period`` s, saying how many were held back."""

    def __init__(self, logger, period: float):
        self._logger, self.period = logger, period
        self._last = {}            # kind -> monotonic time of the last line
        self._held = {}            # kind -> lines held back since
        self._lock = threading.Lock()

    def __call__(self, kind: str, text: str, level: str = "warning", period: float = None):
        period = self.period if period is None else period
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -1e18) < period:
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            held = self._held.pop(kind, 0)
            self._last[kind] = now
        if held:
            text += f" ({held} more since the last such message, not logged)"
        getattr(self._logger, level)(text)
        return True


class TrackerNode(Node):
    def __init__(self, **kwargs):
        super().__init__("tracker", **kwargs)
        self.p = declare_and_read(self)
        log = self.get_logger()
        self._limited = _LimitedLog(log, self.p["refusal_log_period_s"])

        from fcot_ros.assembly.registry import model_spec
        fcot_model = model_spec(self.p["model"]).kind == "fcot"
        if self.p["torch_threads"] > 0 and fcot_model:
            import torch
            torch.set_num_threads(self.p["torch_threads"])
        overrides = {"image_size_change": self.p["image_size_change"]} if fcot_model else {}
        # weights that are missing or corrupt (the shipped file included) do not stop the node: it
        # stays up, says why on every track/init and in /diagnostics (ERROR), and tracks nothing
        self._unavailable = None
        try:
            self._tracker = build_tracker(model=self.p["model"], backend=self.p["backend"],
                                          weights=self.p["weights"] or None, preset=self.p["preset"],
                                          device=self.p["device"] or None, **overrides)
        except CheckpointError as e:
            self._tracker, self._unavailable = None, f"no tracker: {e}"
            log.error(self._unavailable)
        self.model_name = getattr(self._tracker, "model_name", self.p["model"])
        self.backend_name = getattr(self._tracker, "backend_name", self.p["backend"])
        self._rescale = self.p["image_size_change"] == "rescale" and fcot_model
        if self.p["image_size_change"] == "rescale" and not fcot_model:
            log.warning(f"image_size_change=rescale needs an FCOT model: {self.model_name} stops tracking "
                        "(state LOST) on an image size change")
        if self.p["warmup"] and self._tracker is not None:
            self._warmup()

        # tracking state, guarded by _lock (the tracker is used from the service and tracking threads)
        self._lock = threading.Lock()
        self._state = TrackedTarget.IDLE
        self._initializing = False
        self._track_after_seq = 0         # only frames that arrived after the init frame are tracked
        self._track_epoch = 0             # time epoch (see _on_image) of the frames being tracked
        self._init_size = None            # (w, h) of the init image
        self._size_lost = None            # message, while stopped (LOST) by an image size change
        self._last_header = None
        self._last_box = None
        self._last_frame = None           # the last tracked (or init) frame: re-sends of it are skipped
        self._init_mono = None
        self._post_init_max_ms = float("nan")
        self._inits_ok = self._inits_failed = 0

        # intake (executor image thread only, except the counters that diagnostics reads)
        self._seq = 0
        self._epoch = 0
        self._last_rx_stamp = None
        self._unstamped = self._repeated = self._backwards = self._duplicates = 0
        self._size_changes = 0

        self._ring = StampRing(self.p["buffer_size"])
        self._slot = LatestSlot()
        window = self.p["stats_window_s"]
        self._received = RateLatency(window)
        self._tracked = RateLatency(window)
        self._track_ms = RateLatency(window)
        self._stages = {name: RateLatency(window) for name in STAGES}
        self._refused = 0
        self._tracker_errors = 0

        self._image_group = MutuallyExclusiveCallbackGroup()
        self._service_group = MutuallyExclusiveCallbackGroup()
        self._timer_group = MutuallyExclusiveCallbackGroup()
        if self.p["image_qos"] == "sensor_data":
            qos = QoSProfile(depth=self.p["image_queue_depth"], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.BEST_EFFORT,
                             durability=DurabilityPolicy.VOLATILE)
        else:
            qos = QoSProfile(depth=self.p["image_queue_depth"], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
        if self.p["image_transport"] == "compressed":
            topic = self.resolve_topic_name("image") + "/compressed"
            self._sub = self.create_subscription(CompressedImage, topic, self._on_image, qos,
                                                 callback_group=self._image_group)
        else:
            topic = "image"
            self._sub = self.create_subscription(Image, topic, self._on_image, qos,
                                                 callback_group=self._image_group)
        self.image_topic = self.resolve_topic_name(topic)

        self._target_pub = self.create_publisher(TrackedTarget, "track/target", 10)
        debug_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self._debug_pub = self.create_publisher(Image, "track/debug_image", debug_qos)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._init_srv = self.create_service(InitTrack, "track/init", self._on_init,
                                             callback_group=self._service_group)
        self._stop_srv = self.create_service(Trigger, "track/stop", self._on_stop,
                                             callback_group=self._service_group)
        # steady clock: diagnostics keep coming with use_sim_time and no (or a paused) /clock
        self._diag_timer = self.create_timer(self.p["diagnostics_period_s"], self._publish_diagnostics,
                                             callback_group=self._timer_group,
                                             clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.use_sim_time = bool(self.get_parameter("use_sim_time").value)

        self._running = True
        self._worker = threading.Thread(target=self._tracking_loop, name="fcot_tracking", daemon=True)
        self._worker.start()
        log.info(f"ready: model={self.model_name} backend={self.backend_name} image={self.image_topic} "
                 f"({self.p['image_transport']}, {self.p['image_qos']} QoS"
                 f"{', use_sim_time' if self.use_sim_time else ''}); "
                 f"call {self.resolve_service_name('track/init')} to start tracking")

    # ------------------------------------------------------------------ start-up / shutdown
    def _warmup(self):
        rng = np.random.default_rng(0)
        image = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
        t0 = time.perf_counter()
        try:
            self._tracker.initialize(image, (130.0, 90.0, 60.0, 60.0))
            self._tracker.track(image)
            self._tracker.track(image)
        except FCOTError as e:
            self.get_logger().warning(f"warm-up failed (continuing): {e}")
            return
        self.get_logger().info(f"warm-up done in {time.perf_counter() - t0:.2f} s")

    def close(self, timeout: float = 60.0):
        """Stop the tracking thread, letting a step in progress finish (idempotent).

        The process must not exit while the tracker runs native code in that thread (ONNX Runtime
        aborts the process then), so this waits for the current step, however slow.
        """
        self._running = False
        self._slot.close()
        if self._worker.is_alive():
            self._worker.join(timeout=timeout)
            if self._worker.is_alive():
                self.get_logger().error(f"tracking thread still busy after {timeout:.0f} s")

    # ------------------------------------------------------------------ input
    def _refuse(self, err: ImageConversionError):
        """Count a refused frame and log it, at most once per refusal_log_period_s per kind."""
        self._refused += 1
        self._limited(f"refuse:{getattr(err, 'kind', 'other')}", f"refused image on {self.image_topic}: {err}")

    def _on_image(self, msg):
        if isinstance(msg, Image):
            try:
                check_image_msg(msg)
            except ImageConversionError as e:
                self._refuse(e)
                return
        stamp = stamp_to_ns(msg.header.stamp)
        self._check_stamp(stamp)
        self._seq += 1
        frame = Frame(msg, stamp, self._seq, time.monotonic(), self._epoch)
        self._received.add()
        self._ring.add(stamp, frame)
        self._slot.put(frame, count_drop=self._state != TrackedTarget.IDLE and not self._initializing)

    def _check_stamp(self, stamp: int):
        """Time policy at intake: zero, repeated and backward stamps are counted and logged (the
        frames are tracked all the same, in arrival order); a jump back starts a new time epoch."""
        if stamp == 0:
            self._unstamped += 1
            self._limited("time:zero", f"images on {self.image_topic} carry stamp 0 (the driver sets no "
                          "time): tracked in arrival order, TrackedTarget keeps the zero stamp, track/init "
                          "takes the latest frame, no latency figure", period=TIME_LOG_PERIOD_S)
            return
        last = self._last_rx_stamp
        self._last_rx_stamp = stamp
        if last is None or stamp > last:
            return
        if stamp == last:
            self._repeated += 1
            self._limited("time:repeated", f"image stamp {_fmt_stamp(stamp)} repeated on {self.image_topic}: "
                          "a new image with it is tracked all the same (arrival order); the same image "
                          "sent again is not tracked twice", period=TIME_LOG_PERIOD_S)
            return
        self._backwards += 1
        self._epoch += 1
        then = ("tracking goes on in arrival order" if self.p["time_jump_policy"] == "continue"
                else "tracking stops (time_jump_policy=stop) until the next track/init")
        self._limited("time:back", f"image stamps went back by {(last - stamp) / 1e9:.3f} s on {self.image_topic} "
                      f"({_fmt_stamp(last)} -> {_fmt_stamp(stamp)}: bag loop, sim-time reset or driver "
                      f"restart?): {then}", period=TIME_LOG_PERIOD_S)

    @staticmethod
    def _to_bgr(msg):
        return image_to_bgr(msg) if isinstance(msg, Image) else compressed_to_bgr(msg)

    # ------------------------------------------------------------------ tracking thread
    def _tracking_loop(self):
        while self._running:
            frame = self._slot.take(timeout=0.2)
            if frame is None or not self._running:
                continue
            try:
                self._track_one(frame)
            except Exception as e:  # keep the thread alive whatever happens; report it
                if not self.context.ok():   # SIGINT shut the context down under us
                    break
                self._tracker_errors += 1
                self.get_logger().error(f"tracking step failed: {type(e).__name__}: {e}")

    def _track_one(self, frame):
        if self._initializing or self._state == TrackedTarget.IDLE:
            return
        t_start = time.monotonic()
        with self._lock:
            if self._state == TrackedTarget.IDLE or frame.seq <= self._track_after_seq:
                return
            msg, stamp_ns = frame.msg, frame.stamp_ns
            if frame.epoch != self._track_epoch:
                self._track_epoch = frame.epoch
                if self.p["time_jump_policy"] == "stop":
                    self._stop_locked()
                    self.get_logger().warning("tracking stopped: image stamps went back "
                                              "(time_jump_policy=stop); call track/init again")
                    return
            if self._is_resend(frame):
                self._duplicates += 1
                self._limited("time:resend", f"image {_fmt_stamp(stamp_ns)} received again (same stamp, same "
                              "pixels): not tracked twice", level="info", period=TIME_LOG_PERIOD_S)
                return
            self._stages["wait"].add((t_start - frame.arrival) * 1e3)
            try:
                image = self._to_bgr(msg)
            except ImageConversionError as e:
                self._refuse(e)
                return
            t_conv = time.monotonic()
            self._stages["convert"].add((t_conv - t_start) * 1e3)
            size = (image.shape[1], image.shape[0])
            if self._size_lost is None and size != self._init_size and not self._rescale:
                self._size_changes += 1
                w0, h0 = self._init_size
                self._size_lost = (f"image size changed from {w0}x{h0} to {size[0]}x{size[1]} while tracking: "
                                   "tracking stopped (state LOST, image_size_change=lost); call track/init again")
                self.get_logger().warning(self._size_lost)
            if self._size_lost is not None:
                self._state = TrackedTarget.LOST
                self._last_header = msg.header
                self._target_pub.publish(self._make_target(msg.header, self._last_box, 0.0, TrackedTarget.LOST))
                self._limited("size", self._size_lost, period=TIME_LOG_PERIOD_S)
                return
            if size != self._init_size:         # rescale: the FCOT tracker scales its state
                self._size_changes += 1
                w0, h0 = self._init_size
                self.get_logger().info(f"image size changed from {w0}x{h0} to {size[0]}x{size[1]}: "
                                       "the tracker rescales (image_size_change=rescale)")
                self._init_size = size
            t0 = time.perf_counter()
            try:
                result = self._tracker.track(image)
            except FCOTError as e:
                self._tracker_errors += 1
                self.get_logger().error(f"tracker error on frame {_fmt_stamp(stamp_ns)}: {e}")
                return
            reason = getattr(self._tracker, "lost_reason", None)
            if reason:
                self._limited("tracker_lost", f"tracker: {reason}", period=TIME_LOG_PERIOD_S)
            if self.p["simulated_delay_ms"] > 0:
                time.sleep(self.p["simulated_delay_ms"] / 1e3)
            step_ms = (time.perf_counter() - t0) * 1e3
            self._last_frame = frame
            self._state = STATE_CODES.get(result.state, TrackedTarget.UNCERTAIN)
            self._last_box = tuple(float(v) for v in result.box)
            self._last_header = msg.header
            out = self._make_target(msg.header, self._last_box, float(result.score), self._state)
            t_pub = time.monotonic()
            self._target_pub.publish(out)
            t_done = time.monotonic()
            latency_ms = (self.get_clock().now().nanoseconds - stamp_ns) / 1e6
            ok = stamp_ns > 0 and LATENCY_RANGE_MS[0] <= latency_ms <= LATENCY_RANGE_MS[1]
            self._tracked.add(latency_ms if ok else None)
            self._track_ms.add(step_ms)
            self._stages["track"].add(step_ms)
            self._stages["publish"].add((t_done - t_pub) * 1e3)
            for name, ms in result.timings.items():
                if name in self._stages:
                    self._stages[name].add(ms)
            if self._init_mono is not None and t_start - self._init_mono <= POST_INIT_WINDOW_S:
                self._post_init_max_ms = step_ms if np.isnan(self._post_init_max_ms) \
                    else max(self._post_init_max_ms, step_ms)
            if self.p["publish_debug_image"] and self._debug_pub.get_subscription_count() > 0:
                overlay = draw_overlay(image, self._last_box, STATE_NAMES[self._state], out.confidence,
                                       f"{step_ms:.0f} ms")
                dbg = Image(header=msg.header)
                self._debug_pub.publish(fill_image(dbg, overlay))
                self._stages["debug"].add((time.monotonic() - t_done) * 1e3)

    def _is_resend(self, frame) -> bool:
        """The same frame again (stamp and pixels equal to the last tracked or init frame's): a
        driver or replay re-sending it. A repeated stamp with other pixels is a new frame."""
        last = self._last_frame
        if last is None or frame.stamp_ns != last.stamp_ns:
            return False
        a, b = frame.msg, last.msg
        if isinstance(a, Image) != isinstance(b, Image):
            return False
        if isinstance(a, Image) and (a.width, a.height, a.step, a.encoding) != (b.width, b.height, b.step, b.encoding):
            return False
        return len(a.data) == len(b.data) and a.data == b.data

    @staticmethod
    def _make_target(header, box, confidence, state):
        out = TrackedTarget(header=header, confidence=float(confidence), state=state)
        if box is not None:
            out.x, out.y, out.width, out.height = (float(v) for v in box)
        return out

    # ------------------------------------------------------------------ services
    def _on_init(self, req, resp):
        try:
            ok, message = self._init(req)
        except Exception as e:  # never let a request take the node down
            ok, message = False, f"internal error: {type(e).__name__}: {e}"
        resp.success, resp.message = ok, message
        if ok:
            self._inits_ok += 1
            self.get_logger().info(f"track/init: {message}")
        else:
            self._inits_failed += 1
            self.get_logger().warning(f"track/init refused: {message}")
        return resp

    def _init(self, req):
        """Runs in the service thread: image intake goes on meanwhile (ring buffer, latest slot)."""
        if self._unavailable:
            return False, self._unavailable
        want_ns = stamp_to_ns(req.stamp)
        if want_ns == 0:
            found = self._ring.latest()
            if found is None:
                return False, f"no image received yet on {self.image_topic}"
        else:
            tol_ns = int(self.p["init_stamp_tolerance_ms"] * 1e6)
            found = self._ring.find(want_ns, tol_ns)
            if found is None:
                span = self._ring.span()
                held = (f"it holds {len(self._ring)} frames from {_fmt_stamp(span[0])} to {_fmt_stamp(span[1])}"
                        if span else "it is empty")
                return False, (f"no image with stamp {_fmt_stamp(want_ns)} in the buffer "
                               f"(buffer_size={self.p['buffer_size']}; {held})")
        stamp_ns, frame = found
        try:
            image = self._to_bgr(frame.msg)
        except ImageConversionError as e:
            return False, f"cannot use image {_fmt_stamp(stamp_ns)}: {e}"
        h, w = image.shape[:2]
        r = req.roi
        x, y, bw, bh = int(r.x_offset), int(r.y_offset), int(r.width), int(r.height)
        if bw <= 0 or bh <= 0:
            return False, f"ROI has zero size ({bw}x{bh})"
        if x + bw > w or y + bh > h:
            return False, f"ROI (x={x}, y={y}, w={bw}, h={bh}) is not inside the {w}x{h} image"
        self._initializing = True
        t0 = time.monotonic()
        try:
            with self._lock:
                was = self._state
                try:
                    self._tracker.initialize(image, (float(x), float(y), float(bw), float(bh)))
                except FCOTError as e:
                    self._state = TrackedTarget.IDLE
                    return False, f"tracker refused the box: {e}"
                self._state = TrackedTarget.TRACKING
                # track only frames that arrived after the init frame, in the init frame's time epoch
                # or later; what came in while initialising waits in the latest slot
                self._track_after_seq = frame.seq
                self._track_epoch = frame.epoch
                self._init_size = (w, h)
                self._size_lost = None
                self._last_box = (float(x), float(y), float(bw), float(bh))
                self._last_header = frame.msg.header
                self._last_frame = frame
                self._init_mono = time.monotonic()
                self._post_init_max_ms = float("nan")
        finally:
            self._initializing = False
        again = "re-initialised" if was != TrackedTarget.IDLE else "initialised"
        age = (time.monotonic() - frame.arrival)
        return True, (f"{again} {self.model_name} on image {_fmt_stamp(stamp_ns)} ({w}x{h}) "
                      f"with box x={x} y={y} w={bw} h={bh} in {self._init_mono - t0:.2f} s "
                      f"(frame received {age:.2f} s before the reply)")

    def _stop_locked(self):
        """End tracking (caller holds _lock): state IDLE, one IDLE TrackedTarget."""
        self._state = TrackedTarget.IDLE
        self._size_lost = None
        self._slot.clear()
        if self._last_header is not None:
            self._target_pub.publish(self._make_target(self._last_header, None, 0.0, TrackedTarget.IDLE))

    def _on_stop(self, req, resp):
        with self._lock:
            if self._state == TrackedTarget.IDLE:
                resp.success, resp.message = False, "not tracking"
            else:
                self._stop_locked()
                resp.success, resp.message = True, "stopped"
        if resp.success:
            self.get_logger().info(f"track/stop: {resp.message}")
        else:
            self.get_logger().warning(f"track/stop refused: {resp.message}")
        return resp

    # ------------------------------------------------------------------ diagnostics
    def _publish_diagnostics(self):
        state = self._state
        med, p99, mx = self._tracked.latency()
        step_med, step_p99, step_max = self._track_ms.latency()
        in_rate = self._received.rate()
        out_rate = self._tracked.rate()
        status = DiagnosticStatus(name=f"fcot_ros: {self.get_fully_qualified_name()}",
                                  hardware_id=f"{self.model_name}/{self.backend_name}")
        if self._unavailable:
            status.level, status.message = DiagnosticStatus.ERROR, self._unavailable
        elif self._received.count == 0:
            status.level, status.message = DiagnosticStatus.WARN, f"no image received on {self.image_topic}"
        elif self._size_lost is not None:
            status.level, status.message = DiagnosticStatus.WARN, "target lost: image size changed"
        elif state == TrackedTarget.LOST:
            status.level, status.message = DiagnosticStatus.WARN, "target lost"
        elif state == TrackedTarget.UNCERTAIN:
            status.level, status.message = DiagnosticStatus.OK, "tracking (uncertain)"
        else:
            status.level, status.message = DiagnosticStatus.OK, STATE_NAMES[state]
        values = {
            "state": STATE_NAMES[state],
            "model": self.model_name,
            "backend": self.backend_name,
            "image_rate_hz": f"{in_rate:.2f}",
            "tracked_rate_hz": f"{out_rate:.2f}",
            "latency_median_ms": f"{med:.1f}",
            "latency_p99_ms": f"{p99:.1f}",
            "latency_max_ms": f"{mx:.1f}",
            "track_step_median_ms": f"{step_med:.1f}",
            "track_step_p99_ms": f"{step_p99:.1f}",
            "track_step_max_ms": f"{step_max:.1f}",
            "post_init_step_max_ms": f"{self._post_init_max_ms:.1f}",
            "frames_received": str(self._received.count),
            "frames_tracked": str(self._tracked.count),
            "frames_dropped": str(self._slot.dropped),
            "frames_refused": str(self._refused),
            "frames_unstamped": str(self._unstamped),
            "stamps_repeated": str(self._repeated),
            "stamps_backwards": str(self._backwards),
            "frames_resent": str(self._duplicates),
            "image_size_changes": str(self._size_changes),
            "inits_ok": str(self._inits_ok),
            "inits_failed": str(self._inits_failed),
            "initializing": str(self._initializing).lower(),
            "tracker_errors": str(self._tracker_errors),
            "time_jump_policy": self.p["time_jump_policy"],
            "image_size_change": self.p["image_size_change"],
            "use_sim_time": str(self.use_sim_time).lower(),
        }
        for name, st in self._stages.items():
            s_med, s_p99, _ = st.latency()
            if not np.isnan(s_med):
                values[f"stage_{name}_ms"] = f"{s_med:.1f}/{s_p99:.1f}"
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        arr = DiagnosticArray(status=[status])
        arr.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(arr)


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
# fcot_ros.tools.ros.benchmark: 5 ms 13.9 Hz delivered, p99 563 ms, 552 ms after init; 0.5 ms 17.5 Hz,
# 271 ms, 250 ms; 0.1 ms 22.7 Hz, 183 ms, 135 ms.
GIL_SWITCH_INTERVAL_S = 0.0001


def main(args=None):
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    rclpy.init(args=args)
    node = None
    executor = None
    code = 0
    try:
        try:
            node = TrackerNode()
        except (FCOTError, ValueError, ImportError, NotImplementedError, RuntimeError) as e:
            # a tracker that cannot be built or a bad parameter: say why and exit non-zero
            rclpy.logging.get_logger("tracker").fatal(f"cannot start: {type(e).__name__}: {e}")
            code = 1
        else:
            # image callback, services and diagnostics timer each in a thread of their own
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
