"""The tracker contract, shared by every tracker and its callers (ground floor: imports nothing of
fcot_ros but errors): the result type and its states (result.py), the Tracker protocol (protocol.py),
the input checks (validation.py) and the image-size-change policy around any tracker (size_policy.py).
"""
from fcot_ros.contract.protocol import Box, Size, Tracker
from fcot_ros.contract.result import LOST, STATES, TRACKER_STAGES, TRACKING, UNCERTAIN, TrackResult

__all__ = ["Box", "LOST", "STATES", "Size", "TRACKER_STAGES", "TRACKING", "Tracker", "TrackResult", "UNCERTAIN"]
