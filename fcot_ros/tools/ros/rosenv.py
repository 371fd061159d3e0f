"""Environment for ROS processes started by fcot_ros's own tools, tests and scripts.

Network safety: every such process keeps DDS on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
and a Fast DDS profile whitelisting 127.0.0.1, with a 16 MiB shared-memory segment), in a domain of its
own. Set these before rclpy.init() (the RMW reads them when the context starts).
"""
import os
from pathlib import Path

PROFILE_NAME = "fastdds_localhost.xml"


def config_dir() -> Path:
    """config/ of the installed package (share/fcot_ros/config), else of the source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory
        d = Path(get_package_share_directory("fcot_ros")) / "config"
        if (d / PROFILE_NAME).is_file():
            return d
    except Exception:  # not installed with colcon / ament index not on the path
        pass
    return Path(__file__).resolve().parents[2] / "config"


def localhost_env(domain_id: int, base=None) -> dict:
    """A copy of ``base`` (default os.environ) set up for loopback-only DDS in ``domain_id``."""
    if not 0 <= int(domain_id) <= 101:
        raise ValueError(f"ROS_DOMAIN_ID {domain_id} outside 0..101")
    env = dict(os.environ if base is None else base)
    profile = str(config_dir() / PROFILE_NAME)
    env.update({
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_LOCALHOST_ONLY": "1",  # ignored by Kilted, honoured by older distributions
        "ROS_DOMAIN_ID": str(int(domain_id)),
        "FASTDDS_DEFAULT_PROFILES_FILE": profile,
        "RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("ROS_STATIC_PEERS", None)
    # Kilted reads FASTDDS_...; the old FASTRTPS_ name only earns a deprecation warning there
    env.pop("FASTRTPS_DEFAULT_PROFILES_FILE", None)
    return env


def use_localhost_env(domain_id=None):
    """Apply localhost_env to this process (before rclpy.init). domain_id None keeps ROS_DOMAIN_ID
    when set, else picks one from the process id."""
    if domain_id is None:
        domain_id = int(os.environ.get("ROS_DOMAIN_ID", 0)) or 10 + os.getpid() % 90
    os.environ.update(localhost_env(domain_id))


def check_safe_env():
    """Raise RuntimeError unless this process's DDS is restricted to loopback."""
    problems = []
    if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") != "LOCALHOST":
        problems.append("ROS_AUTOMATIC_DISCOVERY_RANGE is not LOCALHOST")
    prof = os.environ.get("FASTDDS_DEFAULT_PROFILES_FILE", "")
    if not prof or not Path(prof).is_file() or "127.0.0.1" not in Path(prof).read_text():
        problems.append("FASTDDS_DEFAULT_PROFILES_FILE does not name a profile whitelisting 127.0.0.1")
    if not os.environ.get("ROS_DOMAIN_ID"):
        problems.append("ROS_DOMAIN_ID is not set")
    if problems:
        raise RuntimeError("unsafe ROS environment: " + "; ".join(problems))
