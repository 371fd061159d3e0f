"""The stable public API (used by the node, the CLI and the evaluation): ``build_tracker`` and the
model and backend names. Each name has one home, in fcot_ros.assembly; this module only gathers them.
"""
from fcot_ros.assembly.registry import BACKENDS, MODEL_NAMES
from fcot_ros.assembly.trackers import build_tracker

__all__ = ["BACKENDS", "MODEL_NAMES", "build_tracker"]
