#!/usr/bin/env python3
"""Executable installed as lib/fcot_ros/follow_controller (launch/follow_demo.launch.py): a thin wrapper, so that
the installed copy never goes stale (fcot_ros/tools/ros/follow_controller.py holds the code)."""
import sys

from fcot_ros.tools.ros.follow_controller import main

if __name__ == "__main__":
    sys.exit(main())
