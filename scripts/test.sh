#!/usr/bin/env bash
# The project's test command (README, .ci/run): set up the environment (idempotent), then run the whole
# suite (test/core, test/evaluation, test/ros, ...) against the colcon-installed package.
#   bash scripts/test.sh [extra pytest args]      # e.g. test/training -k shipped: only those
#   bash scripts/test.sh --fast [...]             # the fast tier: everything not marked `slow`
#   bash scripts/test.sh --slow [...]             # the slow tier: ROS launches, training runs,
#                                                 # whole-sequence runs, ONNX exports (pyproject.toml)
# Exits with pytest's status.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
FCOT_SETUP_QUIET=1 bash scripts/setup_env.sh
set +u
# shellcheck disable=SC1091
FCOT_SETUP_QUIET=1 source scripts/setup_env.sh   # venv + install/setup.bash + loopback-only DDS
set -u
# Every ROS process of the suite stays on loopback: the ROS tests set their own ROS_DOMAIN_ID and
# profile per process; these are the fallbacks for anything else that starts rclpy.
export FCOT_REQUIRE_ROS=1
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export FASTDDS_DEFAULT_PROFILES_FILE="$repo/config/fastdds_localhost.xml"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID_TESTS:-$(( 10 + $$ % 80 ))}"
status=0
# `pytest`, not `python -m pytest`: the latter puts the repo root first on sys.path, and the source
# tree's fcot_ros (without the generated fcot_ros.msg/srv) would shadow the installed one.
# a path among the arguments (bash scripts/test.sh test/ros -k cli) narrows the run; else the whole suite
targets=(test/)
tier=()
args=()
for arg in "$@"; do
  case "$arg" in
    --fast) tier=(-m "not slow") ;;
    --slow) tier=(-m slow) ;;
    *) args+=("$arg") ;;
  esac
done
for arg in "${args[@]}"; do
  if [[ "$arg" != -* && -e "${arg%%::*}" ]]; then targets=(); break; fi
done
pytest "${targets[@]}" -p no:cacheprovider -q -rs "${tier[@]}" "${args[@]}" || status=$?
exit "$status"
