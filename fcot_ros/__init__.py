"""fcot_ros: FCOT single-object tracking (core library + ROS 2 face).

    from fcot_ros import build_tracker
    tracker = build_tracker(model="fcot_lite", backend="auto")
    tracker.initialize(image_bgr, (x, y, w, h))
    result = tracker.track(next_image_bgr)   # result.box, result.score, result.state
"""
__version__ = "0.1.0"


def build_tracker(*args, **kwargs):
    """See fcot_ros.api.build_tracker (imported lazily so ``import fcot_ros`` stays light)."""
    from fcot_ros.api import build_tracker as _build
    return _build(*args, **kwargs)


def __getattr__(name):
    if name == "TrackResult":
        from fcot_ros.tracker.result import TrackResult
        return TrackResult
    raise AttributeError(name)
