"""The real command line: `ros2 launch fcot_ros tracker.launch.py ...` starts the node, and
`ros2 service call` / `ros2 topic echo` / `ros2 param get` in processes of their own drive and read it,
as a user would type them. The `ros2` command comes from ../shared/ros2_cli, built by
scripts/setup_env.sh into install_ros2_cli/ (no PyPI wheels exist for ros2cli / launch / launch_ros).

Network safety: every process (launch, node, CLI) runs in loopback-only DDS with a domain of its own
(rosenv.localhost_env); the launch file gets the loopback profile (or `env`, which keeps it), never
the robot profile with network transports; `ros2 topic` / `ros2 param` run with --no-daemon; every
process is stopped by its PID at teardown, also when a test fails.
"""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from ros_helpers import REPO, STARTUP_S, Proc, new_domain_id, read_stamp_log, sequence, wait_for

from fcot_ros.tools.ros.launcher import replay_args
from fcot_ros.tools.ros.replay import read_groundtruth
from fcot_ros.tools.ros.rosenv import localhost_env

ROS2 = shutil.which("ros2")
CLI_TIMEOUT = 120.0      # one `ros2 ...` command on a busy 2-core machine (imports alone take seconds)

pytestmark = [pytest.mark.skipif(
    ROS2 is None and not os.environ.get("FCOT_REQUIRE_ROS"),
    reason="no `ros2` command (source scripts/setup_env.sh with ../shared/ros2_cli beside the repo)"),
    pytest.mark.slow]  # every test runs `ros2 launch` (scripts/test.sh --fast skips them)


@pytest.fixture(scope="module")
def ros2():
    if ROS2 is None:
        pytest.fail("no `ros2` command: scripts/setup_env.sh builds it from ../shared/ros2_cli")
    return ROS2


