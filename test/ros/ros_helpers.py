"""Helpers of the ROS tests (domain ids, sequences, processes stopped by PID)."""
import os
from pathlib import Path

import pytest

from fcot_ros.tools.ros.launcher import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
SEQUENCES = REPO.parent / "shared" / "data" / "sequences"
TRACKER_NODE = REPO / "install" / "fcot_ros" / "lib" / "fcot_ros" / "tracker_node"

# ---------------------------------------------------------------------------------------------- env
_DOMAIN_BASE = 10 + (os.getpid() * 7) % 60
_next_domain = [0]


def new_domain_id() -> int:
    """A ROS_DOMAIN_ID for one test (this run's base + a counter; stays in 10..101)."""
    _next_domain[0] += 1
    return 10 + (_DOMAIN_BASE + _next_domain[0]) % 90


def sequence(name: str) -> Path:
    path = SEQUENCES / name
    if not (path / "img").is_dir():
        pytest.fail(f"sequence {path} missing: ../shared/data/sequences must sit beside the repo")
    return path


# ---------------------------------------------------------------------------------------- processes
class Proc(ManagedProcess):
    """A process started by a test in loopback-only DDS (domain ``domain_id``), stopped by PID."""

    def __init__(self, args, domain_id, log_path: Path, cwd: Path):
        from fcot_ros.tools.ros.rosenv import localhost_env
        super().__init__(args, localhost_env(domain_id), log_path, cwd)
