#!/usr/bin/env bash
# The main job, no camera needed: set up the environment if needed, start tracker_node and a replay
# publisher (a generated 640x480 clip at 30 Hz, or --frames DIR), call track/init with the first box,
# print the boxes, confidence, rate and latency the node publishes.
#   bash scripts/demo.sh                                  # fcot_lite, 40 s
#   bash scripts/demo.sh --model opencv_csrt --video out/demo.mp4
#   bash scripts/demo.sh --frames ../shared/data/sequences/vot_car1 --duration 15
# All DDS traffic stays on this machine (loopback-only profile, a ROS_DOMAIN_ID of its own).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FCOT_SETUP_QUIET=1 bash "$repo/scripts/setup_env.sh"
set +u
# shellcheck disable=SC1091
FCOT_SETUP_QUIET=1 source "$repo/scripts/setup_env.sh"
set -u
mkdir -p "$repo/out"
cd "$repo/out"     # not the repo root: the source tree's fcot_ros must not shadow the installed one
exec python -m fcot_ros.tools.ros.demo --workdir "$repo/out/demo" "$@"
