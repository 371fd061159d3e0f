"""Measure tracker_node end to end: a 30 Hz 640x480 stream in, TrackedTarget out.

    python -m fcot_ros.tools.ros.node_load --model fcot_lite --duration 60 --out out/bench
    python -m fcot_ros.tools.ros.node_load --duration 600 --out out/soak      # 10-minute memory run

Processes as on a robot: tracker_node, the replay publisher and this client are three processes;
all DDS traffic stays on loopback. Reports
  - end-to-end latency: image header stamp (set by the publisher when it publishes) -> TrackedTarget
    received here (median, p99, max),
  - delivered rate (TrackedTarget per second) against the published rate,
  - frames dropped by the node's latest-frame policy (from its /diagnostics),
  - the node's resident memory: sampled every second (VmRSS) and its peak (VmHWM), with the slope of a
    straight line through the samples after the first minute (MB/min) to show whether it stays flat.
  - time per stage inside the node, median / p99 ms over the run (its /diagnostics stage_* values,
    with stats_window_s covering the run): wait (frame arrival -> step start), convert (message ->
    BGR array), track (the tracker's step; of it crop, network, optimizers, decode), publish, debug,
  - the slowest tracking step in the 2 s after each track/init (diagnostics post_init_step_max_ms;
    --reinit-every S re-initialises on the latest frame every S seconds to sample more inits).
Writes summary.json and rss.csv (t_s, rss_mb) under --out.

--node-param NAME=VALUE passes a parameter to tracker_node (repeatable), --node-env NAME=VALUE an
environment variable (e.g. OMP_NUM_THREADS=1), to compare settings with the same command.

--shm-segment-kb sets the shared-memory segment of a generated loopback-only Fast DDS profile for all
three processes (default: the shipped config/fastdds_localhost.xml, 16 MiB); 512 = Fast DDS's default,
to see what the default does to 640x480 images.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _profile_with_segment(path: Path, segment_kb: int) -> Path:
    from fcot_ros.tools.ros.rosenv import PROFILE_NAME, config_dir
    text = (config_dir() / PROFILE_NAME).read_text()
    text = text.replace("<segment_size>16777216</segment_size>",
                        f"<segment_size>{segment_kb * 1024}</segment_size>")
    path.write_text(text)
    return path


def parse_args(argv=None):
    """The load test's command line (see the module's docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="fcot_lite")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--frames", default="", help="frames folder; default: generated 640x480 clip")
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of streaming after init")
    ap.add_argument("--out", default="out/bench")
    ap.add_argument("--shm-segment-kb", type=int, default=0)
    ap.add_argument("--no-init", action="store_true",
                    help="do not track: measure only delivery of images to the node (its image rate)")
    ap.add_argument("--domain-id", type=int, default=0)
    ap.add_argument("--reinit-every", type=float, default=0.0,
                    help="call track/init on the latest frame every this many seconds (0 = once, at the start)")
    ap.add_argument("--node-param", action="append", default=[], metavar="NAME=VALUE",
                    help="extra tracker_node parameter (repeatable)")
    ap.add_argument("--node-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment variable of tracker_node (repeatable)")
    ap.add_argument("--debug-image", action="store_true", help="also subscribe to track/debug_image")
    return ap.parse_args(argv)


def _name_values(items, into: dict) -> dict:
    """NAME=VALUE strings added to ``into`` (returned)."""
    for item in items:
        name, _, value = item.partition("=")
        into[name] = value
    return into


def measure(run, args, gt, first_stamp) -> dict:
    """Stream for --duration s after the first track/init (and every --reinit-every s): the node's
    memory sampled each second, the slowest step after each init. Returns the raw figures."""
    client, node = run.client, run.node
    post_init = []           # slowest step in the 2 s after each init (ms)
    pending = []             # monotonic times at which to read the post-init figure
    rss = []
    if not args.no_init:
        resp = client.init(gt[0], stamp_ns=first_stamp, timeout=300)
        if not resp.success:
            raise RuntimeError(resp.message)
        pending.append(time.monotonic() + 3.5)
    run.go()
    t0 = time.monotonic()
    next_init = t0 + args.reinit_every if args.reinit_every > 0 and not args.no_init else float("inf")
    n0 = client.count()
    diag_start = dict(client.diagnostics)
    print(f"streaming {args.size} at {args.rate:g} Hz for {args.duration:g} s (model {args.model})", flush=True)
    next_sample = t0
    while time.monotonic() - t0 < args.duration:
        if not node.alive():
            raise RuntimeError(f"tracker_node died:\n{node.log()[-3000:]}")
        now = time.monotonic()
        if now >= next_sample:
            rss.append((now - t0, _status_kb(node.pid, "VmRSS") / 1024))
            next_sample += 1.0
            if len(rss) % 60 == 0:
                d = client.diagnostics
                print(f"  t={now - t0:.0f}s rss={rss[-1][1]:.0f} MB out={d.get('tracked_rate_hz')} Hz "
                      f"latency med={d.get('latency_median_ms')} ms", flush=True)
        if pending and now >= pending[0]:
            pending.pop(0)
            value = float(client.diagnostics.get("post_init_step_max_ms", "nan"))
            post_init.append(value)
            print(f"  slowest step in the 2 s after init #{len(post_init)}: {value:.0f} ms", flush=True)
        if now >= next_init and not pending:
            last = client.targets_since(max(client.count() - 1, 0))
            box = (last[-1][1].x, last[-1][1].y, last[-1][1].width, last[-1][1].height) if last else gt[0]
            resp = client.init(box, timeout=300)          # the latest frame, the box just tracked
            if resp.success:
                pending.append(time.monotonic() + 3.5)
            next_init = time.monotonic() + args.reinit_every
        time.sleep(0.05)
    t_end = time.monotonic()
    peak_mb = _status_kb(node.pid, "VmHWM") / 1024
    diag = dict(client.diagnostics)
    run.replay.stop()
    return {"t0": t0, "t_end": t_end, "peak_mb": peak_mb, "diag": diag, "diag_start": diag_start,
            "results": client.targets_since(n0), "published": len(run.published()), "rss": rss,
            "post_init": post_init}


