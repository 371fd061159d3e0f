"""Parameters of tracker_node: names, defaults, descriptions, ranges. This table is their one home:
config/tracker.yaml restates the defaults for users to edit, and test_ros_package checks that it
holds exactly these names and defaults.

All are read-only (restart the node to change them): the model is built once at start-up.
"""
from dataclasses import dataclass

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType

from fcot_ros.assembly.registry import BACKENDS, MODEL_NAMES, MODELS
from fcot_ros.contract.size_policy import SIZE_CHANGE_POLICIES
from fcot_ros.errors import ConfigurationError
from fcot_ros.tracker.dsiam_params import PRESETS as DSIAM_PRESETS
from fcot_ros.tracker.params import PRESETS

TIME_JUMP_POLICIES = ("continue", "stop")


@dataclass(frozen=True)
class Spec:
    """One node parameter: default value, description, allowed choices and numeric range (low, high)."""

    default: object
    description: str
    choices: tuple = ()
    low: float = None
    high: float = None


SPECS = {
    "model": Spec("fcot_lite", "Tracker model: " + "; ".join(f"{m.name} ({m.description})" for m in MODELS.values()),
                  MODEL_NAMES),
    "backend": Spec("auto", "Runtime of the feature network.", BACKENDS),
    "weights": Spec("", "Checkpoint file (ours or the authors' fcot.pth); empty = built-in weights. For "
                    "opencv_nano: the folder of NanoTrack v2's two ONNX files (empty: $FCOT_NANO_DIR)."),
    "preset": Spec("default", "Tracker parameter preset (fcot_ros.tracker.params.PRESETS; dsiam_lite: "
                   "fcot_ros.tracker.dsiam_params.PRESETS).",
                   tuple(PRESETS) + tuple(p for p in DSIAM_PRESETS if p not in PRESETS)),
    "device": Spec("", "cpu | cuda; empty = automatic."),
    "image_transport": Spec("raw", "raw: subscribe <image> (sensor_msgs/Image); compressed: subscribe "
                            "<image>/compressed (sensor_msgs/CompressedImage).", ("raw", "compressed")),
    "image_qos": Spec("sensor_data", "QoS of the image subscription: sensor_data (best effort, volatile) "
                      "or reliable.", ("sensor_data", "reliable")),
    "image_queue_depth": Spec(1, "History depth of the image subscription. Frames the tracker cannot "
                              "keep up with are dropped, never queued, whatever this is.", low=1, high=100),
    "buffer_size": Spec(45, "Recent frames kept for track/init on a past frame (by stamp): 45 = 1.5 s at "
                        "30 Hz. The buffer keeps filling while a model is being built (initialisation "
                        "runs off the image thread). Memory: buffer_size x one image (1280x720 bgr8: 2.8 MB).",
                        low=1, high=600),
    "init_stamp_tolerance_ms": Spec(0.0, "track/init stamp lookup: accept the nearest buffered frame within "
                                    "this many ms (0 = exact match).", low=0.0, high=1000.0),
    "time_jump_policy": Spec("continue", "Image stamps that go back (bag loop, sim-time reset, a driver "
                             "restart): continue = keep tracking, in arrival order; stop = end tracking "
                             "(one IDLE TrackedTarget, as track/stop) until the next track/init. Either way "
                             "the jump is logged and counted (diagnostics stamps_backwards). Zero and repeated "
                             "stamps are always tracked, in arrival order, logged and counted "
                             "(frames_unstamped, stamps_repeated).", TIME_JUMP_POLICIES),
    "image_size_change": Spec("lost", "A frame whose size differs from the init image's while tracking: "
                              "lost = stop tracking with state LOST (a LOST TrackedTarget for every frame, "
                              "last box, confidence 0) until the next track/init or track/stop; rescale = "
                              "trackers that can (FCOT models) scale their state to the new size when the "
                              "aspect ratio is kept (a pure resolution change), else LOST; OpenCV models "
                              "always stop (lost). (fcot_ros.contract.size_policy)",
                              SIZE_CHANGE_POLICIES),
    "refusal_log_period_s": Spec(2.0, "Refused frames are logged at most once per this many seconds per "
                                 "kind of refusal (encoding, step, size, empty, decode), with the number "
                                 "refused since; every refusal is counted in /diagnostics.",
                                 low=0.0, high=3600.0),
    "camera_info_topic": Spec("", "sensor_msgs/CameraInfo topic for track/bearing; empty = the image topic's "
                              "sibling, as image_transport finds it (/cam/image -> /cam/camera_info)."),
    "camera_info_stamp_tolerance_ms": Spec(10.0, "A frame's CameraInfo is the one with its stamp, else the "
                                           "nearest within this many ms; none: no bearing for that frame (the "
                                           "box is published all the same). A static calibration published "
                                           "rarely needs a large value.", low=0.0, high=3.6e6),
    "image_rectified": Spec(False, "The images are rectified (image_rect): the bearing uses CameraInfo's P and "
                            "R, no distortion; false: raw images, K and D (plumb_bob, rational_polynomial, "
                            "equidistant)."),
    "publish_debug_image": Spec(True, "Publish track/debug_image (drawn only while someone subscribes)."),
    "diagnostics_period_s": Spec(1.0, "Period of /diagnostics messages.", low=0.1, high=60.0),
    "stats_window_s": Spec(5.0, "Window of the rate and latency figures in /diagnostics.", low=1.0, high=120.0),
    "torch_threads": Spec(1, "Intra-op threads of the tracker's torch work (online optimizers, score maps, "
                          "box decoding; the feature network runs in ONNX Runtime's own pool, "
                          "FCOT_ORT_THREADS). 1: on a small CPU shared with the image transport, "
                          "multi-threaded torch steps stall whenever one of their threads is descheduled "
                          "(docs/ros.md, measured figures). 0 = torch's default (one per core).",
                          low=0, high=64),
    "warmup": Spec(True, "Run the tracker once on a synthetic image at start-up so that the first real "
                   "frame is not slowed by lazy initialisation."),
    "simulated_delay_ms": Spec(0.0, "Testing only: sleep this long in every tracking step to emulate a slow "
                               "tracker (latest-frame policy).", low=0.0, high=5000.0),
}


