#!/usr/bin/env python3
"""Executable installed as lib/fcot_ros/tracker_node (`ros2 run fcot_ros tracker_node`)."""
from fcot_ros.ros.node import main

if __name__ == "__main__":
    main()
