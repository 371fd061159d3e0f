"""Start fcot_ros tracker_node.

    ros2 launch fcot_ros tracker.launch.py image_topic:=/camera/image_raw
    ros2 launch fcot_ros tracker.launch.py namespace:=drone1 params_file:=/path/my_tracker.yaml
    ros2 launch fcot_ros tracker.launch.py fastdds_profile:=''      # keep the environment's Fast DDS setup

Arguments:
  image_topic      topic the node's `image` input is remapped to (with image_transport:=compressed
                   the node subscribes <image_topic>/compressed)
  params_file      parameter file (default: share/fcot_ros/config/tracker.yaml)
  namespace        namespace of the node (its topics and services move with it)
  fastdds_profile  Fast DDS XML profile set as FASTDDS_DEFAULT_PROFILES_FILE (and the pre-Kilted
                   FASTRTPS_DEFAULT_PROFILES_FILE) for the node. Default: config/fastdds_shm.xml,
                   a 16 MiB shared-memory segment so that full-size images arrive between processes.
                   The camera driver must use a profile with the same segment size. '' = unchanged.
  model            overrides the parameter file's model ('' = keep it)
  log_level        ros log level of the node
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def _node(context):
    profile = LaunchConfiguration("fastdds_profile").perform(context)
    model = LaunchConfiguration("model").perform(context)
    actions = []
    if profile:
        actions.append(SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", profile))
        if os.environ.get("ROS_DISTRO", "") in ("humble", "iron", "jazzy"):
            actions.append(SetEnvironmentVariable("FASTRTPS_DEFAULT_PROFILES_FILE", profile))
    params = [LaunchConfiguration("params_file").perform(context)]
    if model:
        params.append({"model": model})
    actions.append(Node(
        package="fcot_ros",
        executable="tracker_node",
        name="tracker",
        namespace=LaunchConfiguration("namespace"),
        parameters=params,
        remappings=[("image", LaunchConfiguration("image_topic"))],
        arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
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
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument("fastdds_profile",
                              default_value=os.path.join(share, "config", "fastdds_shm.xml"),
                              description="Fast DDS XML profile for the node ('' = leave as is)"),
        DeclareLaunchArgument("model", default_value="", description="override the model parameter"),
        DeclareLaunchArgument("log_level", default_value="info", description="log level"),
        OpaqueFunction(function=_node),
    ])
