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
import os
import re
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


ANSI = re.compile(r"\x1b\[[0-9;]*m")     # colour codes in `ros2 launch` output


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


def main(argv=None):
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
    args = ap.parse_args(argv)

    from fcot_ros.tools.ros.rosenv import check_safe_env, localhost_env, use_localhost_env
    domain = args.domain_id or 10 + os.getpid() % 90
    use_localhost_env(domain)
    check_safe_env()
    env = localhost_env(domain)

    import cv2
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from fcot_ros.evaluation.boxes import iou
    from fcot_ros.tools.ros.client import STATE_NAMES, TrackClient, latency_ms
    from fcot_ros.ros.image_conversion import image_to_bgr
    from fcot_ros.tools.ros.launcher import ManagedProcess, node_args, replay_args
    from fcot_ros.tools.ros.replay import read_groundtruth
    from fcot_ros.ros.stats import stamp_to_ns
    from fcot_ros.tools.ros.synthetic import write_clip

    work = Path(args.workdir or tempfile.mkdtemp(prefix="fcot_demo_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.frames:
        clip = Path(args.frames)
    else:
        clip = work / "clip"
        if not (clip / "groundtruth.txt").is_file():
            print(f"generating a 640x480 clip in {clip} ...", flush=True)
            write_clip(clip, n_frames=300)
    gt = read_groundtruth(clip)
    if gt is None or not np.all(np.isfinite(gt[0])):
        sys.exit(f"{clip}: need groundtruth.txt with the first frame's box to call track/init")

    print(f"[demo] ROS_DOMAIN_ID={domain}, DDS on loopback "
          f"({env['FASTDDS_DEFAULT_PROFILES_FILE']}); logs in {work}", flush=True)
    stamps_file, go = work / "stamps.csv", work / "go"
    go.unlink(missing_ok=True)
    stamps_file.unlink(missing_ok=True)     # left by an earlier run in the same folder
    ros2 = None if args.no_cli else shutil.which("ros2")
    if ros2:
        command = launch_args(ros2, args.model, args.backend, env["FASTDDS_DEFAULT_PROFILES_FILE"])
        print(f"[demo] $ {' '.join(shlex.quote(c) for c in ['ros2'] + command[1:])}", flush=True)
        node = ManagedProcess(command, env, work / "node.log", cwd=work)
    else:
        node = ManagedProcess(node_args({"model": args.model, "backend": args.backend}), env, work / "node.log")
    replay = None
    rclpy.init(domain_id=domain)
    client = TrackClient(name="fcot_demo")
    writer = [None]
    frames_written = [0]
    video_lock = threading.Lock()

    def on_debug(msg):
        img = image_to_bgr(msg)
        with video_lock:
            if writer[0] is None:
                fourcc = cv2.VideoWriter_fourcc(*("mp4v" if args.video.endswith(".mp4") else "MJPG"))
                writer[0] = cv2.VideoWriter(args.video, fourcc, args.rate, (img.shape[1], img.shape[0]))
            writer[0].write(img)
            frames_written[0] += 1

    if args.video:
        client.create_subscription(Image, "track/debug_image", on_debug,
                                   QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
    code = 0
    try:
        print(f"[demo] starting tracker_node (model={args.model}) ...", flush=True)
        t0 = time.monotonic()
        while not client.wait_for_service(1.0):
            if not node.alive():
                raise RuntimeError(f"tracker_node exited:\n{node.log()[-3000:]}")
            if time.monotonic() - t0 > 300:
                raise RuntimeError("tracker_node did not come up in 300 s")
        node.wait_log("ready:", 60)
        ready = [ANSI.sub("", l) for l in node.log().splitlines() if "ready:" in l]
        print(f"[demo] node up in {time.monotonic() - t0:.1f} s: {ready[-1].split('ready: ')[-1] if ready else '?'}",
              flush=True)

        replay = ManagedProcess(replay_args(clip, rate=args.rate, duration=args.duration, loop="pingpong",
                                            stamp_log=stamps_file, wait_file=go), env, work / "replay.log")
        while not (stamps_file.exists() and stamps_file.read_text().strip()):
            if not replay.alive():
                raise RuntimeError(f"replay exited:\n{replay.log()}")
            time.sleep(0.1)
        first_stamp = int(stamps_file.read_text().split(",")[0])
        t_wait = time.monotonic()
        while int(client.diagnostics.get("frames_received", 0)) == 0:
            if time.monotonic() - t_wait > 60:
                raise RuntimeError(f"the node received no image in 60 s:\n{node.log()[-2000:]}")
            time.sleep(0.1)
        line = service_call_line("/track/init", gt[0], first_stamp)
        print("[demo] track/init on the first frame, as a user would type it:\n"
              f"  $ {' '.join(shlex.quote(c) for c in line)}", flush=True)
        if ros2:
            done = subprocess.run([ros2] + line[1:], env=env, capture_output=True, text=True, timeout=300,
                                  stdin=subprocess.DEVNULL)
            answer = [l for l in done.stdout.splitlines() if "Response(" in l]
            print(f"  {answer[-1] if answer else done.stdout[-500:] + done.stderr[-500:]}", flush=True)
            if done.returncode != 0 or not answer or "success=True" not in answer[-1]:
                raise RuntimeError("track/init refused")
        else:
            resp = client.init(gt[0], stamp_ns=first_stamp, timeout=300)
            print(f"  (no ros2 command here: the same request from Python) success={resp.success} {resp.message}",
                  flush=True)
            if not resp.success:
                raise RuntimeError("track/init refused")
        go.touch()
        print(f"[demo] playing {clip} at {args.rate:g} Hz for {args.duration:g} s", flush=True)

        seen, last_print = 0, time.monotonic()
        while replay.alive() or seen < client.count():
            time.sleep(0.05)
            got = client.targets_since(seen)
            for k, (arrival, m) in enumerate(got, seen):
                if args.every and k % args.every == 0:
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
            if not replay.alive() and time.monotonic() - last_print > 0.5:
                break
        time.sleep(0.5)

        results = [(a, m) for a, m in client.targets_since() if STATE_NAMES[m.state] != "idle"]
        stamps = {}
        for line in stamps_file.read_text().splitlines():
            s, i = line.split(",")
            stamps[int(s)] = int(i)
        lat = [latency_ms(a, m) for a, m in results]
        print("\n[demo] summary")
        print(f"  frames published  {len(stamps)} ({args.rate:g} Hz, {args.duration:g} s)")
        if results:
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
        d = client.diagnostics
        print(f"  node diagnostics  dropped={d.get('frames_dropped')} refused={d.get('frames_refused')} "
              f"backend={d.get('backend')} model={d.get('model')}")
        if args.video:
            print(f"  video             {args.video} ({frames_written[0]} frames)")
    except KeyboardInterrupt:
        code = 130
    except RuntimeError as e:
        print(f"[demo] {e}", file=sys.stderr)
        code = 1
    finally:
        if replay is not None:
            replay.stop()
        rc = node.stop()
        what = "ros2 launch (and tracker_node)" if ros2 else "tracker_node"
        print(f"  {what} stopped with SIGINT, exit code {rc}", flush=True)
        client.close()
        rclpy.try_shutdown()
        with video_lock:
            if writer[0] is not None:
                writer[0].release()
    return code


if __name__ == "__main__":
    sys.exit(main())
