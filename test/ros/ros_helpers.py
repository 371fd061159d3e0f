"""Helpers of the ROS tests (domain ids, sequences, processes stopped by PID)."""
import os
import time
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


# ------------------------------------------------------------------------------------ node tests
STARTUP_S = 120.0   # node start-up: imports, model build, warm-up (slow on a busy 2-core machine)


def read_stamp_log(path):
    """stamp_ns -> frame index, in publication order."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            s, i = line.split(",")
            out[int(s)] = int(i)
    return out


def wait_for(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def init_on_first_frame(client, node, stamps_file, box):
    """track/init with the replay's first stamp as soon as the node holds a frame; returns the stamp.
    The replay must run with --wait-file (frame 1 re-sent until the file exists): a frame sent
    before DDS discovery matched the node's subscription is lost."""
    assert wait_for(lambda: stamps_file.exists() and read_stamp_log(stamps_file), 60), "replay did not start"
    first_stamp = next(iter(read_stamp_log(stamps_file)))
    assert wait_for(lambda: int(client.diagnostics.get("frames_received", 0)) > 0, 30), node.log()
    resp = client.init(box, stamp_ns=first_stamp, timeout=STARTUP_S)
    assert resp.success, resp.message
    assert f"{first_stamp // 10**9}.{first_stamp % 10**9:09d}" in resp.message
    return first_stamp


def start_node(procs, client_factory, model, name="node", client_kw=None, **params):
    domain = new_domain_id()
    node = procs.node(domain, name=name, model=model, **params)
    client = client_factory(domain, **(client_kw or {}))
    assert client.wait_for_service(STARTUP_S), f"tracker_node did not come up:\n{node.log()}"
    assert node.wait_log("ready:", STARTUP_S), node.log()
    return domain, node, client


def image_msg(img, encoding="bgr8", stamp_ns=None, frame_id="camera"):
    """sensor_msgs/Image of ``img`` (H x W x 3 uint8) with ``stamp_ns`` (None: the wall clock now)."""
    from sensor_msgs.msg import Image

    from fcot_ros.ros.image_conversion import fill_image
    msg = Image()
    msg.header.frame_id = frame_id
    if stamp_ns is None:
        stamp_ns = time.time_ns()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return fill_image(msg, img, encoding)


class Feeder:
    """Publishes frames of a sequence from the test process, one call = one frame."""

    def __init__(self, client, seq, n=60):
        import cv2
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        from fcot_ros.tools.ros.replay import list_frames
        self.pub = client.create_publisher(Image, "image", QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
        self.frames = [cv2.imread(str(f)) for f in list_frames(seq)[:n]]
        self.k = 0
        assert wait_for(lambda: self.pub.get_subscription_count() > 0, 20), "the node does not subscribe"

    def send(self, stamp_ns, image=None, pause=1 / 30):
        if image is None:
            image = self.frames[self.k % len(self.frames)]
            self.k += 1
        msg = image_msg(image, stamp_ns=stamp_ns)
        self.pub.publish(msg)
        time.sleep(pause)
        return msg

    def stream_until(self, cond, stamps, timeout=STARTUP_S):
        """Send frames with the stamps from iterator ``stamps`` until cond() holds (or time is up)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            self.send(next(stamps))
        return cond()
