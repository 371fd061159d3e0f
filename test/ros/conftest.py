"""Fixtures of the ROS tests: real rclpy, the colcon-installed tracker_node in separate processes.

Network safety: this process and every process it starts use loopback-only DDS
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST + config/fastdds_localhost.xml) and a ROS_DOMAIN_ID of their
own. Every process a test starts is stopped by its PID in a finally block, even when the test fails.

Model: the node's default model, fcot_lite, always (FCOT_TEST_MODEL=<model> chooses another one
explicitly, for work on the ROS layer). If it cannot be built here the tests fail with the reason;
they never swap in another tracker.
"""
import os
from pathlib import Path

import pytest
from ros_helpers import _DOMAIN_BASE, REPO, TRACKER_NODE, Proc

from fcot_ros.tools.ros.launcher import node_args, replay_args

REQUIRE = bool(os.environ.get("FCOT_REQUIRE_ROS") or os.environ.get("CI"))


def _ros_available():
    try:
        import rclpy  # noqa: F401

        import fcot_ros.msg  # noqa: F401
        import fcot_ros.srv  # noqa: F401
    except ImportError as e:
        return f"{e} (run: source scripts/setup_env.sh)"
    if not TRACKER_NODE.is_file():
        return f"{TRACKER_NODE} is missing (run: bash scripts/setup_env.sh)"
    return None


def _extend_fcot_ros_path():
    """If the source tree's fcot_ros was imported (repo root on sys.path), let it find the generated
    fcot_ros.msg / fcot_ros.srv of the colcon install too."""
    import fcot_ros
    site = REPO / "install" / "fcot_ros" / "lib"
    for cand in site.glob("python3*/site-packages/fcot_ros"):
        if str(cand) not in fcot_ros.__path__:
            fcot_ros.__path__.append(str(cand))


_extend_fcot_ros_path()
_WHY_NOT = _ros_available()


def pytest_collection_modifyitems(config, items):
    # Outside scripts/test.sh and CI (FCOT_REQUIRE_ROS / CI unset), a shell without the ROS
    # environment skips these tests; with it required they run and fail.
    if _WHY_NOT is None or REQUIRE:
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here) and "no_ros" not in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"no ROS environment: {_WHY_NOT}"))


def pytest_configure(config):
    config.addinivalue_line("markers", "no_ros: test of the ROS layer that needs no rclpy")


@pytest.fixture(scope="session", autouse=True)
def _loopback_only():
    """This process's own DDS participants stay on loopback too."""
    from fcot_ros.tools.ros.rosenv import localhost_env
    saved = dict(os.environ)
    os.environ.update(localhost_env(_DOMAIN_BASE))
    os.environ.pop("FASTRTPS_DEFAULT_PROFILES_FILE", None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def test_model():
    """fcot_lite, built once here so that a broken install fails every node test with its reason
    (FCOT_TEST_MODEL=<model> overrides the choice, explicitly)."""
    from fcot_ros import build_tracker
    model = os.environ.get("FCOT_TEST_MODEL") or "fcot_lite"
    build_tracker(model=model, backend="torch")      # raises, with the reason, if it cannot be built
    return model


@pytest.fixture
def procs(tmp_path, started):
    """Start helper: procs.node(**params) / procs.replay(...); all stopped at teardown (``started``)."""

    class Starter:
        def node(self, domain_id, name="node", **params):
            p = Proc(node_args(params, TRACKER_NODE), domain_id, tmp_path / f"{name}.log", tmp_path)
            started.append(p)
            return p

        def replay(self, domain_id, frames, name="replay", **opts):
            p = Proc(replay_args(frames, **opts), domain_id, tmp_path / f"{name}.log", tmp_path)
            started.append(p)
            return p

    return Starter()


@pytest.fixture
def started():
    """Processes a test starts itself (list.append); stopped (SIGINT, then SIGKILL) in reverse order
    at teardown, also when the test fails."""
    procs = []
    try:
        yield procs
    finally:
        for p in reversed(procs):
            try:
                p.stop()
            except Exception:
                pass


@pytest.fixture
def ros_client():
    """Factory for TrackClient nodes in this process, each in its own rclpy context and domain."""
    import rclpy

    from fcot_ros.tools.ros.client import TrackClient
    made = []

    def make(domain_id, **kw):
        ctx = rclpy.Context()
        rclpy.init(context=ctx, domain_id=domain_id)
        client = TrackClient(context=ctx, **kw)
        made.append((client, ctx))
        return client

    try:
        yield make
    finally:
        for client, ctx in reversed(made):
            try:
                client.close()
            finally:
                rclpy.try_shutdown(context=ctx)
