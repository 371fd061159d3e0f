"""The closed-loop follow demo: no hardware, CPU, the shipped weights.

    ros2 launch fcot_ros follow_demo.launch.py [duration:=20] [frames:=/path/to/sequence] [out:=out/follow]

A virtual pan-tilt camera (follow_camera: a magnified window onto a real sequence, uav_boat1 from
../shared when it is there, else the generated clip) publishes /pantilt/image and
/pantilt/camera_info and plays the operator (track/init with the target's true box); tracker_node
tracks and publishes track/bearing; follow_controller turns the head from the bearing (a PD law on
azimuth and elevation, on gimbal/rate_cmd). When the camera has played --duration s it prints the
share of frames whose target centre stays within the central 20% of the view (beside a camera held
still), writes follow.png, follow.mp4, follow.csv and report.json to `out`, and the launch ends.

Every process of the demo stays on this machine: loopback-only DDS (config/fastdds_localhost.xml,
ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) in the environment's ROS_DOMAIN_ID, or 42 when none is set.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    OpaqueFunction,
    RegisterEventHandler,
    SetEnvironmentVariable,
)
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription


def _nodes(context):
    share = get_package_share_directory("fcot_ros")
    out = os.path.abspath(LaunchConfiguration("out").perform(context))
    camera_args = ["--duration", LaunchConfiguration("duration").perform(context), "--out", out]
    frames = LaunchConfiguration("frames").perform(context).strip()
    if frames and frames != "default":
        camera_args += ["--frames", os.path.abspath(frames)]
    camera = Node(package="fcot_ros", executable="follow_camera", name="follow_camera", arguments=camera_args,
                  output="screen", emulate_tty=True)
    tracker = Node(package="fcot_ros", executable="tracker_node", name="tracker",
                   parameters=[os.path.join(share, "config", "tracker.yaml"),
                               {"model": LaunchConfiguration("model").perform(context)}],
                   remappings=[("image", "/pantilt/image")], output="screen", emulate_tty=True)
    controller = Node(package="fcot_ros", executable="follow_controller", name="follow_controller",
                      output="screen", emulate_tty=True)
    return [
        SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST"),
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", os.path.join(share, "config", "fastdds_localhost.xml")),
        SetEnvironmentVariable("ROS_DOMAIN_ID", os.environ.get("ROS_DOMAIN_ID") or "42"),
        tracker, controller, camera,
        RegisterEventHandler(OnProcessExit(target_action=camera, on_exit=[EmitEvent(event=Shutdown(
            reason="follow demo finished"))])),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("duration", default_value="20", description="seconds of play after the init"),
        DeclareLaunchArgument("frames", default_value="default",
                              description="sequence folder (default: uav_boat1 of ../shared, else generated)"),
        DeclareLaunchArgument("out", default_value="out/follow", description="output folder"),
        DeclareLaunchArgument("model", default_value="fcot_lite", description="tracker model"),
        OpaqueFunction(function=_nodes),
    ])
