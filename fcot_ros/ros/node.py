"""tracker_node: tracks one operator-chosen target in a camera stream and publishes it on every frame.

Interface (names relative to the node's namespace):
  sub  image (sensor_msgs/Image)  or  image/compressed (sensor_msgs/CompressedImage)
  srv  track/init (fcot_ros/srv/InitTrack), track/stop (std_srvs/Trigger)
  pub  track/target (fcot_ros/msg/TrackedTarget), track/debug_image (sensor_msgs/Image, drawn only
       while subscribed), /diagnostics (diagnostic_msgs/DiagnosticArray)

Threads: the executor thread only checks incoming frames, stores them (ring buffer + latest-frame
slot) and answers services; a tracking thread takes the newest frame, tracks it and publishes. A frame
that arrives while the tracker is busy replaces the pending one (counted as dropped): latency stays
bounded by one tracking step, however slow the tracker.
"""
import sys
import threading
import time

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, HistoryPolicy, DurabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import Trigger

from fcot_ros import build_tracker
from fcot_ros.errors import FCOTError
from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.buffers import LatestSlot, StampRing
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


def _fmt_stamp(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


class TrackerNode(Node):
    def __init__(self, **kwargs):
        super().__init__("tracker", **kwargs)
        self.p = declare_and_read(self)
        log = self.get_logger()

        self._tracker = build_tracker(model=self.p["model"], backend=self.p["backend"],
                                      weights=self.p["weights"] or None, preset=self.p["preset"],
                                      device=self.p["device"] or None)
        self.model_name = getattr(self._tracker, "model_name", self.p["model"])
        self.backend_name = getattr(self._tracker, "backend_name", self.p["backend"])
        if self.p["warmup"]:
            self._warmup()

        # tracking state, guarded by _lock (the tracker is used from two threads)
        self._lock = threading.Lock()
        self._state = TrackedTarget.IDLE
        self._last_stamp_ns = -1          # only frames newer than this are tracked
        self._last_header = None
        self._last_box = None

        self._ring = StampRing(self.p["buffer_size"])
        self._slot = LatestSlot()
        self._received = RateLatency(self.p["stats_window_s"])
        self._tracked = RateLatency(self.p["stats_window_s"])
        self._track_ms = RateLatency(self.p["stats_window_s"])
        self._refused = 0
        self._tracker_errors = 0
        self._refusal_log_times = {}

        if self.p["image_qos"] == "sensor_data":
            qos = QoSProfile(depth=self.p["image_queue_depth"], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.BEST_EFFORT,
                             durability=DurabilityPolicy.VOLATILE)
        else:
            qos = QoSProfile(depth=self.p["image_queue_depth"], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
        if self.p["image_transport"] == "compressed":
            topic = self.resolve_topic_name("image") + "/compressed"
            self._sub = self.create_subscription(CompressedImage, topic, self._on_image, qos)
        else:
            topic = "image"
            self._sub = self.create_subscription(Image, topic, self._on_image, qos)
        self.image_topic = self.resolve_topic_name(topic)

        self._target_pub = self.create_publisher(TrackedTarget, "track/target", 10)
        debug_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self._debug_pub = self.create_publisher(Image, "track/debug_image", debug_qos)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._init_srv = self.create_service(InitTrack, "track/init", self._on_init)
        self._stop_srv = self.create_service(Trigger, "track/stop", self._on_stop)
        self._diag_timer = self.create_timer(self.p["diagnostics_period_s"], self._publish_diagnostics)

        self._running = True
        self._worker = threading.Thread(target=self._tracking_loop, name="fcot_tracking", daemon=True)
        self._worker.start()
        log.info(f"ready: model={self.model_name} backend={self.backend_name} image={self.image_topic} "
                 f"({self.p['image_transport']}, {self.p['image_qos']} QoS); "
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
    def _refuse(self, reason: str):
        """Count a refused frame and log it, at most once per 2 s per distinct reason."""
        self._refused += 1
        now = time.monotonic()
        if now - self._refusal_log_times.get(reason, -1e9) >= 2.0:
            self._refusal_log_times[reason] = now
            self.get_logger().warning(f"refused image on {self.image_topic}: {reason}")

    def _on_image(self, msg):
        if isinstance(msg, Image):
            try:
                check_image_msg(msg)
            except ImageConversionError as e:
                self._refuse(str(e))
                return
        self._received.add()
        self._ring.add(stamp_to_ns(msg.header.stamp), msg)
        self._slot.put(msg, count_drop=self._state != TrackedTarget.IDLE)

    @staticmethod
    def _to_bgr(msg):
        return image_to_bgr(msg) if isinstance(msg, Image) else compressed_to_bgr(msg)

    # ------------------------------------------------------------------ tracking thread
    def _tracking_loop(self):
        while self._running:
            msg = self._slot.take(timeout=0.2)
            if msg is None or not self._running:
                continue
            try:
                self._track_one(msg)
            except Exception as e:  # keep the thread alive whatever happens; report it
                if not self.context.ok():   # SIGINT shut the context down under us
                    break
                self._tracker_errors += 1
                self.get_logger().error(f"tracking step failed: {type(e).__name__}: {e}")

    def _track_one(self, msg):
        stamp_ns = stamp_to_ns(msg.header.stamp)
        with self._lock:
            if self._state == TrackedTarget.IDLE or stamp_ns <= self._last_stamp_ns:
                return
            try:
                image = self._to_bgr(msg)
            except ImageConversionError as e:
                self._refuse(str(e))
                return
            t0 = time.perf_counter()
            try:
                result = self._tracker.track(image)
            except FCOTError as e:
                self._tracker_errors += 1
                self.get_logger().error(f"tracker error on frame {_fmt_stamp(stamp_ns)}: {e}")
                return
            if self.p["simulated_delay_ms"] > 0:
                time.sleep(self.p["simulated_delay_ms"] / 1e3)
            step_ms = (time.perf_counter() - t0) * 1e3
            self._last_stamp_ns = stamp_ns
            self._state = STATE_CODES.get(result.state, TrackedTarget.UNCERTAIN)
            self._last_box = tuple(float(v) for v in result.box)
            self._last_header = msg.header
            out = self._make_target(msg.header, self._last_box, float(result.score), self._state)
            self._target_pub.publish(out)
            latency_ms = (self.get_clock().now().nanoseconds - stamp_ns) / 1e6
            self._tracked.add(latency_ms)
            self._track_ms.add(step_ms)
            if self.p["publish_debug_image"] and self._debug_pub.get_subscription_count() > 0:
                overlay = draw_overlay(image, self._last_box, STATE_NAMES[self._state], out.confidence,
                                       f"{step_ms:.0f} ms")
                dbg = Image(header=msg.header)
                self._debug_pub.publish(fill_image(dbg, overlay))

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
            self.get_logger().info(f"track/init: {message}")
        else:
            self.get_logger().warning(f"track/init refused: {message}")
        return resp

    def _init(self, req):
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
        stamp_ns, msg = found
        try:
            image = self._to_bgr(msg)
        except ImageConversionError as e:
            return False, f"cannot use image {_fmt_stamp(stamp_ns)}: {e}"
        h, w = image.shape[:2]
        r = req.roi
        x, y, bw, bh = int(r.x_offset), int(r.y_offset), int(r.width), int(r.height)
        if bw <= 0 or bh <= 0:
            return False, f"ROI has zero size ({bw}x{bh})"
        if x + bw > w or y + bh > h:
            return False, f"ROI (x={x}, y={y}, w={bw}, h={bh}) is not inside the {w}x{h} image"
        with self._lock:
            was = self._state
            try:
                self._tracker.initialize(image, (float(x), float(y), float(bw), float(bh)))
            except FCOTError as e:
                self._state = TrackedTarget.IDLE
                return False, f"tracker refused the box: {e}"
            self._state = TrackedTarget.TRACKING
            self._last_stamp_ns = stamp_ns
            self._last_box = (float(x), float(y), float(bw), float(bh))
            self._last_header = msg.header
        again = "re-initialised" if was != TrackedTarget.IDLE else "initialised"
        return True, (f"{again} {self.model_name} on image {_fmt_stamp(stamp_ns)} ({w}x{h}) "
                      f"with box x={x} y={y} w={bw} h={bh}")

    def _on_stop(self, req, resp):
        with self._lock:
            if self._state == TrackedTarget.IDLE:
                resp.success, resp.message = False, "not tracking"
            else:
                self._state = TrackedTarget.IDLE
                if self._last_header is not None:
                    self._target_pub.publish(self._make_target(self._last_header, None, 0.0,
                                                               TrackedTarget.IDLE))
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
        step_med, _, _ = self._track_ms.latency()
        in_rate = self._received.rate()
        out_rate = self._tracked.rate()
        status = DiagnosticStatus(name=f"fcot_ros: {self.get_fully_qualified_name()}",
                                  hardware_id=f"{self.model_name}/{self.backend_name}")
        if self._received.count == 0:
            status.level, status.message = DiagnosticStatus.WARN, f"no image received on {self.image_topic}"
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
            "frames_received": str(self._received.count),
            "frames_tracked": str(self._tracked.count),
            "frames_dropped": str(self._slot.dropped),
            "frames_refused": str(self._refused),
            "tracker_errors": str(self._tracker_errors),
        }
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        arr = DiagnosticArray(status=[status])
        arr.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(arr)


def main(args=None):
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        try:
            node = TrackerNode()
        except (FCOTError, ValueError, ImportError, NotImplementedError, RuntimeError) as e:
            # a tracker that cannot be built or a bad parameter: say why and exit non-zero
            rclpy.logging.get_logger("tracker").fatal(f"cannot start: {type(e).__name__}: {e}")
            code = 1
        else:
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    sys.exit(code)


if __name__ == "__main__":
    main()