def _descriptor(name: str, spec: Spec) -> ParameterDescriptor:
    d = ParameterDescriptor(name=name, description=spec.description, read_only=True)
    if spec.choices:
        d.additional_constraints = "one of: " + ", ".join(spec.choices)
    if isinstance(spec.default, bool):
        d.type = ParameterType.PARAMETER_BOOL
    elif isinstance(spec.default, int):
        d.type = ParameterType.PARAMETER_INTEGER
        if spec.low is not None:
            d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
    elif isinstance(spec.default, float):
        d.type = ParameterType.PARAMETER_DOUBLE
        if spec.low is not None:
            d.floating_point_range = [FloatingPointRange(from_value=float(spec.low),
                                                         to_value=float(spec.high), step=0.0)]
    else:
        d.type = ParameterType.PARAMETER_STRING
    return d


def declare(node):
    """Declare every parameter on ``node`` (read-only, with description and range); rclpy itself
    rejects values outside the declared ranges or of the wrong type."""
    for name, spec in SPECS.items():
        node.declare_parameter(name, spec.default, _descriptor(name, spec))


def read(node) -> dict:
    """{name: value} of the declared parameters; raises ConfigurationError (a ValueError) on a bad
    choice."""
    values = {}
    for name, spec in SPECS.items():
        values[name] = node.get_parameter(name).value
        if spec.choices and values[name] not in spec.choices:
            raise ConfigurationError(f"parameter {name}={values[name]!r}: must be one of {spec.choices}")
    return values


def declare_and_read(node) -> dict:
    """declare(node), then read(node): the plain node reads its parameters once, at construction."""
    declare(node)
    return read(node)
