"""The value returned by every tracker's ``track`` call."""
from dataclasses import dataclass, field
from typing import Dict, Tuple

TRACKING = "tracking"
UNCERTAIN = "uncertain"
LOST = "lost"
STATES = (TRACKING, UNCERTAIN, LOST)


@dataclass
class TrackResult:
    """Outcome of one tracking step.

    box:     (x, y, w, h) in image pixels, floats; x, y is the top-left corner.
    score:   confidence of the target model at the chosen peak (unitless; about 1.0
             on a well-held target, near 0 when it is gone).
    state:   "tracking" | "uncertain" | "lost".
    timings: wall-clock milliseconds of this step by stage
             ("crop", "network", "optimizers", "decode"); empty for trackers that
             cannot split their step.
    """

    box: Tuple[float, float, float, float]
    score: float
    state: str
    timings: Dict[str, float] = field(default_factory=dict)
