"""Client side of tracker_node, shared by the demo, the node load test and the tests.

``TrackClient`` (an rclpy node, spun in a background thread) records every TrackedTarget with its
arrival time, keeps the latest /diagnostics values of the tracker, and calls track/init / track/stop;
with ``follow_outputs`` it also records track/bearing, track/detection (when vision_msgs is
installed) and track/event.
"""
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_srvs.srv import Trigger

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.stats import stamp_to_ns
from fcot_ros.srv import InitTrack

STATE_NAMES = {TrackedTarget.IDLE: "idle", TrackedTarget.TRACKING: "tracking",
               TrackedTarget.UNCERTAIN: "uncertain", TrackedTarget.LOST: "lost"}


class TrackClient(Node):
    """Client node of tracker_node, spun in its own thread: records targets and diagnostics, calls init/stop."""

    def __init__(self, namespace: str = "", name: str = "fcot_client", context=None, debug_images: bool = False,
                 follow_outputs: bool = False):
        """debug_images: also subscribe to track/debug_image (best effort) and keep what arrives in
        ``self.debug_images``. follow_outputs: also keep track/bearing (``self.bearings``),
        track/detection (``self.detections``; vision_msgs needed) and track/event (``self.events``,
        transient local: the last event from before this client started comes too). Subscriptions
        are made here, before spinning starts: rclpy entities created while another thread spins
        the executor may not be waited on."""
        super().__init__(name, namespace=namespace or "", context=context)
        self.received = []          # (arrival_ns, TrackedTarget)
        self.diagnostics = {}       # key -> value of the tracker's latest DiagnosticStatus
        self.debug_images = []      # sensor_msgs/Image, when asked for
        self.bearings, self.detections, self.events = [], [], []   # with follow_outputs
        self._lock = threading.Lock()
        self._event = threading.Condition(self._lock)
        self.create_subscription(TrackedTarget, "track/target", self._on_target, 100)
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 10)
        if debug_images:
            from rclpy.qos import QoSProfile, ReliabilityPolicy
            from sensor_msgs.msg import Image
            self.create_subscription(Image, "track/debug_image", self.debug_images.append,
                                     QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        if follow_outputs:
            self._follow_subscriptions()
        self._init = self.create_client(InitTrack, "track/init")
        self._stop = self.create_client(Trigger, "track/stop")
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _follow_subscriptions(self):
        from geometry_msgs.msg import Vector3Stamped

        from fcot_ros.msg import TrackEvent
        from fcot_ros.ros.node import EVENT_QOS
        from fcot_ros.ros.outputs import vision_msgs_detection
        self.create_subscription(Vector3Stamped, "track/bearing", self._keeper(self.bearings), 100)
        self.create_subscription(TrackEvent, "track/event", self._keeper(self.events), EVENT_QOS)
        detection_cls = vision_msgs_detection()[0]
        if detection_cls is not None:
            self.create_subscription(detection_cls, "track/detection", self._keeper(self.detections), 100)

    def _keeper(self, into: list):
        def keep(msg):
            with self._lock:
                into.append(msg)
        return keep

    def _spin(self):
        try:
            self._executor.spin()
        except Exception:  # shutdown while spinning
            pass

    def _on_target(self, msg):
        now = self.get_clock().now().nanoseconds
        with self._event:
            self.received.append((now, msg))
            self._event.notify_all()

    def _on_diag(self, msg):
        for st in msg.status:
            if st.name.startswith("fcot_ros:"):
                with self._lock:
                    self.diagnostics = {kv.key: kv.value for kv in st.values}
                    self.diagnostics["_level"] = int.from_bytes(st.level, "little") \
                        if isinstance(st.level, bytes) else int(st.level)
                    self.diagnostics["_message"] = st.message

    # ------------------------------------------------------------------ queries
    def wait_for_service(self, timeout: float = 30.0) -> bool:
        """Wait up to ``timeout`` s for each of track/init and track/stop; True when both are available."""
        return self._init.wait_for_service(timeout_sec=timeout) and \
            self._stop.wait_for_service(timeout_sec=timeout)

    def init(self, box, stamp_ns: int = 0, timeout: float = 30.0):
        """Call track/init with box (x, y, w, h); returns the response (success, message)."""
        req = InitTrack.Request()
        x, y, w, h = (int(round(v)) for v in box)
        req.roi.x_offset, req.roi.y_offset = max(x, 0), max(y, 0)
        req.roi.width, req.roi.height = max(w, 0), max(h, 0)
        req.stamp.sec, req.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
        return self._call(self._init, req, timeout)

    def init_raw(self, x_offset, y_offset, width, height, stamp_ns=0, timeout=30.0):
        """track/init with the ROI fields exactly as given (for refusal tests)."""
        req = InitTrack.Request()
        req.roi.x_offset, req.roi.y_offset, req.roi.width, req.roi.height = x_offset, y_offset, width, height
        req.stamp.sec, req.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
        return self._call(self._init, req, timeout)

    def stop(self, timeout: float = 10.0):
        """Call track/stop; returns the Trigger response (success, message)."""
        return self._call(self._stop, Trigger.Request(), timeout)

    @staticmethod
    def _call(client, req, timeout):
        if not client.wait_for_service(timeout_sec=timeout):
            raise TimeoutError(f"service {client.srv_name} not available")
        fut = client.call_async(req)
        done = threading.Event()
        fut.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout):
            raise TimeoutError(f"no answer from {client.srv_name} in {timeout} s")
        return fut.result()

    def count(self) -> int:
        """Number of TrackedTarget messages received so far."""
        with self._lock:
            return len(self.received)

    def wait_for_targets(self, n: int, timeout: float) -> bool:
        """Wait until at least n TrackedTarget messages have arrived in total."""
        end = time.monotonic() + timeout
        with self._event:
            while len(self.received) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._event.wait(left)
        return True

    def targets_since(self, index: int = 0):
        """The (arrival_ns, TrackedTarget) pairs received from index ``index`` on (a copy)."""
        with self._lock:
            return list(self.received[index:])

    def close(self):
        """Stop the spinning thread and destroy the node."""
        self._executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=2.0)
        self.destroy_node()


def latency_ms(arrival_ns: int, msg) -> float:
    """Image stamp -> arrival of its TrackedTarget, in ms."""
    return (arrival_ns - stamp_to_ns(msg.header.stamp)) / 1e6
