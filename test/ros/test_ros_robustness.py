"""tracker_node against the cameras robots really have: stamps that are zero, repeated or going back
(a driver without time, a looping bag, a sim-time reset), a frame re-sent, a burst of bad frames, an
image size change while tracking, and init-by-stamp/stop cycles on a live 30 Hz stream (init runs off
the image thread). Policies: docs/ros.md, "Time, stamps and sim time" and "Image size changes".

Every process stays on loopback DDS and is stopped by PID at teardown (conftest.py).
"""
import re
import time

import cv2
import numpy as np
import pytest
from ros_helpers import STARTUP_S, Feeder, image_msg, read_stamp_log, sequence, start_node, wait_for

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.stats import stamp_to_ns
from fcot_ros.tools.ros.replay import read_groundtruth

pytestmark = pytest.mark.slow  # every test launches tracker_node (scripts/test.sh --fast skips them)

PERIOD_NS = 33_333_333


def _tracked(client, since=0):
    return [m for _, m in client.targets_since(since) if m.state != TrackedTarget.IDLE]


def _diag(client, key):
    return int(client.diagnostics.get(key, "0"))


def _timeline(start_ns, step=PERIOD_NS):
    k = 0
    while True:
        yield start_ns + k * step
        k += 1


def _zeros():
    while True:
        yield 0


def test_zero_repeated_and_backward_stamps_keep_tracking(procs, ros_client, test_model):
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False)
    feed = Feeder(client, seq)

    # 1. a driver that sets no time: every stamp 0
    assert feed.stream_until(lambda: _diag(client, "frames_received") >= 3, _zeros(), 30), node.log()
    r = client.init(gt[0], timeout=STARTUP_S)                    # stamp 0 = the latest frame
    assert r.success, r.message
    n0 = client.count()
    assert feed.stream_until(lambda: len(_tracked(client, n0)) >= 5, _zeros()), node.log()[-3000:]
    assert all(stamp_to_ns(m.header.stamp) == 0 for m in _tracked(client, n0))
    assert node.wait_log("carry stamp 0", 5), node.log()[-3000:]
    assert wait_for(lambda: _diag(client, "frames_unstamped") >= 5, 5), client.diagnostics

    # 2. a recorded timeline, then a jump back (bag loop / sim-time reset): tracking goes on
    t_a, t_b = 1_000 * 10**9, 400 * 10**9
    n1 = client.count()
    assert feed.stream_until(lambda: len(_tracked(client, n1)) >= 5, _timeline(t_a)), node.log()[-3000:]
    n2 = client.count()
    back = _timeline(t_b)
    assert feed.stream_until(lambda: any(stamp_to_ns(m.header.stamp) < t_a for m in _tracked(client, n2))
                             and len(_tracked(client, n2)) >= 5, back), node.log()[-3000:]
    assert node.wait_log("image stamps went back by 6", 5), node.log()[-3000:]
    assert wait_for(lambda: _diag(client, "stamps_backwards") >= 1, 5), client.diagnostics

    # 3. a stuck clock: one stamp for new images -> each is tracked; a re-sent frame is not tracked twice
    stuck = next(back) + 10**9
    n3 = client.count()
    assert feed.stream_until(lambda: len(_tracked(client, n3)) >= 3, iter([stuck] * 10_000)), node.log()[-3000:]
    assert wait_for(lambda: _diag(client, "stamps_repeated") >= 3, 5), client.diagnostics
    same = feed.frames[0]
    resend_stamp = stuck + 10**9
    n4 = client.count()
    for _ in range(15):
        feed.send(resend_stamp, same, pause=0.1)
    time.sleep(1.0)
    assert len([m for m in _tracked(client, n4) if stamp_to_ns(m.header.stamp) == resend_stamp]) <= 1
    assert wait_for(lambda: _diag(client, "frames_resent") >= 5, 5), client.diagnostics

    # 4. a burst of bad frames of as many sizes: each counted, a handful of log lines (per kind, per 2 s).
    # Small frames (a 40 x 30 corner), 50 per second: a full-size burst over loopback UDP loses whole
    # messages to socket buffers before the node sees them (CI run of commit 495f373: < 50 of 60 counted).
    refused0 = _diag(client, "frames_refused")
    lines0 = node.log().count("refused image")
    img = np.ascontiguousarray(feed.frames[0][:30, :40])
    for k in range(60):
        bad = image_msg(img)
        bad.data = bad.data[:len(bad.data) - 3 * (k + 1)]     # 60 different byte counts
        feed.pub.publish(bad)
        time.sleep(0.02)
    assert wait_for(lambda: _diag(client, "frames_refused") >= refused0 + 50, 10), client.diagnostics
    time.sleep(0.5)
    assert node.log().count("refused image") - lines0 <= 3, node.log()[-3000:]
    assert node.alive()

    # 5. the image size changes while tracking: LOST for every frame until track/init, with a message
    small = [cv2.resize(f, (180, 120), interpolation=cv2.INTER_AREA) for f in feed.frames]
    stamps = _timeline(2_000 * 10**9)
    n5 = client.count()
    end = time.monotonic() + 60
    while sum(m.state == TrackedTarget.LOST for m in _tracked(client, n5)) < 3 and time.monotonic() < end:
        feed.send(next(stamps), small[feed.k % len(small)])
        feed.k += 1
    assert wait_for(lambda: sum(m.state == TrackedTarget.LOST for m in _tracked(client, n5)) >= 3, 5), \
        [m.state for m in _tracked(client, n5)]
    after = _tracked(client, n5)
    first_lost = next(i for i, m in enumerate(after) if m.state == TrackedTarget.LOST)
    assert all(m.state == TrackedTarget.LOST and m.confidence == 0.0 for m in after[first_lost:])
    assert node.wait_log("image size changed from 360x240 to 180x120", 5), node.log()[-3000:]
    assert wait_for(lambda: _diag(client, "image_size_changes") == 1 and
                    "size changed" in client.diagnostics.get("_message", ""), 5), client.diagnostics
    r = client.init(tuple(v / 2 for v in gt[0]), timeout=STARTUP_S)   # a new init on the new size
    assert r.success and "(180x120)" in r.message, r.message
    n6 = client.count()
    for f in small[10:40]:
        feed.send(next(stamps), f)
        if len(_tracked(client, n6)) >= 3:
            break
    assert wait_for(lambda: any(m.state != TrackedTarget.LOST for m in _tracked(client, n6)), 10)
    assert node.stop() == 0, node.log()[-3000:]


