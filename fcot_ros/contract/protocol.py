"""The tracker contract: what every tracker (FCOT, the OpenCV baselines, the coming DiMP and DSiam
models) offers its callers (the ROS node, the CLI, the evaluation), written once.

Callers rely on these members only; they never probe a tracker with getattr or ask the model
registry what kind of tracker they hold. A tracker states that it implements the contract by
subclassing ``Tracker`` (it then inherits the defaults below); ``isinstance(obj, Tracker)`` also
holds for any object that has every member (runtime_checkable).
"""
from typing import Optional, Protocol, Tuple, runtime_checkable

import numpy as np

from fcot_ros.contract.result import TrackResult

Box = Tuple[float, float, float, float]          # (x, y, w, h) image pixels, top-left corner
Size = Tuple[int, int]                           # (width, height) pixels


@runtime_checkable
class Tracker(Protocol):
    """A single-object tracker.

    initialize(image, box): start on ``box`` in ``image`` (H x W x 3 uint8 BGR); bad input raises a
        fcot_ros.errors.FCOTError subclass and leaves the tracker usable.
    track(image) -> TrackResult: the target in the next frame, of the size given to initialize()
        (a frame of another size: wrap the tracker in contract.size_policy.SizeChangePolicy).
    rescale(size): scale the tracker's state to frames of ``size`` = (w, h) pixels showing the same
        view at another resolution; only when ``can_rescale`` (else NotImplementedError).

    model_name:   the registry's name of the model ("fcot_lite", "opencv_csrt", ...).
    backend_name: what runs it ("onnxruntime", "torch", "tensorrt", "opencv").
    lost_reason:  why the last result is "lost" when the tracker stopped for a known cause (a size
                  change under the "lost" policy), else None; a plain loss of the target has none.
    can_rescale:  ``rescale`` works (the size policy "rescale" needs it; else that policy stops).
    uses_torch_threads: the tracking step runs torch intra-op work on the caller's thread, so a
                  caller's torch thread count (the node's ``torch_threads``) applies to it.
    """

    model_name: str
    backend_name: str
    lost_reason: Optional[str] = None
    can_rescale: bool = False
    uses_torch_threads: bool = False

    def initialize(self, image: np.ndarray, box: Box) -> None:
        """Start tracking ``box`` [x, y, w, h] (image pixels) in ``image`` (H, W, 3) uint8 BGR."""
        ...

    def track(self, image: np.ndarray) -> TrackResult:
        """The target in the next frame (same size as the init image); box in image pixels."""
        ...

    def rescale(self, size: Size) -> None:
        """Scale the state to frames of ``size`` (w, h) pixels; by default NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot rescale its state to another image size")
