"""Replay publisher: plays a folder of JPEG frames as sensor_msgs/Image at a fixed rate, like a camera.

    python -m fcot_ros.tools.ros.replay --frames DIR [--rate 30] [--duration 10] [--loop pingpong]
                                  [--size 640x480] [--topic image] [--stamp-log stamps.csv]

DIR holds *.jpg (or img/*.jpg, as the benchmark sequences do). Frames are decoded once up front
(at most --max-frames) so that publishing keeps time. Every message is stamped with the wall clock at
publication; --stamp-log writes "stamp_ns,frame_index" per published frame so that results can be
matched to frames (and to ground truth) afterwards. ``--loop pingpong`` plays forward then backward so
that motion stays continuous over a long run.

``--stamps`` says what the header stamps are, to play cameras and recordings that robots really have:
  wall  (default) the wall clock at publication, like a live camera driver;
  zero  every stamp 0, like a driver that sets no time;
  bag   a recorded timeline: BAG_START + k / rate for the k-th frame of the frame list, restarting at
        every loop, like `ros2 bag play --loop` (the stamps jump back at each wrap).
Stamps of 0 are logged as 0 in --stamp-log, so use --stamps wall where frames must be told apart.

``--camera-info CALIBRATION.yaml`` (ROS calibration format, fcot_ros.tools.ros.calibration) publishes
sensor_msgs/CameraInfo with each frame's header on the image topic's sibling (``image`` ->
``camera_info``, or --camera-info-topic), as a camera driver does.

Keeps DDS on loopback (fcot_ros.tools.ros.rosenv) unless --allow-network is given.
"""
import argparse
import sys
import time
from pathlib import Path

import cv2

STAMP_MODES = ("wall", "zero", "bag")
BAG_START_NS = 1_600_000_000 * 1_000_000_000      # the "recording" time of --stamps bag


def list_frames(folder) -> list:
    """The .jpg/.jpeg/.png files of ``folder`` (or of its img/), sorted by name; FileNotFoundError if none."""
    folder = Path(folder)
    if (folder / "img").is_dir():
        folder = folder / "img"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise FileNotFoundError(f"no .jpg/.png frames in {folder}")
    return files


def read_groundtruth(folder):
    """(N, 4) float array of x,y,w,h from groundtruth.txt beside the frames (NaN rows allowed), or None."""
    from fcot_ros.datasets.parsing import read_boxes
    folder = Path(folder)
    for p in (folder / "groundtruth.txt", folder.parent / "groundtruth.txt"):
        if p.is_file():
            return read_boxes(p)
    return None


def load_frames(files, size=None, max_frames=None):
    """Decode frames to BGR, optionally resized to size=(w, h)."""
    frames = []
    for f in files[:max_frames] if max_frames else files:
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read {f}")
        if size is not None and (img.shape[1], img.shape[0]) != tuple(size):
            img = cv2.resize(img, tuple(size), interpolation=cv2.INTER_LINEAR)
        frames.append(img)
    return frames


def frame_order(n: int, loop: str):
    """Infinite (or finite for loop='none') sequence of frame indices."""
    if loop == "none":
        yield from range(n)
        return
    while True:
        yield from range(n)
        if loop == "pingpong" and n > 1:
            yield from range(n - 2, 0, -1)


def parse_size(text):
    """"WxH" -> (w, h) in pixels; None for an empty string."""
    if not text:
        return None
    w, h = text.lower().split("x")
    return int(w), int(h)


