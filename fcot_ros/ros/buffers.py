"""Thread-safe frame holders of the node (no rclpy here).

``LatestSlot``: one pending frame for the tracking thread. A frame that arrives before the previous
one was taken replaces it and is counted as dropped: when tracking is slower than the camera, stale
frames are dropped, never queued.

``StampRing``: the last N frames keyed by stamp (nanoseconds), so that track/init can use the image
an operator drew the box on. Insertion order is arrival order: ``latest()`` is the frame that arrived
last even when stamps go back (bag loop, sim-time reset); a frame whose stamp is already held replaces
the older one (the newest frame with a given stamp wins).

``Frame``: what the node keeps of an accepted message: the message, its stamp, an arrival sequence
number (the node's order of frames, independent of the stamps), the arrival time, and the "time
epoch" (incremented by the node whenever the stamps jump back).
"""
import collections
import threading


class Frame:
    """An accepted image message with its stamp (ns), arrival sequence number, arrival time and time epoch."""

    __slots__ = ("msg", "stamp_ns", "seq", "arrival", "epoch")

    def __init__(self, msg, stamp_ns: int, seq: int, arrival: float, epoch: int = 0):
        self.msg, self.stamp_ns, self.seq, self.arrival, self.epoch = msg, stamp_ns, seq, arrival, epoch


class LatestSlot:
    """Holder of the one newest pending frame for the tracking thread; replaced frames count as dropped."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._closed = False
        self.dropped = 0

    def put(self, item, count_drop: bool = True):
        """Offer ``item``; returns True when it replaced one that was never taken."""
        with self._cond:
            replaced = self._item is not None
            if replaced and count_drop:
                self.dropped += 1
            self._item = item
            self._cond.notify()
            return replaced

    def take(self, timeout: float = None):
        """Wait up to ``timeout`` s for an item and remove it; None on timeout or after close()."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def clear(self):
        """Discard the pending item, if any (not counted as dropped)."""
        with self._cond:
            self._item = None

    def close(self):
        """Close the slot: waiting and later take() calls return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class StampRing:
    """Bounded stamp -> frame map of the most recent frames (oldest evicted first)."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("ring size must be >= 1")
        self._frames = collections.OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return len(self._frames)

    def add(self, stamp_ns: int, frame):
        """Add ``frame`` under ``stamp_ns`` as the newest entry (replacing one of equal stamp), evicting the oldest."""
        with self._lock:
            self._frames[stamp_ns] = frame
            self._frames.move_to_end(stamp_ns)
            while len(self._frames) > self._size:
                self._frames.popitem(last=False)

    def latest(self):
        """(stamp_ns, frame) of the newest frame, or None when empty."""
        with self._lock:
            if not self._frames:
                return None
            stamp = next(reversed(self._frames))
            return stamp, self._frames[stamp]

    def find(self, stamp_ns: int, tolerance_ns: int = 0):
        """(stamp_ns, frame) of the frame closest to ``stamp_ns`` within ``tolerance_ns``, else None."""
        with self._lock:
            if stamp_ns in self._frames:
                return stamp_ns, self._frames[stamp_ns]
            best = None
            for s in self._frames:
                d = abs(s - stamp_ns)
                if d <= tolerance_ns and (best is None or d < abs(best - stamp_ns)):
                    best = s
            return (best, self._frames[best]) if best is not None else None

    def span(self):
        """(oldest_ns, newest_ns) or None: for messages that explain a failed lookup."""
        with self._lock:
            if not self._frames:
                return None
            return next(iter(self._frames)), next(reversed(self._frames))

    def clear(self):
        """Remove every frame."""
        with self._lock:
            self._frames.clear()
