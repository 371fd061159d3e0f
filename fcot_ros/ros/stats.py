"""Rolling rate and latency statistics for diagnostics and the measuring tools (no rclpy)."""
import collections
import threading
import time

import numpy as np


class RateLatency:
    """Events in a sliding time window: rate (Hz) and latency percentiles (ms)."""

    def __init__(self, window_s: float = 5.0, maxlen: int = 10000):
        self.window_s = window_s
        self._events = collections.deque(maxlen=maxlen)   # (t_monotonic, latency_ms or None)
        self._lock = threading.Lock()
        self.count = 0

    def add(self, latency_ms=None, now=None):
        """Record one event at ``now`` (monotonic s, default: the current time) with its latency in ms, if any."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._events.append((now, latency_ms))
            self.count += 1

    def _trim(self, now):
        while self._events and now - self._events[0][0] > self.window_s:
            self._events.popleft()

    def rate(self, now=None) -> float:
        """Events per second over the window ending at ``now`` (0.0 with fewer than two events)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            n = len(self._events)
            if n < 2:
                return 0.0
            span = now - self._events[0][0]
            return (n - 1) / span if span > 0 else 0.0

    def latency(self, now=None):
        """(median_ms, p99_ms, max_ms) over the window, or (nan, nan, nan)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            lat = [v for _, v in self._events if v is not None]
        return percentiles(lat)


def percentiles(values):
    """(median, p99, max) of ``values``; NaNs when empty."""
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    a = np.asarray(values, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 99)), float(a.max())


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time -> integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def fmt_stamp(ns: int) -> str:
    """Integer nanoseconds -> "sec.nanosec" (signed), as the node's messages show stamps."""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    return f"{sign}{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"
