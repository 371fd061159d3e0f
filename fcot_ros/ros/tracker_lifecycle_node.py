#!/usr/bin/env python3
"""Executable installed as lib/fcot_ros/tracker_lifecycle_node (`ros2 run fcot_ros tracker_lifecycle_node`):
tracker_node as a managed node (configure, activate, deactivate, cleanup with `ros2 lifecycle set`)."""
from fcot_ros.ros.lifecycle_node import main

if __name__ == "__main__":
    main()
