"""Package files agree with the code: parameter file vs declared parameters, interfaces, launch file."""
import re
import xml.etree.ElementTree as ET

import pytest
import yaml
from ros_helpers import REPO


def test_tracker_yaml_sets_every_declared_parameter_within_its_range():
    from fcot_ros.ros.params import SPECS
    doc = yaml.safe_load((REPO / "config" / "tracker.yaml").read_text())
    values = doc["/**"]["ros__parameters"]
    assert set(values) == set(SPECS)
    for name, spec in SPECS.items():
        v = values[name]
        assert type(v) is type(spec.default), (name, v)
        assert v == spec.default, f"{name}: yaml {v!r} != declared default {spec.default!r}"
        if spec.choices:
            assert v in spec.choices, name
        if spec.low is not None:
            assert spec.low <= v <= spec.high, name
        assert spec.description, name


def test_tracker_yaml_comments_list_the_declared_choices():
    """A comment that lists a parameter's choices ("a | b | c") lists exactly the declared ones."""
    from fcot_ros.ros.params import SPECS
    for line in (REPO / "config" / "tracker.yaml").read_text().splitlines():
        name, _, rest = line.strip().partition(":")
        if name not in SPECS or not SPECS[name].choices or "#" not in rest:
            continue
        run = re.search(r"\w+(?:\s*\|\s*\w+)+", rest.split("#", 1)[1])     # "a | b | c"
        if run:
            listed = [w.strip() for w in run.group(0).split("|")]
            assert sorted(listed) == sorted(SPECS[name].choices), (name, listed)


def test_interfaces_as_specified():
    from fcot_ros.msg import TrackedTarget, TrackEvent
    from fcot_ros.srv import InitTrack
    assert (TrackedTarget.IDLE, TrackedTarget.TRACKING, TrackedTarget.UNCERTAIN, TrackedTarget.LOST) == (0, 1, 2, 3)
    fields = TrackedTarget.get_fields_and_field_types()
    assert fields == {"header": "std_msgs/Header", "x": "float", "y": "float", "width": "float",
                      "height": "float", "confidence": "float", "state": "uint8", "track_id": "uint32",
                      "bearing_valid": "boolean", "azimuth": "float", "elevation": "float"}
    assert (TrackEvent.INIT, TrackEvent.LOST, TrackEvent.REACQUIRED, TrackEvent.STOPPED) == (0, 1, 2, 3)
    assert TrackEvent.get_fields_and_field_types() == {
        "header": "std_msgs/Header", "event": "uint8", "event_name": "string", "track_id": "uint32",
        "reason": "string"}
    # track/event keeps the last event for a subscriber that joins late
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    from fcot_ros.ros.node import EVENT_QOS
    assert (EVENT_QOS.durability, EVENT_QOS.reliability, EVENT_QOS.depth) == (
        DurabilityPolicy.TRANSIENT_LOCAL, ReliabilityPolicy.RELIABLE, 1)
    assert InitTrack.Request.get_fields_and_field_types() == {
        "roi": "sensor_msgs/RegionOfInterest", "stamp": "builtin_interfaces/Time"}
    assert InitTrack.Response.get_fields_and_field_types() == {"success": "boolean", "message": "string"}


@pytest.mark.no_ros
def test_package_xml_declares_what_the_ros_code_imports():
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.get("format") == "3"
    deps = {e.text for e in root if e.tag.endswith("depend")}
    source = "\n".join(p.read_text() for p in (REPO / "fcot_ros" / "ros").glob("*.py"))
    for module, key in [("rclpy", "rclpy"), ("sensor_msgs", "sensor_msgs"), ("std_srvs", "std_srvs"),
                        ("diagnostic_msgs", "diagnostic_msgs"), ("rcl_interfaces", "rcl_interfaces"),
                        ("geometry_msgs", "geometry_msgs"), ("vision_msgs", "vision_msgs"),
                        ("ament_index_python", "ament_index_python"), ("cv2", "python3-opencv"),
                        ("numpy", "python3-numpy")]:
        if f"import {module}" in source or f"from {module}" in source:
            assert key in deps, f"fcot_ros/ros imports {module}: package.xml lacks {key}"
    assert {"rosidl_default_generators", "ament_cmake", "rosidl_default_runtime"} <= deps


@pytest.mark.no_ros
@pytest.mark.parametrize("name", ["tracker.launch.py", "follow_demo.launch.py"])
def test_launch_file_compiles(name):
    # without ../shared/ros2_cli there is no launch / launch_ros: the file is compiled here (the
    # ros2 CLI tests run both)
    src = (REPO / "launch" / name).read_text()
    compile(src, name, "exec")
    assert "def generate_launch_description" in src


def test_limited_log_one_line_per_kind_and_period():
    """The node's refusal / time log: per kind (not per exact message), at most one line per period,
    and the next line says how many were held back."""
    from fcot_ros.ros.throttled_log import ThrottledLog

    class Logger:
        def __init__(self):
            self.lines = []

        def warning(self, text):
            self.lines.append(text)

        info = warning

    logger = Logger()
    limited = ThrottledLog(logger, period=3600.0)
    for k in range(400):
        limited("refuse:size", f"data has {1000 + k} bytes")
    limited("refuse:encoding", "unsupported encoding 'yuv422'")
    assert len(logger.lines) == 2 and "1000 bytes" in logger.lines[0]
    limited.period = 0.0
    limited("refuse:size", "data has 5 bytes")
    assert logger.lines[-1].startswith("data has 5 bytes") and "399 more" in logger.lines[-1]


def test_limited_log_mixes_severities_on_a_real_rclpy_logger():
    """rclpy's logger refuses a second severity from the same calling line: the node's throttled log
    sends info, warning and error lines through one instance (the first info line of the bearing
    followed by a stamps-went-back warning ended tracker_node before this was fixed)."""
    import rclpy.logging

    from fcot_ros.ros.throttled_log import ThrottledLog
    limited = ThrottledLog(rclpy.logging.get_logger("fcot_test_severities"), period=0.0)
    for kind, level in (("a", "info"), ("b", "warning"), ("c", "error"), ("d", "info"), ("e", "warning")):
        assert limited(kind, f"{level} line", level=level)
    with pytest.raises(ValueError, match="unknown log level"):
        limited("f", "x", level="verbose")


def test_launch_file_has_no_empty_value_arguments():
    """`ros2 launch` refuses `name:=` (empty value): every "leave it" choice must be a word."""
    src = (REPO / "launch" / "tracker.launch.py").read_text()
    assert "fastdds_profile:=''" not in src and "fastdds_profile:=env" in src
    for name in ("image_topic", "params_file", "namespace", "fastdds_profile", "model", "use_sim_time",
                 "log_level"):
        assert f'DeclareLaunchArgument("{name}"' in src, name
