"""The follow demo's virtual pan-tilt camera, as a ROS node (fcot_ros.tools.ros.follow_scene does the
geometry): it publishes the view as a camera driver does (``pantilt/image`` + ``pantilt/camera_info``,
same header), turns at the rates it is sent on ``gimbal/rate_cmd`` (geometry_msgs/Vector3Stamped:
x = pan rate, y = tilt rate, rad/s), plays the operator once (track/init with the target's true box
on the first frame), and scores the run against the ground truth: the share of frames whose target
centre lies within the central 20% of the view, beside a camera held still.

    python -m fcot_ros.tools.ros.follow_camera [--frames SEQUENCE_DIR] [--duration 20] [--out out/follow]

Writes to --out: follow.csv (per frame: time, pan, tilt, centre error dx, dy, in centre, head at a
limit, tracked box),
follow.png (the errors over time, with the central zone, beside the still camera's), follow.mp4
(the view, annotated: central zone, true box green, tracked box yellow) and report.json; prints the
summary line. Without --frames: ../shared/data/sequences/uav_boat1 when it is there, else the
generated clip (fcot_ros.tools.ros.synthetic). Exits 0 after --duration s of playing, 1 when the
tracker never accepted the init.
"""
import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

from fcot_ros.tools.ros.follow_scene import CENTRAL_SHARE, FollowScene, static_share
from fcot_ros.tools.ros.replay import frame_order

DEFAULT_SEQUENCE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sequences" / "uav_boat1"


def load_world(frames_dir, max_frames: int):
    """(frames, boxes, name): a sequence folder (img/*.jpg + groundtruth.txt) read lazily, or the
    generated clip when ``frames_dir`` is None and the default sequence is missing."""
    import cv2

    from fcot_ros.tools.ros.replay import list_frames, read_groundtruth
    folder = Path(frames_dir) if frames_dir else DEFAULT_SEQUENCE
    if frames_dir or folder.is_dir():
        files = list_frames(folder)[:max_frames or None]
        boxes = read_groundtruth(folder)[:len(files)]
        images = [cv2.imread(str(f)) for f in files]          # decoded up front: the timer keeps time
        return images, boxes, folder.name
    from fcot_ros.tools.ros.synthetic import make_clip
    images, boxes = make_clip(max_frames or 300, size=(640, 480))
    return images, boxes, "generated clip"