def test_looping_bag_replay_is_tracked_across_loops(procs, ros_client, test_model, tmp_path):
    """A separate process plays 30 frames at 30 Hz with a recorded timeline that restarts at every
    loop (like `ros2 bag play --loop`): stamps jump back once a second, results keep coming."""
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False)
    stamps_file, go = tmp_path / "stamps.csv", tmp_path / "go"
    procs.replay(domain, seq, max_frames=30, rate=30, duration=600, loop="wrap", stamps="bag",
                 stamp_log=stamps_file, wait_file=go)
    assert wait_for(lambda: stamps_file.exists() and stamps_file.read_text().strip(), 30)
    first = next(iter(read_stamp_log(stamps_file)))
    assert wait_for(lambda: _diag(client, "frames_received") > 0, 30), node.log()
    r = client.init(gt[0], stamp_ns=first, timeout=STARTUP_S)
    assert r.success, r.message
    go.touch()
    assert wait_for(lambda: _diag(client, "stamps_backwards") >= 3, STARTUP_S), client.diagnostics
    n = client.count()
    assert client.wait_for_targets(n + 5, 60), node.log()[-3000:]
    stamps = [stamp_to_ns(m.header.stamp) for m in _tracked(client)]
    assert sum(b < a for a, b in zip(stamps, stamps[1:])) >= 2, "results from at least three loops"
    assert node.wait_log("image stamps went back by", 5)
    assert node.alive()


