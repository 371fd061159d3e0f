"""The main job without a camera: tracker_node + a replayed clip, track/init, and what the node says.

    python -m fcot_ros.tools.ros.demo [--model fcot_lite] [--frames DIR] [--duration 20] [--video out.mp4]

1. starts tracker_node (its own process, loopback-only DDS, a domain of its own): with
   `ros2 launch fcot_ros tracker.launch.py` when the `ros2` command is there (scripts/setup_env.sh
   builds it from ../shared/ros2_cli), else the installed executable,
2. starts the replay publisher playing the clip as sensor_msgs/Image at --rate (default 30 Hz):
   a generated 640x480 clip with ground truth (fcot_ros.tools.ros.synthetic) or --frames DIR (*.jpg or
   img/*.jpg + groundtruth.txt, e.g. a sequence of ../shared/data/sequences),
3. calls track/init with the first frame's box and stamp: prints the `ros2 service call` line a user
   would type and, when `ros2` is there, runs exactly that line (else the same request from Python),
4. prints what the node publishes: every TrackedTarget (--every N) and a line per second with the
   delivered rate, latency (image stamp -> TrackedTarget arrival) and the node's /diagnostics,
5. optionally writes the node's track/debug_image overlay to a video (--video),
then stops both processes by PID and prints a summary (and the mean IoU when ground truth exists).
"""
import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def service_call_line(service: str, box, stamp_ns: int = 0) -> list:
    """The `ros2 service call` command (argv) of a track/init request for box (x, y, w, h)."""
    x, y, w, h = (max(int(round(v)), 0) for v in box)
    values = f"{{roi: {{x_offset: {x}, y_offset: {y}, width: {w}, height: {h}}}"
    if stamp_ns:
        sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
        values += f", stamp: {{sec: {sec}, nanosec: {nanosec}}}"
    return ["ros2", "service", "call", service, "fcot_ros/srv/InitTrack", values + "}"]


def launch_args(ros2: str, model: str, backend: str, profile: str) -> list:
    """`ros2 launch fcot_ros tracker.launch.py` for the demo: the loopback-only profile, not the
    robot profile that the launch file defaults to."""
    args = [ros2, "launch", "--noninteractive", "fcot_ros", "tracker.launch.py", "image_topic:=/image",
            f"model:={model}", f"fastdds_profile:={profile}"]
    if backend != "auto":
        print(f"[demo] note: the launch file has no backend argument; backend {backend} is ignored")
    return args


def parse_args(argv=None):
    """The demo's command line (see the module's docstring)."""
    ap = argparse.ArgumentParser(description="fcot_ros demo: replayed clip -> tracker_node -> results")
    ap.add_argument("--model", default="fcot_lite", help="tracker model (fcot_lite, opencv_csrt, ...)")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--frames", default="", help="folder of frames; default: a generated 640x480 clip")
    ap.add_argument("--rate", type=float, default=30.0, help="replay rate, Hz")
    ap.add_argument("--duration", type=float, default=40.0, help="seconds of replay (the clip ping-pongs)")
    ap.add_argument("--every", type=int, default=15, help="print every N-th TrackedTarget (0 = none)")
    ap.add_argument("--video", default="", help="write the debug overlay to this .mp4/.avi")
    ap.add_argument("--domain-id", type=int, default=0, help="ROS_DOMAIN_ID (default: from the pid)")
    ap.add_argument("--workdir", default="", help="logs and the generated clip (default: a temp dir)")
    ap.add_argument("--no-cli", action="store_true",
                    help="do not use the ros2 command even when it is there (start the executable, "
                         "call track/init from Python)")
    return ap.parse_args(argv)


