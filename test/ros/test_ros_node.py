"""tracker_node end to end: the colcon-installed node in its own process, frames of real sequences
from ../shared/data/sequences published at 30 Hz by the replay publisher (another process), results
collected by a client node in this process. All DDS traffic stays on loopback (conftest.py).

Model: the node's default fcot_lite, required (a build failure fails the tests; see conftest.test_model).
"""
import array
import statistics
import time

import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import STARTUP_S, image_msg, init_on_first_frame, read_stamp_log, sequence, start_node, wait_for
from sensor_msgs.msg import Image

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.stats import stamp_to_ns
from fcot_ros.tools.ros.client import latency_ms
from fcot_ros.tools.ros.replay import read_groundtruth
from fcot_ros.tracker.box_geometry import iou

pytestmark = pytest.mark.slow  # every test launches tracker_node (scripts/test.sh --fast skips them)

# Mean IoU over the frames the node tracked, otb_Car4 frames 1-240 at 30 Hz (ping-pong, >= 8 s and
# >= 30 results), init on frame 1 by stamp.
# Measured here (2-core CPU shared with other test runs, load 5-7): opencv_csrt 0.61-0.87 over 5 runs
# (it loses the car for a while in some runs when frames are dropped); fcot_lite 0.746 (2026-12-05,
# load 5-6, 82 results: frames are dropped under that load, so the boxes are further apart than in
# a run over every frame, 0.70 over frames 1-99 in test/core/test_tracker.py). Asserted for fcot_lite:
# >= 0.6 (room for more dropped frames on a busier machine; a lost car gives < 0.3).
MIN_MEAN_IOU = {"opencv_csrt": 0.45, "fcot_lite": 0.6}
# TrackedTarget.confidence of fcot_lite is the peak of the fused score map (not clamped): measured
# 0.52-0.99 in the same run. Asserted: every value in [0, 1.5] and the median >= 0.5 (a target that
# is held scores well above the not-found threshold; a lost one near 0).
MAX_CONFIDENCE = 1.5
MIN_MEDIAN_CONFIDENCE = 0.5


def assert_latest_frame_policy(results, step_ms, period_ms=1000 / 30, slack_ms=150):
    """Results [(arrival_ns, TrackedTarget)] in order came from a latest-frame policy, not a queue.

    Each tracked frame after the first must have been the newest one when the tracker took it, i.e.
    published at most one camera period (+ slack for scheduling on a busy 2-core machine) before the
    previous result went out; with a queue, frames would be taken ever further behind. Checked
    per result, so it holds whatever the model's speed, including its slow first steps. And the
    median latency stays at about one step plus the wait for the tracker.
    """
    lat = np.array([latency_ms(a, m) for a, m in results])
    ok = [stamp_to_ns(m.header.stamp) >= prev_arrival - (period_ms + slack_ms) * 1e6
          for (prev_arrival, _), (_, m) in zip(results, results[1:])]
    assert np.mean(ok) >= 0.95, f"{ok.count(False)} of {len(ok)} results came from stale frames"
    assert np.median(lat) < 2 * step_ms + 150, f"median latency {np.median(lat):.0f} ms, step {step_ms:.0f} ms"


