"""What a tracker does when the frames change size while it tracks: one policy around any tracker.

A camera switching resolution, or a driver restarted with other settings, sends frames of another
size than the one the target was chosen in. ``SizeChangePolicy`` wraps any ``Tracker`` and decides:

- "lost": stop tracking. That frame and every later one give state "lost" with the last box (in the
  init image's pixels) and score 0.0 without running the tracker, and ``lost_reason`` says why,
  until the next initialize().
- "rescale": when the aspect ratio is kept within ASPECT_TOLERANCE (a pure resolution change) and the
  tracker ``can_rescale``, scale its state to the new size and track on (boxes in the new image's
  pixels); else stop as under "lost".
"""
from typing import Optional

from fcot_ros.contract.protocol import Box, Size, Tracker
from fcot_ros.contract.result import LOST, TrackResult
from fcot_ros.contract.validation import check_box, check_image
from fcot_ros.errors import ConfigurationError

SIZE_CHANGE_POLICIES = ("lost", "rescale")
ASPECT_TOLERANCE = 0.01          # relative change of w/h still counted as the same view


class SizeChangePolicy(Tracker):
    """``tracker`` behind the image-size-change ``policy`` (SIZE_CHANGE_POLICIES); implements Tracker.

    After each track(): ``size_event`` is None, "rescaled" (this frame's size change was absorbed)
    or "stopped" (this frame's size change stopped tracking), and ``size_change`` the (old, new)
    sizes of that event; ``stopped`` is True while stopped; ``size_changes`` counts the changes met
    since construction (over every initialization).
    """

    def __init__(self, tracker: Tracker, policy: str = "lost"):
        if policy not in SIZE_CHANGE_POLICIES:
            raise ConfigurationError(f"image_size_change must be one of {SIZE_CHANGE_POLICIES}, not {policy!r}")
        self.tracker = tracker
        self.policy = policy
        self.size_changes = 0
        self.size_event = None
        self.size_change = None
        self._size: Optional[Size] = None          # (w, h) the tracker's state refers to
        self._box: Optional[Box] = None            # last box returned (or the init box)
        self._stop_reason: Optional[str] = None

    # the wrapped tracker's identity and capabilities
    @property
    def model_name(self) -> str:
        """The wrapped tracker's model name."""
        return self.tracker.model_name

    @property
    def backend_name(self) -> str:
        """The wrapped tracker's feature-network backend name."""
        return self.tracker.backend_name

    @property
    def can_rescale(self) -> bool:
        """Whether the wrapped tracker can rescale its state to a new image size."""
        return self.tracker.can_rescale

    @property
    def uses_torch_threads(self) -> bool:
        """Whether the wrapped tracker runs on torch's CPU threads."""
        return self.tracker.uses_torch_threads

    @property
    def lost_reason(self) -> Optional[str]:
        """Why tracking stopped on a size change, else the wrapped tracker's own reason (None when tracking)."""
        return self._stop_reason or self.tracker.lost_reason

    @property
    def stopped(self) -> bool:
        """True while tracking is stopped by a size change (until the next initialize)."""
        return self._stop_reason is not None

    def rescale(self, size: Size) -> None:
        """Rescale the wrapped tracker's state to ``size`` (w, h) in pixels and remember that size."""
        self.tracker.rescale(size)
        self._size = (int(size[0]), int(size[1]))

    def initialize(self, image, box) -> None:
        """Initialize the wrapped tracker on ``image`` (H, W, 3) with ``box`` [x, y, w, h] in image pixels; clears
        any stop."""
        self.tracker.initialize(image, box)
        self._size = (image.shape[1], image.shape[0])
        self._box = check_box(box, image.shape)
        self._stop_reason = None
        self.size_event = None

    def track(self, image) -> TrackResult:
        """Track one frame, applying the policy first when its size differs from the last one; boxes in image pixels."""
        self.size_event = None
        if self._size is not None and self._stop_reason is None:
            image = check_image(image)
            size = (image.shape[1], image.shape[0])
            if size != self._size:
                self.size_changes += 1
                self.size_change = (self._size, size)
                self._stop_reason = self._absorb(size)
                self.size_event = "stopped" if self._stop_reason else "rescaled"
        if self._stop_reason is not None:
            return TrackResult(box=self._box, score=0.0, state=LOST)
        result = self.tracker.track(image)
        self._box = tuple(float(v) for v in result.box)
        return result

    def _absorb(self, size: Size) -> Optional[str]:
        """Rescale to ``size`` under the "rescale" policy when possible (None), else the reason to stop."""
        (w0, h0), (w1, h1) = self._size, size
        stop = f"image size changed from {w0}x{h0} to {w1}x{h1} while tracking"
        if self.policy != "rescale":
            return stop + ": tracking stopped (image_size_change=lost) until the next initialization"
        if not self.can_rescale:
            return stop + (f": {self.model_name} cannot rescale its state (image_size_change=rescale needs "
                           "a model that can), so tracking stopped until the next initialization")
        if abs((w1 / h1) / (w0 / h0) - 1.0) > ASPECT_TOLERANCE:
            return stop + (f": the aspect ratio changed ({w0 / h0:.3f} -> {w1 / h1:.3f}), so the image cannot "
                           "be a rescaled view; tracking stopped until the next initialization")
        self.rescale(size)
        return None
