"""Classical trackers behind the fcot_ros tracker API (the peers a ROS user would otherwise pick)."""