def parse_args(argv=None):
    """The replay publisher's command line (see the module's docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", required=True, help="folder of frames (or of img/ + groundtruth.txt)")
    ap.add_argument("--topic", default="image")
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = play the frames once")
    ap.add_argument("--loop", choices=("none", "wrap", "pingpong"), default=None,
                    help="default: none without --duration, pingpong with it")
    ap.add_argument("--max-frames", type=int, default=0)
    ap.add_argument("--size", default="", help="WxH to resize every frame to, e.g. 640x480")
    ap.add_argument("--encoding", default="bgr8", choices=("bgr8", "rgb8", "mono8", "bgra8", "rgba8"))
    ap.add_argument("--frame-id", default="camera")
    ap.add_argument("--reliable", action="store_true", help="reliable QoS (default: sensor-data, best effort)")
    ap.add_argument("--wait-subscribers", type=float, default=10.0,
                    help="wait up to this many s for a subscriber before playing")
    ap.add_argument("--start-delay", type=float, default=0.0)
    ap.add_argument("--stamp-log", default="", help="write stamp_ns,frame_index per published frame")
    ap.add_argument("--wait-file", default="",
                    help="publish the first frame (one stamp, re-sent every 0.5 s) and go on with the "
                         "others only once this file exists: lets a client initialise on frame 1 first")
    ap.add_argument("--stamps", default="wall", choices=STAMP_MODES,
                    help="header stamps: wall clock (default), all zero, or a looping recorded timeline")
    ap.add_argument("--camera-info", default="", help="calibration YAML: publish CameraInfo with every frame")
    ap.add_argument("--camera-info-topic", default="", help="default: the image topic's sibling camera_info")
    ap.add_argument("--allow-network", action="store_true",
                    help="do not force loopback-only DDS (for use on a robot's network)")
    return ap.parse_args(argv)


def prepare_frames(args) -> list:
    """The frames of --frames, decoded, resized to --size and converted to --encoding."""
    frames = load_frames(list_frames(args.frames), parse_size(args.size), args.max_frames or None)
    conv = {"bgr8": None, "rgb8": cv2.COLOR_BGR2RGB, "mono8": cv2.COLOR_BGR2GRAY,
            "bgra8": cv2.COLOR_BGR2BGRA, "rgba8": cv2.COLOR_BGR2RGBA}[args.encoding]
    return frames if conv is None else [cv2.cvtColor(f, conv) for f in frames]


class Stamper:
    """Header stamps (ns) per --stamps: the node's clock (wall), 0 (zero), or a recorded timeline
    BAG_START_NS + k / rate for the k-th frame since the last loop started (bag)."""

    def __init__(self, mode: str, rate: float, node):
        self.mode, self.node = mode, node
        self.bag_period_ns = int(round(1e9 / rate))
        self.bag_k = 0           # position in the recorded timeline; back to 0 at each loop

    def __call__(self, first_of_loop: bool) -> int:
        """The header stamp (ns) of the next published frame; ``first_of_loop`` restarts the bag timeline."""
        if self.mode == "zero":
            return 0
        if self.mode == "bag":
            if first_of_loop:
                self.bag_k = 0
            ns = BAG_START_NS + self.bag_k * self.bag_period_ns
            self.bag_k += 1
            return ns
        return self.node.get_clock().now().nanoseconds


def play(node, pub, frames, args, log, info=None) -> None:
    """Publish ``frames`` on ``pub`` at --rate for --duration s (or once), after waiting for a
    subscriber; with --wait-file, the first frame is re-sent every 0.5 s until the file exists.
    Writes "stamp_ns,frame_index" per published frame to ``log`` (or None). ``info``: (CameraInfo
    publisher, CameraInfo message) sent just before every image, with its header, or None."""
    from sensor_msgs.msg import Image

    from fcot_ros.ros.image_conversion import fill_image
    stamp_of = Stamper(args.stamps, args.rate, node)
    loop = args.loop or ("pingpong" if args.duration > 0 else "none")
    sent = 0

    def make(index, first_of_loop=False):
        msg = Image()
        msg.header.frame_id = args.frame_id
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_of(first_of_loop), 1_000_000_000)
        fill_image(msg, frames[index], args.encoding)
        return msg

    def send(msg):
        if info is not None:
            info[1].header = msg.header
            info[0].publish(info[1])
        pub.publish(msg)

    t_wait = time.monotonic()
    while pub.get_subscription_count() == 0 and time.monotonic() - t_wait < args.wait_subscribers:
        time.sleep(0.05)
    time.sleep(args.start_delay)
    period = 1.0 / args.rate
    order = frame_order(len(frames), loop)
    if args.wait_file:
        first = next(order)
        msg = make(first, first_of_loop=True)
        if log:
            log.write(f"{msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec},{first}\n")
        sent += 1
        while not Path(args.wait_file).exists():
            send(msg)
            time.sleep(0.5)
    t0 = time.monotonic() - sent * period
    previous = None
    for i in order:
        due = t0 + sent * period
        if args.duration > 0 and due - t0 >= args.duration:
            break
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        # a new loop of the frame list starts where the index goes back to the first frame
        msg = make(i, first_of_loop=previous is not None and i == 0 and previous != 0)
        previous = i
        send(msg)
        if log:
            log.write(f"{msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec},{i}\n")
        sent += 1
    elapsed = time.monotonic() - t0
    print(f"replay: published {sent} frames in {elapsed:.1f} s ({sent / max(elapsed, 1e-9):.1f} Hz) "
          f"on {pub.topic_name}", flush=True)


def main(argv=None):
    """Play the frames until done (or Ctrl-C); returns 0."""
    args = parse_args(argv)
    from fcot_ros.tools.ros.rosenv import check_safe_env, use_localhost_env
    if not args.allow_network:
        use_localhost_env()
        check_safe_env()

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    frames = prepare_frames(args)
    rclpy.init()
    node = rclpy.create_node("fcot_replay")
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE if args.reliable
                     else ReliabilityPolicy.BEST_EFFORT)
    pub = node.create_publisher(Image, args.topic, qos)
    info = None
    if args.camera_info:
        from sensor_msgs.msg import CameraInfo

        from fcot_ros.ros.camera_info import camera_info_topic
        from fcot_ros.tools.ros.calibration import read_calibration
        topic = camera_info_topic(node.resolve_topic_name(args.topic), args.camera_info_topic)
        info = (node.create_publisher(CameraInfo, topic, qos), read_calibration(args.camera_info))
    log = open(args.stamp_log, "w", buffering=1) if args.stamp_log else None
    try:
        play(node, pub, frames, args, log, info)
    except KeyboardInterrupt:
        pass
    finally:
        if log:
            log.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
