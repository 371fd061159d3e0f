"""The /diagnostics status of tracker_node, built from its parts' counters and statistics.

Level and message: ERROR when no tracker could be built; WARN with no image yet, while stopped by an
image size change, or while the target is lost; else OK. Values: the keys listed in docs/ros.md
("Interface", /diagnostics); rates in Hz, latencies and step times in ms (median/p99 per stage).
"""
import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

from fcot_ros.msg import TrackedTarget
from fcot_ros.ros.outputs import STATE_NAMES


def _level(session, intake, topic, unavailable):
    if unavailable:
        return DiagnosticStatus.ERROR, unavailable
    if intake.received.count == 0:
        return DiagnosticStatus.WARN, f"no image received on {topic}"
    if session.size_lost is not None:
        return DiagnosticStatus.WARN, "target lost: image size changed"
    if session.state == TrackedTarget.LOST:
        return DiagnosticStatus.WARN, "target lost"
    if session.state == TrackedTarget.UNCERTAIN:
        return DiagnosticStatus.OK, "tracking (uncertain)"
    return DiagnosticStatus.OK, STATE_NAMES[session.state]


def build_status(name: str, model_name: str, backend_name: str, session, intake, services, params: dict,
                 use_sim_time: bool, cameras=None) -> DiagnosticStatus:
    """DiagnosticStatus ``name`` of the node from its TrackingSession, Intake, TrackServices and
    CameraInfoStore (bearing figures; None: left out)."""
    state = session.state
    med, p99, mx = session.tracked.latency()
    step_med, step_p99, step_max = session.track_ms.latency()
    status = DiagnosticStatus(name=name, hardware_id=f"{model_name}/{backend_name}")
    status.level, status.message = _level(session, intake, intake.topic, services.unavailable)
    values = {
        "state": STATE_NAMES[state],
        "model": model_name,
        "backend": backend_name,
        "image_rate_hz": f"{intake.received.rate():.2f}",
        "tracked_rate_hz": f"{session.tracked.rate():.2f}",
        "latency_median_ms": f"{med:.1f}",
        "latency_p99_ms": f"{p99:.1f}",
        "latency_max_ms": f"{mx:.1f}",
        "track_step_median_ms": f"{step_med:.1f}",
        "track_step_p99_ms": f"{step_p99:.1f}",
        "track_step_max_ms": f"{step_max:.1f}",
        "post_init_step_max_ms": f"{session.post_init_max_ms:.1f}",
        "frames_received": str(intake.received.count),
        "frames_tracked": str(session.tracked.count),
        "frames_dropped": str(intake.slot.dropped),
        "frames_refused": str(intake.refused),
        "frames_unstamped": str(intake.unstamped),
        "stamps_repeated": str(intake.repeated),
        "stamps_backwards": str(intake.backwards),
        "frames_resent": str(session.duplicates),
        "image_size_changes": str(session.size_changes),
        "inits_ok": str(services.inits_ok),
        "inits_failed": str(services.inits_failed),
        "initializing": str(session.initializing).lower(),
        "tracker_errors": str(session.tracker_errors),
        "time_jump_policy": params["time_jump_policy"],
        "image_size_change": params["image_size_change"],
        "use_sim_time": str(use_sim_time).lower(),
        "track_id": str(session.track_id),
        "track_events": str(session.out.events),
    }
    if cameras is not None:
        values.update({"camera_info_topic": cameras.topic, "camera_info_received": str(cameras.received),
                       "camera_info_unusable": str(cameras.unusable), "bearings_published": str(cameras.bearings),
                       "frames_without_bearing": str(cameras.without_bearing),
                       "bearing_problem": cameras.problem or "-"})
    for stage, st in session.stages.items():
        s_med, s_p99, _ = st.latency()
        if not np.isnan(s_med):
            values[f"stage_{stage}_ms"] = f"{s_med:.1f}/{s_p99:.1f}"
    status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
    return status