def run_cli(ros2, domain, *args, timeout=CLI_TIMEOUT, cwd=None):
    """Run one `ros2 ...` command to completion in loopback-only DDS; returns CompletedProcess."""
    return subprocess.run([ros2, *args], env=localhost_env(domain), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


def param_get(ros2, domain, node, name, timeout=60.0):
    """`ros2 param get NODE NAME --no-daemon`, retried while the fresh CLI node has not discovered the
    tracker yet ("Node not found"); returns the last CompletedProcess."""
    end = time.monotonic() + timeout
    while True:
        got = run_cli(ros2, domain, "param", "get", node, name, "--no-daemon")
        if got.returncode == 0 or time.monotonic() > end:
            return got
        time.sleep(1.0)


def launch(procs_started, tmp_path, domain, *arguments, name="launch"):
    """`ros2 launch fcot_ros tracker.launch.py ARGS` as a managed process (stopped by PID)."""
    p = Proc([ROS2, "launch", "--noninteractive", "fcot_ros", "tracker.launch.py", *arguments], domain,
             tmp_path / f"{name}.log", tmp_path)
    procs_started.append(p)
    return p


def node_pid(launch_log: str) -> int:
    m = re.search(r"\[tracker_node-1\]: process started with pid \[(\d+)\]", launch_log)
    return int(m.group(1)) if m else 0


def test_launch_file_and_cli_drive_the_node(ros2, started, tmp_path, test_model):
    """ros2 launch with image_topic, params_file, namespace, model, fastdds_profile and log_level;
    ros2 service call track/init (the line the demo prints) and track/stop; ros2 topic echo of
    track/target; SIGINT to `ros2 launch` ends the node cleanly (exit 0, no traceback)."""
    domain = new_domain_id()
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    params = yaml.safe_load((REPO / "config" / "tracker.yaml").read_text())
    params["/**"]["ros__parameters"]["warmup"] = False
    params_file = tmp_path / "my_tracker.yaml"
    params_file.write_text(yaml.safe_dump(params))
    profile = tmp_path / "my_profile.xml"          # a copy of the loopback-only profile
    profile.write_text(Path(localhost_env(domain)["FASTDDS_DEFAULT_PROFILES_FILE"]).read_text())
    lp = launch(started, tmp_path, domain, "image_topic:=/cam/front/image", f"params_file:={params_file}",
                "namespace:=drone1", f"model:={test_model}", f"fastdds_profile:={profile}", "log_level:=info")
    assert lp.wait_log("ready:", STARTUP_S), lp.log()[-3000:]
    log = lp.log()
    assert f"model={test_model}" in log and "image=/cam/front/image (raw" in log
    assert "/drone1/track/init" in log
    pid = node_pid(log)
    assert pid, log
    environ = dict(kv.split("=", 1) for kv in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in kv)
    assert environ["FASTDDS_DEFAULT_PROFILES_FILE"] == str(profile)      # fastdds_profile reached the node

    got = param_get(ros2, domain, "/drone1/tracker", "warmup")
    assert got.returncode == 0 and "Boolean value is: False" in got.stdout, got    # params_file was used

    stamps_file = tmp_path / "stamps.csv"
    replay = Proc(replay_args(seq, topic="/cam/front/image", rate=30, duration=600, loop="pingpong",
                              stamp_log=stamps_file), domain, tmp_path / "replay.log", tmp_path)
    started.append(replay)
    assert wait_for(lambda: stamps_file.exists() and len(read_stamp_log(stamps_file)) > 10, 60), replay.log()
    echo = Proc([ros2, "topic", "echo", "/drone1/track/target", "fcot_ros/msg/TrackedTarget", "--no-daemon"],
                domain, tmp_path / "echo.log", tmp_path)
    started.append(echo)
    time.sleep(2.0)          # discovery of the echo subscriber

    x, y, w, h = (int(v) for v in gt[0])
    roi = f"{{roi: {{x_offset: {x}, y_offset: {y}, width: {w}, height: {h}}}}}"
    call = run_cli(ros2, domain, "service", "call", "/drone1/track/init", "fcot_ros/srv/InitTrack", roi)
    print(call.stdout)
    assert call.returncode == 0, call
    assert "success=True" in call.stdout and "initialised" in call.stdout, call.stdout
    assert wait_for(lambda: echo.log().count("state: 1") + echo.log().count("state: 2") >= 5, 60), echo.log()[-2000:]
    text = echo.log()
    assert "frame_id: camera" in text and "confidence:" in text and "width:" in text

    call = run_cli(ros2, domain, "service", "call", "/drone1/track/stop", "std_srvs/srv/Trigger")
    assert call.returncode == 0 and "success=True" in call.stdout and "stopped" in call.stdout, call
    assert wait_for(lambda: "state: 0" in echo.log(), 20), echo.log()[-2000:]
    call = run_cli(ros2, domain, "service", "call", "/drone1/track/stop", "std_srvs/srv/Trigger")
    assert "success=False" in call.stdout and "not tracking" in call.stdout, call.stdout

    replay.stop()
    echo.stop()
    assert lp.stop() == 0, lp.log()[-3000:]
    log = lp.log()
    assert "Traceback" not in log, log[-3000:]
    assert "process has finished cleanly" in log, log[-3000:]


def test_launch_arguments_env_profile_model_and_log_level(ros2, started, tmp_path):
    """fastdds_profile:=env keeps the environment's (loopback) profile; model:= overrides the file;
    log_level:=debug reaches the node; bad values are refused with a message (the empty-value
    form `fastdds_profile:=''` is refused by `ros2 launch` itself, hence the word `env`)."""
    domain = new_domain_id()
    lp = launch(started, tmp_path, domain, "fastdds_profile:=env", "model:=opencv_csrt", "log_level:=debug",
                "use_sim_time:=true")
    assert lp.wait_log("ready:", STARTUP_S), lp.log()[-3000:]
    log = lp.log()
    assert "model=opencv_csrt" in log and "use_sim_time" in log and "[DEBUG]" in log
    environ = dict(kv.split("=", 1) for kv in Path(f"/proc/{node_pid(log)}/environ").read_text().split("\0")
                   if "=" in kv)
    assert environ["FASTDDS_DEFAULT_PROFILES_FILE"] == localhost_env(domain)["FASTDDS_DEFAULT_PROFILES_FILE"]
    got = param_get(ros2, domain, "/tracker", "model")
    assert "String value is: opencv_csrt" in got.stdout, got
    got = param_get(ros2, domain, "/tracker", "use_sim_time")
    assert "Boolean value is: True" in got.stdout, got
    assert lp.stop() == 0 and "Traceback" not in lp.log(), lp.log()[-3000:]

    bad = run_cli(ros2, domain, "launch", "fcot_ros", "tracker.launch.py", "log_level:=loud",
                  "fastdds_profile:=env")
    assert bad.returncode != 0 and "log_level 'loud'" in bad.stdout + bad.stderr, bad
    bad = run_cli(ros2, domain, "launch", "fcot_ros", "tracker.launch.py", "fastdds_profile:=/no/such.xml")
    assert bad.returncode != 0 and "does not exist" in bad.stdout + bad.stderr, bad


def test_lifecycle_node_driven_by_ros2_lifecycle_set(ros2, started, tmp_path, test_model):
    """`ros2 launch ... lifecycle:=true` starts the managed node unconfigured; `ros2 lifecycle set`
    configures (model built), activates (track/init answers, boxes come), deactivates (tracking
    stops with a `stopped` event, track/init gone), cleans up and shuts down; each step read back
    with `ros2 lifecycle get` and `ros2 service list` in processes of their own."""
    domain = new_domain_id()
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    lp = launch(started, tmp_path, domain, "image_topic:=/cam/image", "lifecycle:=true", f"model:={test_model}",
                "fastdds_profile:=env")

    def lifecycle(*args):
        end = time.monotonic() + 60
        while True:        # a fresh CLI node may not have discovered the tracker yet
            got = run_cli(ros2, domain, "lifecycle", *args, "--no-daemon")
            if got.returncode == 0 or time.monotonic() > end:
                return got
            time.sleep(1.0)

    def services():
        return run_cli(ros2, domain, "service", "list", "--no-daemon").stdout

    got = lifecycle("get", "/tracker")
    assert got.returncode == 0 and "unconfigured" in got.stdout, (got, lp.log()[-2000:])
    assert "/track/init" not in services()
    for transition, state in (("configure", "inactive"), ("activate", "active")):
        got = lifecycle("set", "/tracker", transition)
        assert got.returncode == 0 and "Transitioning successful" in got.stdout, (got, lp.log()[-3000:])
        assert state in lifecycle("get", "/tracker").stdout
    assert lp.wait_log("ready:", 30), lp.log()[-3000:]

    replay = Proc(replay_args(seq, topic="/cam/image", rate=30, duration=600, loop="pingpong"), domain,
                  tmp_path / "replay.log", tmp_path)
    started.append(replay)
    events = Proc([ros2, "topic", "echo", "/track/event", "fcot_ros/msg/TrackEvent", "--no-daemon",
                   "--qos-durability", "transient_local", "--qos-reliability", "reliable"],
                  domain, tmp_path / "events.log", tmp_path)
    started.append(events)
    x, y, w, h = (int(v) for v in gt[0])
    roi = f"{{roi: {{x_offset: {x}, y_offset: {y}, width: {w}, height: {h}}}}}"
    end = time.monotonic() + 60
    while True:            # until the node has received a frame
        call = run_cli(ros2, domain, "service", "call", "/track/init", "fcot_ros/srv/InitTrack", roi)
        if "success=True" in call.stdout or time.monotonic() > end:
            break
        time.sleep(1.0)
    assert "success=True" in call.stdout, call
    assert wait_for(lambda: "event_name: init" in events.log(), 60), events.log()

    got = lifecycle("set", "/tracker", "deactivate")
    assert got.returncode == 0 and "Transitioning successful" in got.stdout, got
    assert wait_for(lambda: "reason: deactivated" in events.log(), 30), events.log()
    assert "inactive" in lifecycle("get", "/tracker").stdout, lp.log()[-3000:]
    assert wait_for(lambda: "/track/init" not in services(), 30)
    for transition, state in (("cleanup", "unconfigured"), ("shutdown", "finalized")):
        got = lifecycle("set", "/tracker", transition)
        assert got.returncode == 0 and "Transitioning successful" in got.stdout, (got, lp.log()[-3000:])
        assert state in lifecycle("get", "/tracker").stdout
    replay.stop()
    events.stop()
    assert lp.stop() == 0, lp.log()[-3000:]
    assert "Traceback" not in lp.log(), lp.log()[-3000:]


def test_follow_demo_launch_keeps_the_target_centred(ros2, tmp_path):
    """`ros2 launch fcot_ros follow_demo.launch.py` on a real sequence: the virtual pan-tilt camera,
    tracker_node and the controller close the loop over track/bearing; the launch ends by itself
    after `duration`, with the report, plot, video and per-frame CSV written, and the target centred
    far more often than with the head held still."""
    import json
    domain = new_domain_id()
    out = tmp_path / "follow"
    seq = sequence("uav_boat1")
    got = subprocess.run([ros2, "launch", "--noninteractive", "fcot_ros", "follow_demo.launch.py", "duration:=8",
                          f"frames:={seq}", f"out:={out}"], env=localhost_env(domain), capture_output=True,
                         text=True, timeout=STARTUP_S + 120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    log = got.stdout + got.stderr
    assert got.returncode == 0 and "follow demo (uav_boat1" in log, log[-4000:]
    assert "Traceback" not in log and "terminate called" not in log, log[-4000:]
    report = json.loads((out / "report.json").read_text())
    print(f"\n{report}")
    assert report["frames"] >= 200
    for name in ("follow.png", "follow.mp4", "follow.csv"):
        assert (out / name).stat().st_size > 1000, name
    rows = np.loadtxt(out / "follow.csv", delimiter=",")
    assert rows.shape == (report["frames"], 12)
    following, still = report["share_in_centre"], report["share_in_centre_still_camera"]
    assert following >= 0.6 and following >= still + 0.4, report


def test_launch_with_model_dsiam_lite_tracks_a_sequence(ros2, started, tmp_path):
    """`ros2 launch fcot_ros tracker.launch.py model:=dsiam_lite`: the Dynamic Siamese tracker with its
    shipped weights is built, initialised by `ros2 service call track/init` and tracks a real
    sequence (track/target echoed in a process of its own)."""
    domain = new_domain_id()
    seq = sequence("otb_Crossing")
    gt = read_groundtruth(seq)
    lp = launch(started, tmp_path, domain, "model:=dsiam_lite", "image_topic:=/cam/image", "fastdds_profile:=env")
    assert lp.wait_log("ready:", STARTUP_S), lp.log()[-3000:]
    assert "model=dsiam_lite" in lp.log()
    stamps_file = tmp_path / "stamps.csv"
    replay = Proc(replay_args(seq, topic="/cam/image", rate=30, duration=600, loop="pingpong", stamp_log=stamps_file),
                  domain, tmp_path / "replay.log", tmp_path)
    started.append(replay)
    assert wait_for(lambda: stamps_file.exists() and len(read_stamp_log(stamps_file)) > 10, 60), replay.log()
    echo = Proc([ros2, "topic", "echo", "/track/target", "fcot_ros/msg/TrackedTarget", "--no-daemon"],
                domain, tmp_path / "echo.log", tmp_path)
    started.append(echo)
    time.sleep(2.0)
    x, y, w, h = (int(v) for v in gt[0])
    roi = f"{{roi: {{x_offset: {x}, y_offset: {y}, width: {w}, height: {h}}}}}"
    call = run_cli(ros2, domain, "service", "call", "/track/init", "fcot_ros/srv/InitTrack", roi)
    assert call.returncode == 0 and "success=True" in call.stdout, call
    assert wait_for(lambda: echo.log().count("state: 1") + echo.log().count("state: 2") >= 10, 60), \
        echo.log()[-2000:]
    replay.stop()
    echo.stop()
    assert lp.stop() == 0 and "Traceback" not in lp.log(), lp.log()[-3000:]