def test_tracks_real_sequence_at_30hz(procs, ros_client, test_model, tmp_path):
    """Stamps of TrackedTarget match published frames, boxes follow the ground truth, latency is
    bounded, the debug image and /diagnostics are published, SIGINT stops the node cleanly."""
    seq = sequence("otb_Car4")
    gt = read_groundtruth(seq)
    n_frames = 240
    domain, node, client = start_node(procs, ros_client, test_model, client_kw={"debug_images": True})
    debug_images = client.debug_images
    stamps_file, go = tmp_path / "stamps.csv", tmp_path / "go"
    replay = procs.replay(domain, seq, max_frames=n_frames, rate=30, duration=600, loop="pingpong",
                          stamp_log=stamps_file, wait_file=go)

    # init on frame 1 by its stamp, as an operator who drew the box on that frame would; the replay
    # holds the other frames back until the (possibly slow) initialisation is done
    first_stamp = init_on_first_frame(client, node, stamps_file, gt[0])
    go.touch()
    t_go = time.monotonic()
    # stream (the 240 frames forward, then backward, ...) for 8 s and until 30 results came back,
    # however slow the model's first steps are
    assert client.wait_for_targets(30, STARTUP_S), f"{client.count()} results:\n{node.log()[-2000:]}"
    wait_for(lambda: False, max(0.0, t_go + 8.0 - time.monotonic()))
    replay.stop()
    stream_s = time.monotonic() - t_go
    time.sleep(1.0)                 # the last frame's result
    stamps = read_stamp_log(stamps_file)
    got = client.targets_since()
    tracked = [(a, m) for a, m in got if m.state != TrackedTarget.IDLE]
    print(f"\nmodel={test_model}: {len(tracked)} results for {len(stamps)} frames in {stream_s:.1f} s")

    # every result carries the header of a published frame; in order; one result per frame at most
    ns = [stamp_to_ns(m.header.stamp) for _, m in tracked]
    assert all(s in stamps for s in ns), "a TrackedTarget stamp matches no published frame"
    assert all(m.header.frame_id == "camera" for _, m in tracked)
    assert ns == sorted(ns) and len(set(ns)) == len(ns)
    assert ns[0] > first_stamp, "the init frame itself is not re-published"
    step_ms = float(client.diagnostics.get("track_step_median_ms", "nan"))

    ious = iou([(m.x, m.y, m.width, m.height) for _, m in tracked],
               gt[[stamps[stamp_to_ns(m.header.stamp)] for _, m in tracked]])
    mean_iou = float(np.mean(ious))
    lat = [latency_ms(a, m) for a, m in tracked]
    conf = [m.confidence for _, m in tracked]
    print(f"mean IoU {mean_iou:.3f}; confidence {min(conf):.3f}..{max(conf):.3f}; latency median "
          f"{statistics.median(lat):.1f} ms, p99 {np.percentile(lat, 99):.1f} ms")
    assert mean_iou >= MIN_MEAN_IOU[test_model], f"mean IoU {mean_iou:.3f}"
    assert all(0.0 <= c <= MAX_CONFIDENCE for c in conf), (min(conf), max(conf))
    if test_model == "fcot_lite":
        assert statistics.median(conf) >= MIN_MEDIAN_CONFIDENCE, statistics.median(conf)
    assert_latest_frame_policy(tracked, step_ms)

    # overlay: published because this client subscribes, same size as the input
    assert debug_images, "no track/debug_image while subscribed"
    assert (debug_images[-1].width, debug_images[-1].height) == (360, 240)
    assert debug_images[-1].encoding == "bgr8"

    # diagnostics describe the run
    # /diagnostics comes once a second: wait for the one that counts every result
    assert wait_for(lambda: int(client.diagnostics.get("frames_tracked", 0)) == len(tracked), 5), \
        (client.diagnostics, len(tracked))
    d = client.diagnostics
    assert d["backend"] and d["model"] and d["state"] in ("tracking", "uncertain", "lost")
    assert int(d["frames_received"]) >= 0.9 * n_frames

    resp = client.stop()
    assert resp.success, resp.message
    assert wait_for(lambda: client.targets_since()[-1][1].state == TrackedTarget.IDLE, 5)
    assert node.stop() == 0, f"unclean exit after SIGINT:\n{node.log()[-2000:]}"


