"""Start fcot_ros tracker_node.

    ros2 launch fcot_ros tracker.launch.py image_topic:=/camera/image_raw
    ros2 launch fcot_ros tracker.launch.py namespace:=drone1 params_file:=/path/my_tracker.yaml
    ros2 launch fcot_ros tracker.launch.py fastdds_profile:=env     # keep the environment's Fast DDS setup

Arguments (`ros2 launch` refuses empty values such as `name:=''`, so every "leave it" choice is a word):
  image_topic      topic the node's `image` input is remapped to (with image_transport:=compressed
                   the node subscribes <image_topic>/compressed)
  params_file      parameter file (default: share/fcot_ros/config/tracker.yaml)
  namespace        namespace of the node (its topics and services move with it); default: none
  fastdds_profile  Fast DDS XML profile set as FASTDDS_DEFAULT_PROFILES_FILE (and the pre-Kilted
                   FASTRTPS_DEFAULT_PROFILES_FILE) for the node. Default: config/fastdds_shm.xml,
                   a 16 MiB shared-memory segment so that full-size images arrive between processes.
                   The camera driver must use a profile with the same segment size.
                   env (or none, or an empty value from an including launch file) = leave the
                   environment's setting unchanged.
  model            overrides the parameter file's model (default: keep the file's)
  use_sim_time     true: the node's clock follows /clock (latency and the diagnostics' stamps);
                   false (default): the parameter file decides (tracker.yaml: not set = false)
  log_level        ros log level of the node (debug, info, warn, error, fatal)
  lifecycle        true: the managed (lifecycle) variant, tracker_lifecycle_node, which starts
                   unconfigured (`ros2 lifecycle set /tracker configure`, then `activate`);
                   false (default): the plain node, tracking-ready at start
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

KEEP_PROFILE = ("", "env", "none")          # fastdds_profile values that leave the environment's
KEEP_MODEL = ("", "file")                   # model values that keep the parameter file's
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


def _node(context):
    profile = LaunchConfiguration("fastdds_profile").perform(context).strip()
    model = LaunchConfiguration("model").perform(context).strip()
    params_file = LaunchConfiguration("params_file").perform(context)
    level = LaunchConfiguration("log_level").perform(context).strip().lower()
    sim_time = LaunchConfiguration("use_sim_time").perform(context).strip().lower()
    lifecycle = LaunchConfiguration("lifecycle").perform(context).strip().lower()
    if lifecycle not in ("true", "false"):
        raise RuntimeError(f"lifecycle {lifecycle!r}: true or false")
    if not os.path.isfile(params_file):
        raise RuntimeError(f"params_file {params_file!r} does not exist")
    if level not in LOG_LEVELS:
        raise RuntimeError(f"log_level {level!r}: choose one of {', '.join(LOG_LEVELS)}")
    if sim_time not in ("true", "false"):
        raise RuntimeError(f"use_sim_time {sim_time!r}: true or false")
    actions = []
    if profile.lower() not in KEEP_PROFILE:
        if not os.path.isfile(profile):
            raise RuntimeError(f"fastdds_profile {profile!r} does not exist (env = keep the environment's)")
        actions.append(SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", profile))
        if os.environ.get("ROS_DISTRO", "") in ("humble", "iron", "jazzy"):
            actions.append(SetEnvironmentVariable("FASTRTPS_DEFAULT_PROFILES_FILE", profile))
    params = [params_file]
    if sim_time == "true":          # false: leave the parameter file's setting (default false)
        params.append({"use_sim_time": True})
    if model.lower() not in KEEP_MODEL:
        params.append({"model": model})
    namespace = LaunchConfiguration("namespace").perform(context).strip()
    actions.append(Node(
        package="fcot_ros",
        executable="tracker_lifecycle_node" if lifecycle == "true" else "tracker_node",
        name="tracker",
        namespace=namespace.strip("/") if namespace else "",
        parameters=params,
        remappings=[("image", LaunchConfiguration("image_topic"))],
        ros_arguments=["--log-level", level],
        output="screen",
        emulate_tty=True,
    ))
    return actions


def generate_launch_description():
    share = get_package_share_directory("fcot_ros")
    return LaunchDescription([
        DeclareLaunchArgument("image_topic", default_value="/camera/image_raw",
                              description="image topic to track in"),
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "tracker.yaml"),
                              description="parameter file"),
        DeclareLaunchArgument("namespace", default_value="", description="node namespace (default: none)"),
        DeclareLaunchArgument("fastdds_profile",
                              default_value=os.path.join(share, "config", "fastdds_shm.xml"),
                              description="Fast DDS XML profile for the node (env = leave the environment's)"),
        DeclareLaunchArgument("model", default_value="file",
                              description="override the model parameter (file = keep the parameter file's)"),
        DeclareLaunchArgument("use_sim_time", default_value="false", description="follow /clock (true/false)"),
        DeclareLaunchArgument("log_level", default_value="info", description="log level: " + ", ".join(LOG_LEVELS)),
        DeclareLaunchArgument("lifecycle", default_value="false",
                              description="true: the managed node (ros2 lifecycle set /tracker configure, activate)"),
        OpaqueFunction(function=_node),
    ])