def test_time_jump_policy_stop_and_sim_time(procs, ros_client, test_model):
    """use_sim_time: diagnostics come without /clock (steady timer); latency is measured on the sim
    clock. time_jump_policy=stop: a sim-time reset ends tracking with an IDLE message and a log line;
    a new track/init tracks on the new timeline."""
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False, use_sim_time=True,
                                      time_jump_policy="stop")
    assert wait_for(lambda: client.diagnostics.get("use_sim_time") == "true", 10), client.diagnostics
    assert client.diagnostics["time_jump_policy"] == "stop"
    clock = client.create_publisher(Clock, "/clock", 10)
    feed = Feeder(client, seq)

    def sim(start_ns):
        k = 0
        while True:
            ns = start_ns + k * PERIOD_NS
            sec, nanosec = divmod(ns, 1_000_000_000)
            clock.publish(Clock(clock=Time(sec=sec, nanosec=nanosec)))
            yield ns
            k += 1

    run = sim(100 * 10**9)
    assert feed.stream_until(lambda: _diag(client, "frames_received") >= 3, run, 30)
    r = client.init(gt[0], timeout=STARTUP_S)
    assert r.success, r.message
    n0 = client.count()
    assert feed.stream_until(lambda: len(_tracked(client, n0)) >= 5, run), node.log()[-3000:]
    assert wait_for(lambda: client.diagnostics.get("latency_median_ms", "nan") != "nan", 5), client.diagnostics
    assert 0.0 <= float(client.diagnostics["latency_median_ms"]) < 5000.0

    n1 = client.count()
    reset = sim(1 * 10**9)                   # the simulator restarts
    assert feed.stream_until(lambda: any(m.state == TrackedTarget.IDLE for _, m in client.targets_since(n1)),
                             reset, 30), node.log()[-3000:]
    assert node.wait_log("tracking stopped: image stamps went back", 5), node.log()[-3000:]
    assert wait_for(lambda: client.diagnostics.get("state") == "idle" and _diag(client, "stamps_backwards") >= 1,
                    5), client.diagnostics
    r = client.init(gt[0], timeout=STARTUP_S)
    assert r.success, r.message
    n2 = client.count()
    assert feed.stream_until(lambda: len(_tracked(client, n2)) >= 3, reset), node.log()[-3000:]
    assert all(stamp_to_ns(m.header.stamp) < 100 * 10**9 for m in _tracked(client, n2))
    assert node.stop() == 0


def test_init_by_stamp_on_a_live_stream_50_cycles(procs, ros_client, test_model, tmp_path):
    """50 track/init (by the stamp of a frame published up to ~0.95 s earlier) / track/stop cycles on
    a 30 Hz stream: every init succeeds, because images keep coming in while the model is built.
    init_stamp_tolerance_ms=40 (over one frame period, 33 ms; under two): the node's image subscription keeps
    one message (image_queue_depth 1), so a frame that arrives while a 2-core CI machine is busy
    building a model can be overwritten before the ring holds it (49/50 in a fresh-clone run of
    ef10c17); the lookup then takes the nearest frame, as a robot user would configure it."""
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    domain, node, client = start_node(procs, ros_client, test_model, warmup=False, init_stamp_tolerance_ms=40.0)
    stamps_file = tmp_path / "stamps.csv"
    procs.replay(domain, seq, max_frames=120, rate=30, duration=1200, loop="pingpong", stamp_log=stamps_file)
    assert wait_for(lambda: stamps_file.exists() and len(read_stamp_log(stamps_file)) > 45, 60)
    assert wait_for(lambda: _diag(client, "frames_received") > 30, 30), node.log()
    ok, ages, messages = 0, [], []
    for cycle in range(50):
        want_age_s = (cycle % 19 + 1) * 0.05         # 0.05 .. 0.95 s before now
        published = list(read_stamp_log(stamps_file).items())
        now_ns = time.time_ns()
        stamp, index = min(published[-60:], key=lambda si: abs((now_ns - si[0]) / 1e9 - want_age_s))
        ages.append((now_ns - stamp) / 1e9)
        box = gt[index] if np.all(np.isfinite(gt[index])) else gt[0]
        r = client.init(box, stamp_ns=stamp, timeout=STARTUP_S)
        messages.append(r.message)
        ok += bool(r.success)
        s = client.stop()
        assert s.success or "not tracking" in s.message, s.message
    failed = [m for m in messages if "no image with stamp" in m or not m.startswith(("initialised", "re-initialised"))]
    print(f"\n{ok}/50 inits succeeded; frame ages {min(ages):.2f}..{max(ages):.2f} s")
    assert ok == 50, failed[:3]
    # intake went on during the inits: the node received (nearly) every published frame
    published = len(read_stamp_log(stamps_file))
    assert wait_for(lambda: _diag(client, "inits_ok") == 50, 5), client.diagnostics
    assert _diag(client, "frames_received") >= 0.8 * published, (client.diagnostics, published)
    took = [float(m) for m in re.findall(r"in (\d+\.\d+) s \(frame", " ".join(messages))]
    print(f"init took median {np.median(took):.2f} s, max {max(took):.2f} s")
    assert node.alive()
