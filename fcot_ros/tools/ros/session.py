"""One run of tracker_node fed by the replay publisher and read by a client in this process: the
set-up and teardown that the demo and the node load test share.

    domain, env = loopback_env(args.domain_id)
    clip, gt = prepare_clip(args.frames, work)
    with NodeSession(work, domain, client_name="fcot_demo") as run:
        run.start_node(node_args({...}), env)        # work/node.log
        run.wait_ready()                             # track/init is served, "ready:" logged
        run.start_replay(clip, env, rate=30.0)       # work/replay.log, work/stamps.csv
        first_stamp = run.wait_first_frame()         # stamp (ns) of the frame held for track/init
        run.client.init(gt[0], stamp_ns=first_stamp)
        run.go()                                     # the replay plays on
    # here the replay and the node are stopped by PID (SIGINT, then SIGKILL), also after an
    # exception, the client is closed and rclpy shut down; run.node_exit_code holds the node's code

Every process keeps DDS on loopback in a domain of its own (fcot_ros.tools.ros.rosenv).
"""
import os
import re
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")     # colour codes in `ros2 launch` output


def loopback_env(domain_id: int = 0, profile=None):
    """Restrict this process's DDS to loopback in ``domain_id`` (0: one picked from the process id) and
    return ``(domain_id, env)``, env being the environment for the processes it starts. ``profile``:
    a Fast DDS profile file to use instead of the shipped loopback one (it must whitelist 127.0.0.1).
    Raises RuntimeError when the result would not be loopback-only."""
    from fcot_ros.tools.ros.rosenv import check_safe_env, localhost_env, use_localhost_env
    domain = domain_id or 10 + os.getpid() % 90
    use_localhost_env(domain)
    env = localhost_env(domain)
    if profile:
        os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)
    check_safe_env()
    return domain, env


def prepare_clip(frames: str, work: Path, size=(640, 480)):
    """The clip to replay and its ground truth: the folder ``frames`` when given, else a generated clip
    of 300 frames of ``size`` (w, h) pixels in work/clip (kept for the next run). Returns
    ``(folder, boxes)``, boxes an (N, 4) float array of x, y, w, h pixels or None without
    groundtruth.txt."""
    from fcot_ros.tools.ros.replay import read_groundtruth
    from fcot_ros.tools.ros.synthetic import write_clip
    clip = Path(frames) if frames else Path(work) / "clip"
    if not frames and not (clip / "groundtruth.txt").is_file():
        print(f"generating a {size[0]}x{size[1]} clip in {clip} ...", flush=True)
        write_clip(clip, n_frames=300, size=tuple(size))
    return clip, read_groundtruth(clip)


class NodeSession:
    """tracker_node and the replay publisher as child processes, a TrackClient (``client``) in this
    process; a context manager whose exit stops them all (see the module's example)."""

    def __init__(self, work, domain: int, client_name: str, debug_images: bool = False):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.domain = domain
        self.client_name = client_name
        self.debug_images = debug_images
        self.stamps_file = self.work / "stamps.csv"     # stamp_ns,frame_index per published frame
        self.go_file = self.work / "go"                 # the replay plays on once it exists
        self.node = self.replay = self.client = None
        self.node_exit_code = None

    def __enter__(self):
        import rclpy

        from fcot_ros.tools.ros.client import TrackClient
        for left in (self.go_file, self.stamps_file):   # left by an earlier run in the same folder
            left.unlink(missing_ok=True)
        rclpy.init(domain_id=self.domain)
        self.client = TrackClient(name=self.client_name, debug_images=self.debug_images)
        return self

    def __exit__(self, *exc):
        import rclpy
        try:
            if self.replay is not None:
                self.replay.stop()
            if self.node is not None:
                self.node_exit_code = self.node.stop()
        finally:
            self.client.close()
            rclpy.try_shutdown()
        return False

    def start_node(self, command, env: dict, cwd=None):
        """Start tracker_node (or `ros2 launch`) with ``command`` (argv); output in work/node.log."""
        from fcot_ros.tools.ros.launcher import ManagedProcess
        self.node = ManagedProcess(command, env, self.work / "node.log", cwd=cwd)
        return self.node

    def wait_ready(self, timeout: float = 300.0, ready_timeout: float = 60.0):
        """Wait until the node serves track/init (RuntimeError when it exits first or after ``timeout``
        s), then up to ``ready_timeout`` s for its "ready:" log line. Returns what follows "ready: "
        on that line, or None when it has not come."""
        t0 = time.monotonic()
        while not self.client.wait_for_service(1.0):
            if not self.node.alive():
                raise RuntimeError(f"tracker_node exited:\n{self.node.log()[-3000:]}")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"tracker_node did not come up in {timeout:g} s:\n{self.node.log()[-3000:]}")
        if not self.node.wait_log("ready:", ready_timeout):
            return None
        ready = [ANSI.sub("", line) for line in self.node.log().splitlines() if "ready:" in line]
        return ready[-1].split("ready: ")[-1] if ready else None

    def start_replay(self, clip, env: dict, **options):
        """Start the replay publisher on ``clip`` holding its first frame until go(); ``options`` are
        its command-line options (launcher.replay_args). Output in work/replay.log."""
        from fcot_ros.tools.ros.launcher import ManagedProcess, replay_args
        command = replay_args(clip, stamp_log=self.stamps_file, wait_file=self.go_file, **options)
        self.replay = ManagedProcess(command, env, self.work / "replay.log")
        return self.replay

    def wait_first_frame(self, timeout: float = 60.0) -> int:
        """Wait until the replay has published its first frame and the node has received an image
        (RuntimeError when the replay exits first or the node receives nothing in ``timeout`` s).
        Returns the first frame's header stamp, ns."""
        while not (self.stamps_file.exists() and self.stamps_file.read_text().strip()):
            if not self.replay.alive():
                raise RuntimeError(f"replay exited:\n{self.replay.log()}")
            time.sleep(0.1)
        first_stamp = int(self.stamps_file.read_text().split(",")[0])
        t_wait = time.monotonic()
        while int(self.client.diagnostics.get("frames_received", 0)) == 0:
            if time.monotonic() - t_wait > timeout:
                raise RuntimeError(f"the node received no image in {timeout:g} s:\n{self.node.log()[-2000:]}")
            time.sleep(0.1)
        return first_stamp

    def go(self):
        """Let the replay play on past its first frame."""
        self.go_file.touch()

    def published(self) -> dict:
        """Frames the replay has published so far: header stamp (ns) -> frame index."""
        stamps = {}
        for line in self.stamps_file.read_text().splitlines():
            stamp, index = line.split(",")
            stamps[int(stamp)] = int(index)
        return stamps
