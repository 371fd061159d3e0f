"""Image intake and the stamp policy of tracker_node (runs in the executor's image thread).

Every accepted message becomes a ``Frame`` (buffers.py) that goes into the stamp ring (track/init by
stamp) and the latest-frame slot (the tracking thread). Messages that cannot be converted are refused
and counted. Stamps that are zero, repeated or going back are tracked all the same in arrival order,
counted and logged; a jump back starts a new time epoch (the tracking session applies
time_jump_policy to it). See docs/ros.md, "Time, stamps and sim time".
"""
import time

from sensor_msgs.msg import Image

from fcot_ros.ros.buffers import Frame, LatestSlot, StampRing
from fcot_ros.ros.image_conversion import ImageConversionError, check_image_msg, compressed_to_bgr, image_to_bgr
from fcot_ros.ros.stats import RateLatency, fmt_stamp, stamp_to_ns

TIME_LOG_PERIOD_S = 10.0            # zero / repeated / backward stamps: one log line per kind per period


def to_bgr(msg):
    """sensor_msgs Image or CompressedImage -> H x W x 3 uint8 BGR (ImageConversionError if not)."""
    return image_to_bgr(msg) if isinstance(msg, Image) else compressed_to_bgr(msg)


class Intake:
    """Frames in: ``on_image(msg)`` (subscription callback); ``ring``, ``slot`` and the counters out.

    params: the node's parameter values (buffer_size, stats_window_s, time_jump_policy);
    throttled: a ThrottledLog; topic: the resolved image topic (for messages);
    counting_drops: callable, True while a replaced pending frame counts as dropped (tracking).
    """

    def __init__(self, params: dict, throttled, topic: str, counting_drops):
        self.topic = topic
        self._policy = params["time_jump_policy"]
        self._log = throttled
        self._counting_drops = counting_drops
        self.ring = StampRing(params["buffer_size"])
        self.slot = LatestSlot()
        self.received = RateLatency(params["stats_window_s"])
        self.seq = 0                 # arrival order of accepted frames
        self.epoch = 0               # incremented whenever the stamps go back
        self._last_stamp = None
        self.unstamped = self.repeated = self.backwards = self.refused = 0

    def on_image(self, msg):
        """Image subscription callback: check the message and its stamp, then put the frame in the ring and the slot."""
        if isinstance(msg, Image):
            try:
                check_image_msg(msg)
            except ImageConversionError as e:
                self.refuse(e)
                return
        stamp = stamp_to_ns(msg.header.stamp)
        self._check_stamp(stamp)
        self.seq += 1
        frame = Frame(msg, stamp, self.seq, time.monotonic(), self.epoch)
        self.received.add()
        self.ring.add(stamp, frame)
        self.slot.put(frame, count_drop=self._counting_drops())

    def refuse(self, err: ImageConversionError):
        """Count a refused frame and log it, at most once per refusal_log_period_s per kind."""
        self.refused += 1
        self._log(f"refuse:{getattr(err, 'kind', 'other')}", f"refused image on {self.topic}: {err}")

    def _check_stamp(self, stamp: int):
        if stamp == 0:
            self.unstamped += 1
            self._log("time:zero", f"images on {self.topic} carry stamp 0 (the driver sets no "
                      "time): tracked in arrival order, TrackedTarget keeps the zero stamp, track/init "
                      "takes the latest frame, no latency figure", period=TIME_LOG_PERIOD_S)
            return
        last = self._last_stamp
        self._last_stamp = stamp
        if last is None or stamp > last:
            return
        if stamp == last:
            self.repeated += 1
            self._log("time:repeated", f"image stamp {fmt_stamp(stamp)} repeated on {self.topic}: "
                      "a new image with it is tracked all the same (arrival order); the same image "
                      "sent again is not tracked twice", period=TIME_LOG_PERIOD_S)
            return
        self.backwards += 1
        self.epoch += 1
        then = ("tracking goes on in arrival order" if self._policy == "continue"
                else "tracking stops (time_jump_policy=stop) until the next track/init")
        self._log("time:back", f"image stamps went back by {(last - stamp) / 1e9:.3f} s on {self.topic} "
                  f"({fmt_stamp(last)} -> {fmt_stamp(stamp)}: bag loop, sim-time reset or driver "
                  f"restart?): {then}", period=TIME_LOG_PERIOD_S)
