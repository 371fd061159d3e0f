"""CameraInfo for tracker_node's bearing: the camera_info subscription's topic (the image topic's
sibling, as image_transport's camera subscriber finds it), the recent messages by stamp, and the
bearing of a box centre in the image they describe (fcot_ros.camera_bearing does the geometry).

A frame's CameraInfo is the one with the same stamp, else the nearest within
camera_info_stamp_tolerance_ms. Without one, or with one that cannot be used (uncalibrated, unknown
distortion model, calibrated for another image size), there is no bearing: the box is published all
the same, the reason goes to the log (throttled) and to /diagnostics.
"""
import threading
from collections import OrderedDict

from fcot_ros.camera_bearing import CameraModel, CameraModelError
from fcot_ros.ros.stats import fmt_stamp, stamp_to_ns

KEEP = 64                      # CameraInfo messages kept (by stamp): > 2 s at 30 Hz
BEARING_LOG_PERIOD_S = 30.0    # "no bearing" is logged at most this often (every frame is counted)


def camera_info_topic(image_topic: str, override: str = "") -> str:
    """The CameraInfo topic of ``image_topic`` (resolved, without a transport suffix): ``override``
    when given, else the sibling /cam/image -> /cam/camera_info (image_transport's rule)."""
    if override:
        return override
    base = image_topic.rsplit("/", 1)[0] if "/" in image_topic.strip("/") else ""
    return f"{base}/camera_info"


def model_from_msg(msg, rectified: bool) -> CameraModel:
    """CameraModel of a sensor_msgs/CameraInfo, checked (CameraModelError says what is wrong)."""
    roi = msg.roi
    return CameraModel.checked(width=int(msg.width), height=int(msg.height),
                               distortion_model=str(msg.distortion_model), d=tuple(float(v) for v in msg.d),
                               k=tuple(float(v) for v in msg.k), r=tuple(float(v) for v in msg.r),
                               p=tuple(float(v) for v in msg.p), binning_x=int(msg.binning_x),
                               binning_y=int(msg.binning_y),
                               roi=(int(roi.x_offset), int(roi.y_offset), int(roi.width), int(roi.height)),
                               rectified=rectified)


class CameraInfoStore:
    """Recent CameraInfo messages by stamp (ns), each held as a CameraModel or the reason it is unusable.

    params: the node's parameter values (camera_info_stamp_tolerance_ms, image_rectified);
    throttled: ThrottledLog; topic: the resolved camera_info topic (for messages).
    """

    def __init__(self, params: dict, throttled, topic: str):
        self.topic = topic
        self._tolerance_ns = int(params["camera_info_stamp_tolerance_ms"] * 1e6)
        self._rectified = bool(params["image_rectified"])
        self._log = throttled
        self._lock = threading.Lock()
        self._by_stamp = OrderedDict()             # stamp ns -> CameraModel | str (why unusable)
        self._last_key = self._last_value = None   # identical calibrations are checked once
        self.received = self.unusable = 0
        self.bearings = self.without_bearing = 0
        self.problem = ""                          # the last reason a frame got no bearing

    def on_camera_info(self, msg):
        """camera_info subscription callback: keep the message's camera model (or why it is unusable)."""
        self.received += 1
        key = (msg.width, msg.height, msg.distortion_model, tuple(msg.d), tuple(msg.k), tuple(msg.r),
               tuple(msg.p), msg.binning_x, msg.binning_y, msg.roi.x_offset, msg.roi.y_offset,
               msg.roi.width, msg.roi.height)
        if key != self._last_key:
            try:
                value = model_from_msg(msg, self._rectified)
            except CameraModelError as e:
                value = str(e)
            self._last_key, self._last_value = key, value
        if isinstance(self._last_value, str):
            self.unusable += 1
        with self._lock:
            self._by_stamp[stamp_to_ns(msg.header.stamp)] = self._last_value
            while len(self._by_stamp) > KEEP:
                self._by_stamp.popitem(last=False)

    def model_for(self, stamp_ns: int, image_size: tuple):
        """(CameraModel, "") for an image of ``stamp_ns`` and (width, height), or (None, why not)."""
        with self._lock:
            if not self._by_stamp:
                return None, f"no CameraInfo received on {self.topic}"
            value = self._by_stamp.get(stamp_ns)
            if value is None:
                nearest = min(self._by_stamp, key=lambda s: abs(s - stamp_ns))
                if abs(nearest - stamp_ns) > self._tolerance_ns:
                    return None, (f"no CameraInfo on {self.topic} within "
                                  f"{self._tolerance_ns / 1e6:g} ms of image {fmt_stamp(stamp_ns)} "
                                  f"(nearest {fmt_stamp(nearest)}; camera_info_stamp_tolerance_ms)")
                value = self._by_stamp[nearest]
        if isinstance(value, str):
            return None, f"CameraInfo on {self.topic} is unusable: {value}"
        if value.image_size() != tuple(image_size):
            w, h = value.image_size()
            return None, (f"CameraInfo on {self.topic} describes {w}x{h} images, the image is "
                          f"{image_size[0]}x{image_size[1]}")
        return value, ""

    def bearing(self, stamp_ns: int, image_size: tuple, box):
        """fcot_ros.camera_bearing.Bearing of the centre of ``box`` (x, y, w, h) image pixels in an
        image of ``stamp_ns`` and (width, height), or None (the reason logged, throttled, and kept in
        ``problem`` for /diagnostics)."""
        model, why = self.model_for(stamp_ns, image_size)
        if model is not None:
            x, y, w, h = box
            try:
                found = model.bearing(x + w / 2.0, y + h / 2.0)
            except CameraModelError as e:
                model, why = None, f"no bearing for the box centre: {e}"
        if model is None:
            self.without_bearing += 1
            self.problem = why
            # no CameraInfo at all is a set-up without bearing (info); a bad one is a problem (warning)
            self._log("bearing", f"no bearing published: {why}", level="warning" if self.received else "info",
                      period=BEARING_LOG_PERIOD_S)
            return None
        self.bearings += 1
        return found
