"""Log lines limited per kind (no rclpy): a camera sending 400 bad frames, or a bag looping every
10 s, gives a handful of lines, not a flood; every event is still counted where it happens."""
import threading
import time


class ThrottledLog:
    """At most one line per ``period`` s per kind; the next line says how many were held back.

    logger: any object with warning / info / error methods taking a string (an rclpy logger).
    Thread-safe: the image, service and tracking threads log through one instance.
    """

    def __init__(self, logger, period: float):
        self._logger, self.period = logger, period
        self._last = {}            # kind -> monotonic time of the last line
        self._held = {}            # kind -> lines held back since
        self._lock = threading.Lock()

    def __call__(self, kind: str, text: str, level: str = "warning", period: float = None) -> bool:
        """Log ``text`` at ``level`` unless a line of ``kind`` went out less than ``period`` s
        (default: self.period) ago; returns whether it was logged."""
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
        # one call line per severity: rclpy's logger keys its context on the calling line and refuses
        # a second severity from the same line ("Logger severity cannot be changed between calls")
        if level == "info":
            self._logger.info(text)
        elif level == "error":
            self._logger.error(text)
        elif level == "warning":
            self._logger.warning(text)
        else:
            raise ValueError(f"unknown log level {level!r}")
        return True
