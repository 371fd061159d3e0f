"""ROS 2 tools: a loopback-only DDS environment (rosenv), processes started and stopped by PID
(launcher), a replay publisher, a synthetic clip, a client of the node's interface, the demo and the
node load test (node_load), with the set-up and teardown they share (session). They import rclpy
(the library's only other rclpy user is fcot_ros.ros)."""