class VideoRecorder:
    """Writes the node's track/debug_image overlays to a video file (its first image sets the size)."""

    def __init__(self, path: str, rate: float):
        self.path, self.rate = path, rate
        self.writer, self.frames = None, 0
        self._lock = threading.Lock()

    def subscribe(self, client):
        """Record what ``client`` (an rclpy node) receives on track/debug_image."""
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image
        client.create_subscription(Image, "track/debug_image", self._on_image,
                                   QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))

    def _on_image(self, msg):
        import cv2

        from fcot_ros.ros.image_conversion import image_to_bgr
        img = image_to_bgr(msg)
        with self._lock:
            if self.writer is None:
                fourcc = cv2.VideoWriter_fourcc(*("mp4v" if self.path.endswith(".mp4") else "MJPG"))
                self.writer = cv2.VideoWriter(self.path, fourcc, self.rate, (img.shape[1], img.shape[0]))
            self.writer.write(img)
            self.frames += 1

    def close(self):
        """Finish the video file."""
        with self._lock:
            if self.writer is not None:
                self.writer.release()


def start_node(run, args, env, ros2):
    """tracker_node through `ros2 launch` when ``ros2`` is there, else its executable."""
    from fcot_ros.tools.ros.launcher import node_args
    if ros2:
        command = launch_args(ros2, args.model, args.backend, env["FASTDDS_DEFAULT_PROFILES_FILE"])
        print(f"[demo] $ {' '.join(shlex.quote(c) for c in ['ros2'] + command[1:])}", flush=True)
        run.start_node(command, env, cwd=run.work)
    else:
        run.start_node(node_args({"model": args.model, "backend": args.backend}), env)


