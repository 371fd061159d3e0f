"""fcot_ros: FCOT single-object tracking (core library + ROS 2 face).

from fcot_ros import build_tracker
tracker = build_tracker(model="fcot_lite", backend="auto")
tracker.initialize(image_bgr, (x, y, w, h))
result = tracker.track(next_image_bgr)   # result.box, result.score, result.state
"""
__version__ = "0.1.0"


def __getattr__(name):
    """``build_tracker`` (fcot_ros.assembly.trackers) and ``TrackResult``, imported on first use so
    that ``import fcot_ros`` stays light (no torch)."""
    if name == "build_tracker":
        from fcot_ros.assembly.trackers import build_tracker
        return build_tracker
    if name == "TrackResult":
        from fcot_ros.contract import TrackResult
        return TrackResult
    raise AttributeError(name)