def parse_args(argv=None):
    """The camera node's command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", default="", help="sequence folder (img/ + groundtruth.txt)")
    ap.add_argument("--max-frames", type=int, default=0)
    ap.add_argument("--rate", type=float, default=30.0, help="frames per second")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of play after the init")
    ap.add_argument("--view", default="480x360", help="view size WxH")
    ap.add_argument("--zoom", type=float, default=2.0, help="world pixels per frame pixel")
    ap.add_argument("--focal", type=float, default=500.0, help="the view's focal length, pixels")
    ap.add_argument("--offset", default="60,-40", help="initial pointing error dx,dy (view pixels)")
    ap.add_argument("--out", default="out/follow")
    ap.add_argument("--init-timeout", type=float, default=120.0)
    return ap.parse_args(argv)


class FollowCamera:
    """The camera node's work: publish frames at --rate, turn by the latest rate command, record."""

    def __init__(self, node, scene: FollowScene, args):
        from geometry_msgs.msg import Vector3Stamped
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, Image

        from fcot_ros.msg import TrackedTarget
        from fcot_ros.srv import InitTrack
        self.node, self.scene, self.args = node, scene, args
        qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.image_pub = node.create_publisher(Image, "pantilt/image", qos)
        self.info_pub = node.create_publisher(CameraInfo, "pantilt/camera_info", qos)
        self.info = CameraInfo(width=scene.view_size[0], height=scene.view_size[1], distortion_model="plumb_bob",
                               d=[0.0] * 5, k=list(scene.camera_matrix()),
                               r=[1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0])
        k = scene.camera_matrix()
        self.info.p = [*k[:3], 0.0, *k[3:6], 0.0, *k[6:9], 0.0]
        self.rates = (0.0, 0.0)
        self.tracked = {}                  # stamp ns -> (x, y, w, h) of TrackedTarget while held
        self._lock = threading.Lock()
        node.create_subscription(Vector3Stamped, "gimbal/rate_cmd", self._on_rate, 10)
        node.create_subscription(TrackedTarget, "track/target", self._on_target, 50)
        self.init_client = node.create_client(InitTrack, "track/init")
        self.rows = []

    def _on_rate(self, msg):
        with self._lock:
            self.rates = (msg.vector.x, msg.vector.y)

    def _on_target(self, msg):
        from fcot_ros.ros.outputs import HELD
        from fcot_ros.ros.stats import stamp_to_ns
        if msg.state in HELD:
            with self._lock:
                self.tracked[stamp_to_ns(msg.header.stamp)] = (msg.x, msg.y, msg.width, msg.height)

    def publish(self, k: int):
        """Publish the view of frame k with CameraInfo of the same header; returns (stamp ns, image)."""
        from sensor_msgs.msg import Image

        from fcot_ros.ros.image_conversion import fill_image
        image = self.scene.render(k)
        stamp_ns = self.node.get_clock().now().nanoseconds
        msg = Image()
        msg.header.frame_id = "pantilt_optical"
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        fill_image(msg, image, "bgr8")
        self.info.header = msg.header
        self.info_pub.publish(self.info)
        self.image_pub.publish(msg)
        return stamp_ns, image

    def init_tracker(self, stamp_ns: int, k: int) -> str:
        """track/init with the true box of frame k (view pixels) on the image of ``stamp_ns``; returns
        "" or why it failed."""
        from fcot_ros.srv import InitTrack
        if not self.init_client.wait_for_service(timeout_sec=2.0):
            return "track/init not available yet"
        req = InitTrack.Request()
        x, y, w, h = (int(round(v)) for v in self.scene.target_box(k))
        req.roi.x_offset, req.roi.y_offset, req.roi.width, req.roi.height = max(x, 0), max(y, 0), w, h
        req.stamp.sec, req.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        done = threading.Event()
        fut = self.init_client.call_async(req)
        fut.add_done_callback(lambda _f: done.set())
        if not done.wait(self.args.init_timeout):
            return "no answer from track/init"
        resp = fut.result()
        return "" if resp.success else resp.message