def call_init(run, box, stamp_ns, env, ros2):
    """track/init on the first frame: the `ros2 service call` line printed, and run when ``ros2`` is
    there (else the same request from Python). RuntimeError when the node refuses."""
    line = service_call_line("/track/init", box, stamp_ns)
    print("[demo] track/init on the first frame, as a user would type it:\n"
          f"  $ {' '.join(shlex.quote(c) for c in line)}", flush=True)
    if ros2:
        done = subprocess.run([ros2] + line[1:], env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        answer = [ln for ln in done.stdout.splitlines() if "Response(" in ln]
        print(f"  {answer[-1] if answer else done.stdout[-500:] + done.stderr[-500:]}", flush=True)
        if done.returncode != 0 or not answer or "success=True" not in answer[-1]:
            raise RuntimeError("track/init refused")
    else:
        resp = run.client.init(box, stamp_ns=stamp_ns, timeout=300)
        print(f"  (no ros2 command here: the same request from Python) success={resp.success} {resp.message}",
              flush=True)
        if not resp.success:
            raise RuntimeError("track/init refused")


def follow(run, every: int):
    """Print every ``every``-th TrackedTarget and, each second, the node's /diagnostics, until the
    replay has ended and every result has been read."""
    from fcot_ros.tools.ros.client import STATE_NAMES, latency_ms
    client, seen, last_print = run.client, 0, time.monotonic()
    while run.replay.alive() or seen < client.count():
        time.sleep(0.05)
        got = client.targets_since(seen)
        for k, (arrival, m) in enumerate(got, seen):
            if every and k % every == 0:
                print(f"  target stamp={m.header.stamp.sec}.{m.header.stamp.nanosec:09d} "
                      f"box=({m.x:.0f}, {m.y:.0f}, {m.width:.0f}, {m.height:.0f}) "
                      f"conf={m.confidence:.2f} state={STATE_NAMES[m.state]} "
                      f"latency={latency_ms(arrival, m):.0f} ms", flush=True)
        seen += len(got)
        if time.monotonic() - last_print >= 1.0:
            last_print = time.monotonic()
            d = client.diagnostics
            print(f"[diag] state={d.get('state')} in={d.get('image_rate_hz')} Hz "
                  f"out={d.get('tracked_rate_hz')} Hz latency med={d.get('latency_median_ms')} "
                  f"p99={d.get('latency_p99_ms')} ms step={d.get('track_step_median_ms')} ms "
                  f"dropped={d.get('frames_dropped')} refused={d.get('frames_refused')}", flush=True)
        if not run.replay.alive() and time.monotonic() - last_print > 0.5:
            break
    time.sleep(0.5)


def summarise(run, gt, args, video) -> int:
    """Print the summary (published, delivered, latency, mean IoU vs ``gt``); 1 when nothing came back."""
    from fcot_ros.ros.stats import stamp_to_ns
    from fcot_ros.tools.ros.client import STATE_NAMES, latency_ms
    from fcot_ros.tracker.box_geometry import iou
    results = [(a, m) for a, m in run.client.targets_since() if STATE_NAMES[m.state] != "idle"]
    stamps = run.published()
    code = 0
    print("\n[demo] summary")
    print(f"  frames published  {len(stamps)} ({args.rate:g} Hz, {args.duration:g} s)")
    if results:
        lat = [latency_ms(a, m) for a, m in results]
        span = (results[-1][0] - results[0][0]) / 1e9
        print(f"  results           {len(results)} ({(len(results) - 1) / max(span, 1e-9):.1f} Hz delivered)")
        print(f"  latency           median {statistics.median(lat):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms "
              f"(image stamp -> TrackedTarget received)")
        scored = [(m, stamps[stamp_to_ns(m.header.stamp)]) for _, m in results
                  if stamp_to_ns(m.header.stamp) in stamps]
        if scored:
            ious = iou([(m.x, m.y, m.width, m.height) for m, _ in scored], gt[[i for _, i in scored]])
            print(f"  mean IoU vs GT    {np.mean(ious):.3f} over {len(ious)} results")
    else:
        print("  no results")
        code = 1
    d = run.client.diagnostics
    print(f"  node diagnostics  dropped={d.get('frames_dropped')} refused={d.get('frames_refused')} "
          f"backend={d.get('backend')} model={d.get('model')}")
    if video is not None:
        print(f"  video             {video.path} ({video.frames} frames)")
    return code


def main(argv=None):
    """Run the demo; returns the exit code (0, 1 on failure or no results, 130 on Ctrl-C)."""
    args = parse_args(argv)
    from fcot_ros.tools.ros.session import NodeSession, loopback_env, prepare_clip
    domain, env = loopback_env(args.domain_id)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="fcot_demo_"))
    clip, gt = prepare_clip(args.frames, work)
    if gt is None or not np.all(np.isfinite(gt[0])):
        sys.exit(f"{clip}: need groundtruth.txt with the first frame's box to call track/init")
    print(f"[demo] ROS_DOMAIN_ID={domain}, DDS on loopback "
          f"({env['FASTDDS_DEFAULT_PROFILES_FILE']}); logs in {work}", flush=True)
    ros2 = None if args.no_cli else shutil.which("ros2")
    video = VideoRecorder(args.video, args.rate) if args.video else None
    code = 0
    run = NodeSession(work, domain, client_name="fcot_demo")
    try:
        with run:
            start_node(run, args, env, ros2)
            if video is not None:
                video.subscribe(run.client)
            print(f"[demo] starting tracker_node (model={args.model}) ...", flush=True)
            t0 = time.monotonic()
            ready = run.wait_ready(timeout=300.0, ready_timeout=60.0)
            print(f"[demo] node up in {time.monotonic() - t0:.1f} s: {ready or '?'}", flush=True)
            run.start_replay(clip, env, rate=args.rate, duration=args.duration, loop="pingpong")
            call_init(run, gt[0], run.wait_first_frame(timeout=60.0), env, ros2)
            run.go()
            print(f"[demo] playing {clip} at {args.rate:g} Hz for {args.duration:g} s", flush=True)
            follow(run, args.every)
            code = summarise(run, gt, args, video)
    except KeyboardInterrupt:
        code = 130
    except RuntimeError as e:
        print(f"[demo] {e}", file=sys.stderr)
        code = 1
    finally:
        what = "ros2 launch (and tracker_node)" if ros2 else "tracker_node"
        print(f"  {what} stopped with SIGINT, exit code {run.node_exit_code}", flush=True)
        if video is not None:
            video.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
