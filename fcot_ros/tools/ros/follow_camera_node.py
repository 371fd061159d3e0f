#!/usr/bin/env python3
"""Executable installed as lib/fcot_ros/follow_camera (launch/follow_demo.launch.py): a thin wrapper, so that
the installed copy never goes stale (fcot_ros/tools/ros/follow_camera.py holds the code)."""
import sys

from fcot_ros.tools.ros.follow_camera import main

if __name__ == "__main__":
    sys.exit(main())
