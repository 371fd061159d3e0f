"""The value every tracker's ``track`` returns, and the fixed set of states it may carry."""
from dataclasses import dataclass, field
from typing import Dict, Tuple

TRACKING = "tracking"
UNCERTAIN = "uncertain"
LOST = "lost"
STATES = (TRACKING, UNCERTAIN, LOST)

# stage names a tracker may report in TrackResult.timings that the ROS node and the benchmarks show
# per stage; a tracker that cannot split its step reports {"total": ms} (shown by the benchmarks only)
TRACKER_STAGES = ("crop", "network", "optimizers", "decode")


@dataclass
class TrackResult:
    """Outcome of one tracking step.

    box:     (x, y, w, h) in image pixels, floats; x, y is the top-left corner.
    score:   confidence at the chosen location (unitless; about 1.0 on a well-held target, near 0
             when it is gone; 0.0 when the state is "lost" because tracking was stopped).
    state:   one of STATES: "tracking" | "uncertain" | "lost".
    timings: wall-clock milliseconds of this step by stage (TRACKER_STAGES, or "total" for
             trackers that cannot split their step); may be empty.
    """

    box: Tuple[float, float, float, float]
    score: float
    state: str
    timings: Dict[str, float] = field(default_factory=dict)