def run(node, scene, args, out: Path) -> dict:
    """Init the tracker on frame 0, then play for --duration s; returns the report."""
    import cv2
    cam = FollowCamera(node, scene, args)
    dx0, dy0 = (float(v) for v in args.offset.split(","))
    cx, cy = scene.target_centre_world(0)
    scene.point_at((cx - dx0, cy - dy0))          # the head starts off the target
    start_pan, start_tilt = scene.pan, scene.tilt
    end = time.monotonic() + args.init_timeout
    why = "no subscriber"
    while time.monotonic() < end:
        stamp, _ = cam.publish(0)
        time.sleep(0.2)
        why = cam.init_tracker(stamp, 0)
        if not why:
            break
        time.sleep(0.5)
    if why:
        raise RuntimeError(f"the tracker did not accept the init: {why}")
    period = 1.0 / args.rate
    writer = cv2.VideoWriter(str(out / "follow.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), args.rate, scene.view_size)
    order = frame_order(len(scene), "pingpong")
    played = []
    t0 = last = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - t0 < args.duration:
            due = t0 + sent * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            now = time.monotonic()
            with cam._lock:
                rates = cam.rates
            scene.turn(rates[0], rates[1], now - last)
            last = now
            k = next(order)
            stamp, image = cam.publish(k)
            sent += 1
            dx, dy = scene.centre_error(k)
            with cam._lock:
                tracked = cam.tracked.get(max(cam.tracked)) if cam.tracked else None
            played.append(k)
            cam.rows.append((now - t0, k, scene.pan, scene.tilt, dx, dy, int(scene.in_centre(k)),
                             int(scene.at_limit()), *(tracked if tracked is not None else (np.nan,) * 4)))
            writer.write(scene.annotate(image, k, tracked, f"t={now - t0:4.1f}s frame {k}"))
    finally:
        writer.release()
    scene.pan, scene.tilt = start_pan, start_tilt
    still = static_share(scene, played)
    rows = np.array(cam.rows, dtype=np.float64)
    share = float(rows[:, 6].mean()) if len(rows) else 0.0
    err = np.hypot(rows[:, 4], rows[:, 5])
    report = {"frames": int(len(rows)), "seconds": float(rows[-1, 0]) if len(rows) else 0.0,
              "share_in_centre": share, "share_in_centre_still_camera": still,
              "centre_error_px_median": float(np.median(err)), "centre_error_px_p90": float(np.percentile(err, 90)),
              "share_head_at_limit": float(rows[:, 7].mean()) if len(rows) else 0.0,
              "central_zone": f"{CENTRAL_SHARE:.0%} of width and height"}
    np.savetxt(out / "follow.csv", rows, delimiter=",", fmt="%.4f",
               header="t_s,frame,pan_rad,tilt_rad,dx_px,dy_px,in_centre,at_limit,trk_x,trk_y,trk_w,trk_h")
    _plot(rows, scene, played, out / "follow.png", share, still)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _plot(rows, scene, played, path, share, still):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    still_err = np.array([scene.centre_error(k) for k in played])
    vw, vh = scene.view_size
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, col, half, name in ((axes[0], 4, CENTRAL_SHARE / 2 * vw, "dx"), (axes[1], 5, CENTRAL_SHARE / 2 * vh, "dy")):
        ax.plot(rows[:, 0], still_err[:, col - 4], color="0.6", label=f"still camera ({still:.0%} in centre)")
        ax.plot(rows[:, 0], rows[:, col], color="C0", label=f"following ({share:.0%} in centre)")
        ax.axhspan(-half, half, color="C2", alpha=0.15, label="central 20%")
        ax.set_ylabel(f"target {name} (px)")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].set_xlabel("time (s)")
    fig.suptitle("follow demo: target centre relative to the view centre")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    """The camera node: play, score, write the outputs; 0 when done, 1 when the tracker never started."""
    if argv is None:                 # launch_ros appends --ros-args ...: argparse must not see them
        from rclpy.utilities import remove_ros_args
        argv = remove_ros_args(sys.argv)[1:]
    args = parse_args(argv)
    from fcot_ros.tools.ros.rosenv import check_safe_env
    check_safe_env()
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    frames, boxes, name = load_world(args.frames or None, args.max_frames)
    vw, vh = (int(v) for v in args.view.lower().split("x"))
    scene = FollowScene(frames, boxes, view_size=(vw, vh), zoom=args.zoom, focal=args.focal)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rclpy.init(args=sys.argv)
    node = rclpy.create_node("follow_camera")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    code = 0
    try:
        report = run(node, scene, args, out)
        print(f"follow demo ({name}, {report['frames']} frames, {report['seconds']:.1f} s): target centre within "
              f"the central 20% in {report['share_in_centre']:.0%} of frames (camera held still: "
              f"{report['share_in_centre_still_camera']:.0%}); centre error median "
              f"{report['centre_error_px_median']:.0f} px, p90 {report['centre_error_px_p90']:.0f} px; head at a "
              f"limit in {report['share_head_at_limit']:.0%}; "
              f"wrote {out / 'follow.png'}, {out / 'follow.mp4'}, {out / 'follow.csv'}", flush=True)
    except RuntimeError as e:
        print(f"follow demo: {e}", file=sys.stderr, flush=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=5.0)         # no C++ thread may outlive the node (std::terminate at exit)
        node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
