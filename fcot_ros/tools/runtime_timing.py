"""Side-by-side timing of the feature-network runtimes on this machine.

    python -m fcot_ros.tools.runtime_timing --models fcot_lite,fcot_r50 --backends torch,onnxruntime \
        --runs 30 --sequence ../shared/data/sequences/otb_Crossing --frames 60

1. Network only: ``runtime.extract`` on one real crop of the preset's size (224 for ``default``),
   ``--runs`` timed calls per backend after
   ``--warmup`` untimed ones. The backends are *interleaved* call by call, so that load from other
   processes on a shared machine hits all of them alike; median and 10-90 % range in ms.
2. End to end: one tracker per backend on the same frames, also interleaved frame by frame; median ms of
   each stage (crop, network, optimizers, decode), the mean of the optimizers stage (the periodic filter
   updates dominate it) and FPS = frames / total time of ``track()``.

fcot_r50 without ``--weights`` is timed with random weights (same cost as trained ones). Prints a
Markdown table; ``--json`` writes the raw numbers.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch


def _net(model, weights, preset="default"):
    """The network a tracker of ``preset`` runs: fcot_lite's shipped weights unless an untrained
    preset or explicit ``weights``; fcot_r50 without weights: seeded random ones (timing only)."""
    from fcot_ros.assembly import crop_settings, load_model, model_spec, resolve_weights
    from fcot_ros.models.fcot_model import build_model
    from fcot_ros.tracker.params import get_params
    crop = crop_settings(get_params(preset))         # the network at the preset's crop
    if model == "fcot_r50" and weights is None:
        torch.manual_seed(0)
        return build_model("fcot_r50", imagenet_backbone=False, **crop).eval()
    return load_model(model, resolve_weights(model_spec(model), weights, preset), **crop)


def _tracker(net, model, backend, preset):
    from fcot_ros.assembly import build_runtime
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    from fcot_ros.tracker.params import get_params
    runtime = build_runtime(backend, net, "cpu")
    return FCOTTracker(net, runtime, get_params(preset), model_name=model)


def _load_sequence(path, frames):
    import cv2
    path = Path(path)
    images = sorted((path / "img").glob("*.jpg"))[:frames]
    gt = np.loadtxt(path / "groundtruth.txt", delimiter=",", ndmin=2)
    return [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in images], tuple(float(v) for v in gt[0])


def _pct(values, q):
    return float(np.percentile(values, q))


def bench_model(model, backends, args):
    """Time ``model`` on each backend (network alone, then end to end, interleaved); one result row per backend."""
    net = _net(model, args.weights, args.preset)
    images, box = _load_sequence(args.sequence, args.frames)
    trackers = {b: _tracker(net, model, b, args.preset) for b in backends}
    names = {b: t.backend_name for b, t in trackers.items()}

    # 1. network only, interleaved
    import cv2
    x, y, w, h = box
    size = int(net.config.crop_size)          # the preset's crop (224 for `default`, 288 the network's own)
    crop = cv2.resize(images[0][max(0, int(y - h)):int(y + 2 * h), max(0, int(x - w)):int(x + 2 * w)], (size, size))
    crops = np.ascontiguousarray(crop[None])
    net_ms = {b: [] for b in backends}
    for i in range(args.warmup + args.runs):
        for b in backends:
            t0 = time.perf_counter()
            out = trackers[b].runtime.extract(crops)
            _ = float(out[0].reshape(-1)[0])  # make sure the work is done
            if i >= args.warmup:
                net_ms[b].append(1000 * (time.perf_counter() - t0))

    # 2. end to end, interleaved frame by frame
    stages = {b: {k: [] for k in ("crop", "network", "optimizers", "decode")} for b in backends}
    total = {b: 0.0 for b in backends}
    for b in backends:
        trackers[b].initialize(images[0], box)
    for image in images[1:]:
        for b in backends:
            t0 = time.perf_counter()
            result = trackers[b].track(image)
            total[b] += time.perf_counter() - t0
            for k in stages[b]:
                stages[b][k].append(float(result.timings.get(k, 0.0)))
    rows = []
    for b in backends:
        n = len(images) - 1
        rows.append({"model": model, "backend": names[b], "net_median_ms": statistics.median(net_ms[b]),
                     "net_p10_ms": _pct(net_ms[b], 10), "net_p90_ms": _pct(net_ms[b], 90), "runs": len(net_ms[b]),
                     "stage_median_ms": {k: statistics.median(v) for k, v in stages[b].items()},
                     "stage_mean_ms": {k: statistics.fmean(v) for k, v in stages[b].items()},
                     "frames": n, "fps": n / total[b] if total[b] > 0 else float("nan")})
    return rows


def main(argv=None) -> int:
    """Command line: time the models and backends, print a Markdown table (and write --json); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="fcot_lite,fcot_r50")
    parser.add_argument("--backends", default="torch,onnxruntime")
    parser.add_argument("--weights", default=None, help="checkpoint (one model only)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed calls first: eager PyTorch needs several to reach its steady speed")
    parser.add_argument("--sequence", default=str(Path(__file__).resolve().parents[2].parent / "shared" / "data"
                                                  / "sequences" / "otb_Crossing"))
    parser.add_argument("--frames", type=int, default=60, help="frames of the sequence for the end-to-end run")
    parser.add_argument("--json", default=None, help="write the raw numbers here")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    rows = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        rows += bench_model(model, backends, args)
    try:
        import onnxruntime
        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = "-"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), onnxruntime {ort_version}; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    print("| model | backend | network median ms (p10-p90, runs) | crop | network | optimizers | decode | "
          "optimizers mean | end-to-end FPS (frames) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["stage_median_ms"]
        print(f"| {r['model']} | {r['backend']} | {r['net_median_ms']:.1f} "
              f"({r['net_p10_ms']:.1f}-{r['net_p90_ms']:.1f}, {r['runs']}) | {s['crop']:.1f} | "
              f"{s['network']:.1f} | {s['optimizers']:.1f} | {s['decode']:.1f} | "
              f"{r['stage_mean_ms']['optimizers']:.1f} | {r['fps']:.2f} ({r['frames']}) |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
