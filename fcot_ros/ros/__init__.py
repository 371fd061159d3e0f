"""ROS 2 face of fcot_ros: the tracker node and its helpers.

The only layer that imports rclpy. Modules that do not need rclpy (image conversion, ring buffer,
latest-frame slot, statistics, overlay, throttled log, tracking loop) import without it so that they can be
unit-tested anywhere.
"""