def summarise(m: dict, args, params: dict, rss_idle_mb: float) -> dict:
    """summary.json's content from measure()'s figures."""
    from fcot_ros.tools.ros.client import latency_ms
    diag, results, post_init = m["diag"], m["results"], m["post_init"]
    duration = m["t_end"] - m["t0"]
    lat = np.array([latency_ms(a, msg) for a, msg in results]) if results else np.array([np.nan])
    r = np.array(m["rss"])
    late = r[r[:, 0] >= min(60.0, args.duration / 2)]
    slope = float(np.polyfit(late[:, 0] / 60.0, late[:, 1], 1)[0]) if len(late) > 2 else float("nan")
    return {
        "model": diag.get("model"), "backend": diag.get("backend"),
        "size": args.size, "rate_hz": args.rate, "duration_s": round(duration, 1),
        "shm_segment_kb": args.shm_segment_kb or 16384,
        "frames_published": m["published"],
        "node_image_rate_hz": float(diag.get("image_rate_hz", "nan")),
        "frames_received_by_node": int(diag.get("frames_received", 0)) - int(m["diag_start"].get("frames_received", 0)),
        "results": len(results),
        "delivered_rate_hz": round(len(results) / duration, 2),
        "latency_median_ms": round(float(np.median(lat)), 1),
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 1),
        "latency_max_ms": round(float(np.max(lat)), 1),
        "track_step_median_ms": float(diag.get("track_step_median_ms", "nan")),
        "track_step_p99_ms": float(diag.get("track_step_p99_ms", "nan")),
        "stages_ms_median_p99": {k[len("stage_"):-len("_ms")]: v for k, v in diag.items()
                                 if k.startswith("stage_")},
        "post_init_step_max_ms": [round(v, 1) for v in post_init],
        "inits": len(post_init),
        "frames_dropped": int(diag.get("frames_dropped", 0)),
        "node_rss_idle_mb": round(rss_idle_mb, 1),
        "node_rss_first_mb": round(float(r[0, 1]), 1),
        "node_rss_last_mb": round(float(r[-1, 1]), 1),
        "node_rss_max_sampled_mb": round(float(r[:, 1].max()), 1),
        "node_peak_rss_mb": round(m["peak_mb"], 1),
        "rss_slope_mb_per_min_after_1min": round(slope, 3),
        "node_params": params, "node_env": args.node_env,
        "cpu_count": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
    }


def main(argv=None):
    """Run the load test; writes summary.json and rss.csv under --out; returns the exit code."""
    args = parse_args(argv)
    from fcot_ros.tools.ros.launcher import node_args
    from fcot_ros.tools.ros.session import NodeSession, loopback_env, prepare_clip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile = _profile_with_segment(out / "fastdds_profile.xml", args.shm_segment_kb) if args.shm_segment_kb else None
    domain, env = loopback_env(args.domain_id, profile)
    clip, gt = prepare_clip(args.frames, out, size=[int(v) for v in args.size.split("x")])
    params = _name_values(args.node_param, {"model": args.model, "backend": args.backend,
                                            "stats_window_s": float(min(120.0, max(5.0, args.duration + 5.0)))})
    try:
        with NodeSession(out, domain, client_name="fcot_bench", debug_images=args.debug_image) as run:
            run.start_node(node_args(params), _name_values(args.node_env, dict(env)))
            if run.wait_ready(timeout=300.0, ready_timeout=300.0) is None:
                raise RuntimeError(f"tracker_node did not start:\n{run.node.log()[-3000:]}")
            rss_idle_mb = _status_kb(run.node.pid, "VmRSS") / 1024
            run.start_replay(clip, env, rate=args.rate, size=args.size, loop="pingpong",
                             duration=args.duration + 3600)
            first_stamp = run.wait_first_frame(timeout=30.0)
            figures = measure(run, args, gt, first_stamp)
        summary = summarise(figures, args, params, rss_idle_mb)
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        with open(out / "rss.csv", "w") as f:
            f.write("t_s,rss_mb\n")
            f.writelines(f"{t:.1f},{m:.1f}\n" for t, m in figures["rss"])
        print(json.dumps(summary, indent=1))
        return 0
    except RuntimeError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