def test_slow_tracker_drops_frames_instead_of_lagging(procs, ros_client, test_model, tmp_path):
    """A tracker slower than the camera (each step padded by 200 ms): stale frames are dropped and
    counted, latency stays at about one step instead of growing with a queue."""
    seq = sequence("vot_car1")
    gt = read_groundtruth(seq)
    domain, node, client = start_node(procs, ros_client, test_model, simulated_delay_ms=200.0,
                                      warmup=False)
    stamps_file, go = tmp_path / "stamps.csv", tmp_path / "go"
    replay = procs.replay(domain, seq, max_frames=60, rate=30, duration=600, loop="pingpong",
                          stamp_log=stamps_file, wait_file=go)
    init_on_first_frame(client, node, stamps_file, gt[0])
    go.touch()
    # stream at 30 Hz until 25 results came back (about 6 s with a 10-20 FPS model + 200 ms)
    assert client.wait_for_targets(25, STARTUP_S), node.log()[-2000:]
    replay.stop()
    time.sleep(1.0)
    got = [(a, m) for a, m in client.targets_since() if m.state != TrackedTarget.IDLE]
    published = len(read_stamp_log(stamps_file)) - 1      # the init frame is not tracked
    lat = np.array([latency_ms(a, m) for a, m in got])
    print(f"\n{len(got)} results of {published} frames; latency median {np.median(lat):.0f} ms, "
          f"p99 {np.percentile(lat, 99):.0f} ms, max {lat.max():.0f} ms")
    assert len(got) <= published / 4, "more results than one per 200+ ms step"
    # wait for a slot (<= one step) + one step + transport; a queue would grow by ~170 ms per result
    assert_latest_frame_policy(got, float(client.diagnostics["track_step_median_ms"]))
    half = len(lat) // 2
    assert np.median(lat[half:]) < np.median(lat[:half]) + 100, "latency grows over the run"
    assert wait_for(lambda: int(client.diagnostics.get("frames_dropped", 0)) > published / 2, 5), \
        client.diagnostics
    assert node.alive()


def test_bad_inputs_are_refused_and_node_keeps_tracking(procs, ros_client, test_model, tmp_path):
    """Every bad input of the issue is refused (success=false + message, or a logged refusal) and the
    node is still alive and tracking afterwards."""
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False)
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    pub = client.create_publisher(Image, "image", qos)
    assert wait_for(lambda: pub.get_subscription_count() > 0, 10)

    # init before any image / stop when idle
    r = client.init((10, 10, 20, 20))
    assert not r.success and "no image received" in r.message
    r = client.stop()
    assert not r.success and "not tracking" in r.message

    # a bad image of each kind: refused with a log line, and not used for init
    img = np.zeros((120, 160, 3), np.uint8)
    bad = image_msg(img)
    bad.encoding = "yuv422"
    pub.publish(bad)
    assert node.wait_log("unsupported encoding 'yuv422'", 10), node.log()
    bad = image_msg(img)
    bad.step = 160 * 3 + 8                        # claims padded rows, data is not
    pub.publish(bad)
    assert node.wait_log("expected step*height", 10), node.log()
    bad = image_msg(img)
    bad.width = 200                               # step smaller than a row
    pub.publish(bad)
    assert node.wait_log("smaller than width*channels", 10), node.log()
    r = client.init((10, 10, 20, 20))
    assert not r.success and "no image received" in r.message
    assert wait_for(lambda: client.diagnostics.get("frames_refused") == "3", 5), client.diagnostics

    # a real stream
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    stamps_file = tmp_path / "stamps.csv"
    replay = procs.replay(domain, seq, rate=30, duration=120, stamp_log=stamps_file)  # stopped below
    assert wait_for(lambda: stamps_file.exists() and stamps_file.read_text().count("\n") >= 5, 30)
    time.sleep(0.3)
    for roi, why in [((300, 100, 100, 50), "not inside"),     # past the right edge of 360x240
                     ((10, 200, 30, 60), "not inside"),       # past the bottom
                     ((10, 10, 0, 30), "zero size"),
                     ((10, 10, 30, 0), "zero size"),
                     ((400, 300, 10, 10), "not inside")]:
        r = client.init_raw(*roi)
        assert not r.success and why in r.message, (roi, r.message)
    r = client.init(gt[0], stamp_ns=12345)                    # a stamp that is not in the buffer
    assert not r.success and "no image with stamp" in r.message and "buffer" in r.message, r.message
    assert node.alive()
    assert not [m for _, m in client.targets_since() if m.state != TrackedTarget.IDLE], \
        "results published while no init succeeded"

    # bad frames in the middle of a tracked stream are refused, tracking goes on
    r = client.init(gt[0], timeout=STARTUP_S)           # on the latest frame: close to frame 1
    assert r.success, r.message
    n0 = client.count()
    bad = image_msg(img)
    bad.encoding = "32FC1"
    for _ in range(20):     # the node keeps only the newest frame: the replay's may overwrite this one
        pub.publish(bad)
        if node.wait_log("unsupported encoding '32FC1'", 0.5):
            break
    assert node.wait_log("unsupported encoding '32FC1'", 1), node.log()[-2000:]
    assert client.wait_for_targets(n0 + 5, 60), "no tracking after the refusals"
    assert node.alive()
    replay.stop()
    r = client.stop()
    assert r.success, r.message
    assert node.stop() == 0


