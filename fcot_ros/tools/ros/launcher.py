"""Start tracker_node and the replay publisher as separate processes (demo, node load test, tests).

Without the ros2 CLI or launch (no wheels for them), the processes are started with subprocess in a
loopback-only DDS environment (fcot_ros.tools.ros.rosenv) and always stopped by their own PID.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def tracker_node_executable() -> Path:
    """lib/fcot_ros/tracker_node of the colcon install this module was imported from (or the repo's)."""
    try:
        from ament_index_python.packages import get_package_prefix
        exe = Path(get_package_prefix("fcot_ros")) / "lib" / "fcot_ros" / "tracker_node"
        if exe.is_file():
            return exe
    except Exception:  # ament index not on the path
        pass
    return Path(__file__).resolve().parents[2] / "install" / "fcot_ros" / "lib" / "fcot_ros" / "tracker_node"


class ManagedProcess:
    """A child process with its output in a log file, stopped by PID (SIGINT, then SIGKILL)."""

    def __init__(self, args, env: dict, log_path, cwd=None):
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=str(cwd) if cwd else None, start_new_session=True)
        self.pid = self.proc.pid

    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.proc.poll() is None

    def log(self) -> str:
        """Everything the process has written to its log so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` appears in the output (False on timeout or exit without it)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.log():
                return True
            if not self.alive():
                return text in self.log()
            time.sleep(0.1)
        return False

    def stop(self, timeout: float = 30.0):
        """SIGINT (clean shutdown), SIGKILL after ``timeout`` s; returns the exit code.

        The timeout leaves tracker_node time to finish a tracking step in progress."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGINT)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


def node_args(params: dict, executable=None, params_file="default") -> list:
    """Command line of tracker_node: the parameter file (default: the package's config/tracker.yaml,
    None = none), then ``params`` as -p name:=value overrides."""
    args = [sys.executable, str(executable or tracker_node_executable()), "--ros-args"]
    if params_file == "default":
        from fcot_ros.tools.ros.rosenv import config_dir
        params_file = config_dir() / "tracker.yaml"
    if params_file:
        args += ["--params-file", str(params_file)]
    for k, v in params.items():
        v = str(v).lower() if isinstance(v, bool) else v
        args += ["-p", f"{k}:={v}"]
    return args


def replay_args(frames, **opts) -> list:
    """Command line of the replay publisher; opts map to --long-options (True = bare flag)."""
    args = [sys.executable, "-m", "fcot_ros.tools.ros.replay", "--frames", str(frames)]
    for k, v in opts.items():
        if v is None or v is False:
            continue
        args.append(f"--{k.replace('_', '-')}")
        if v is not True:
            args.append(str(v))
    return args
