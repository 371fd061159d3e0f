"""The tracking thread of tracker_node: takes the newest frame from the latest-frame slot and runs
one session step on it, until closed. A step that raises is counted and logged; the thread lives on.
"""
import threading


class TrackingLoop:
    """slot: LatestSlot of frames; step: callable(frame) (TrackingSession.step); alive: callable,
    False once the ROS context is shut down; on_error: callable(exception) for a failed step."""

    def __init__(self, slot, step, alive, on_error):
        self._slot, self._step, self._alive, self._on_error = slot, step, alive, on_error
        self._running = False
        self._thread = None

    def start(self):
        """Start the tracking thread (a daemon named fcot_tracking)."""
        self._running = True
        self._thread = threading.Thread(target=self._run, name="fcot_tracking", daemon=True)
        self._thread.start()

    def _run(self):
        while self._running:
            frame = self._slot.take(timeout=0.2)
            if frame is None or not self._running:
                continue
            try:
                self._step(frame)
            except Exception as e:  # keep the thread alive whatever happens; report it
                if not self._alive():   # SIGINT shut the context down under us
                    break
                self._on_error(e)

    def close(self, timeout: float = 60.0) -> bool:
        """Stop, letting a step in progress finish (idempotent); False if it is still busy after
        ``timeout`` s. The process must not exit while the tracker runs native code in this thread
        (ONNX Runtime aborts the process then), so this waits for the current step."""
        self._running = False
        self._slot.close()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=timeout)
            return not self._thread.is_alive()
        return True