def test_compressed_transport_and_color_encodings(procs, ros_client, test_model):
    """image_transport=compressed subscribes <image>/compressed and tracks JPEG frames; raw rgb8 /
    mono8 / bgra8 frames are accepted by a raw node (none refused)."""
    import cv2
    from sensor_msgs.msg import CompressedImage

    from fcot_ros.tools.ros.replay import list_frames
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    frames = [cv2.imread(str(f)) for f in list_frames(seq)[:40]]
    domain, node, client = start_node(procs, ros_client, test_model, image_transport="compressed",
                                      warmup=False)
    assert "image=/image/compressed (compressed" in node.log()
    pub = client.create_publisher(CompressedImage, "image/compressed",
                                  QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    assert wait_for(lambda: pub.get_subscription_count() > 0, 10)

    def send(img):
        msg = CompressedImage(format="jpeg")
        msg.header.frame_id = "camera"
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(time.time_ns(), 1_000_000_000)
        msg.data = array.array("B", cv2.imencode(".jpg", img)[1].tobytes())
        pub.publish(msg)

    # discovery is complete on both sides only once a frame got through: resend until one did
    assert wait_for(lambda: send(frames[0]) or int(client.diagnostics.get("frames_received", 0)) > 0,
                    15, step=0.3), node.log()
    r = client.init(gt[0], timeout=STARTUP_S)
    assert r.success, r.message
    # stream the clip at 15 Hz until three results came back (however slow the model)
    end, k = time.monotonic() + STARTUP_S, 1
    while client.count() < 3 and time.monotonic() < end:
        send(frames[k % len(frames)])
        k += 1
        time.sleep(1 / 15)
    assert client.count() >= 3, node.log()[-2000:]
    assert node.stop() == 0

    # a raw node takes rgb8 / mono8 / bgra8 frames without refusing any
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False, name="raw")
    pub = client.create_publisher(Image, "image", QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    assert wait_for(lambda: pub.get_subscription_count() > 0, 10)
    for k, (enc, conv) in enumerate((("rgb8", cv2.COLOR_BGR2RGB), ("mono8", cv2.COLOR_BGR2GRAY),
                                     ("bgra8", cv2.COLOR_BGR2BGRA)), 1):
        msg = image_msg(cv2.cvtColor(frames[0], conv), enc)
        assert wait_for(lambda: pub.publish(msg) or int(client.diagnostics.get("frames_received", 0)) >= k,
                        15, step=0.5), (enc, client.diagnostics)
    assert client.diagnostics["frames_refused"] == "0"
    assert "refused image" not in node.log()
    r = client.init(gt[0], timeout=STARTUP_S)             # on the bgra8 frame
    assert r.success, r.message


def test_corrupt_weights_keep_the_node_up_and_answer_why(procs, ros_client, tmp_path):
    """A corrupt weights file (the shipped one, or one passed in) is no silent fall-back to untrained
    heads: the node stays up, every track/init answers success=false naming the file, and
    /diagnostics reports ERROR with the same message."""
    bad = tmp_path / "fcot_lite_broken.pt"
    bad.write_bytes(b"not a checkpoint" * 100)
    domain, node, client = start_node(procs, ros_client, "fcot_lite", weights=str(bad), warmup=False)
    assert node.wait_log("no tracker:", 30), node.log()
    for _ in range(2):
        r = client.init((10, 10, 20, 20), timeout=30)
        assert not r.success and str(bad) in r.message, r.message
    assert wait_for(lambda: client.diagnostics.get("_level") == 2, 15), client.diagnostics
    assert str(bad) in client.diagnostics["_message"]
    assert node.alive()
