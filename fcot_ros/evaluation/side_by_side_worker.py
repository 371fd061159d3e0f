"""One ``fcot bench`` configuration in its own process: OPE of one tracker on every sequence folder,
result files written (pytracking layout, dataset name "bench"), and a JSON summary of speed and memory.

    python -m fcot_ros.evaluation.side_by_side_worker --model opencv_csrt --sequences DIR --results OUT --json F

JSON: label, model, backend, per-sequence frames / track seconds, median and mean milliseconds per
stage (TrackResult.timings keys; the optimizers' median is ~0 because they run on few frames), peak
resident memory of this process in MB (getrusage ru_maxrss), the machine's 1-minute load average at
start and end (other work on the machine slows every timing), ``failed`` sequences with their
errors, and ``error`` (null unless the tracker could not be built or run).
"""
import argparse
import json
import os
import resource
import sys
import time
import traceback

import numpy as np

BENCH_DATASET = "bench"


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024.0 if sys.platform != "darwin" else kib / 1024.0 / 1024.0


def main(argv=None) -> int:
    """Command line of one configuration's process: track every sequence, write results and the summary JSON;
    0, or 1 on an error."""
    parser = argparse.ArgumentParser(prog="fcot_ros.evaluation.side_by_side_worker")
    parser.add_argument("--model", required=True)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--sequences", required=True, help="folder of sequence folders")
    parser.add_argument("--names", default=None, help="comma-separated subset")
    parser.add_argument("--results", required=True, help="result files root")
    parser.add_argument("--json", required=True, help="summary JSON to write")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--name", default=None, help="label of this configuration (result folder name)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PARAM=JSON",
                        help="tracker parameter over the preset's, e.g. --set size_update_rate=0.7")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from fcot_ros.evaluation import results_io
    from fcot_ros.evaluation.loading import load_dataset
    from fcot_ros.evaluation.runner import TrackerSpec, run_sequence

    overrides = tuple((k, json.loads(v)) for k, v in (item.split("=", 1) for item in args.overrides))
    spec = TrackerSpec(model=args.model, backend=args.backend, preset=args.preset, weights=args.weights,
                       name=args.name, overrides=tuple((k, tuple(v) if isinstance(v, list) else v)
                                                       for k, v in overrides))
    summary = {"label": spec.display_name, "model": spec.model,
               "backend": spec.backend if spec.is_learned else "opencv", "preset": spec.preset,
               "sequences": {}, "failed": {}, "stage_ms": {}, "peak_rss_mb": None, "error": None,
               "load_avg_start": os.getloadavg()[0]}
    stage_values = {}
    try:
        names = [n for n in args.names.split(",") if n] if args.names else None
        sequences = load_dataset("folder", args.sequences, names)
        start = time.perf_counter()
        tracker = spec.build()                     # once: initialize() starts every sequence afresh
        summary["build_s"] = time.perf_counter() - start
        for seq in tqdm(sequences, desc=spec.display_name, unit="seq", file=sys.stderr, disable=args.quiet):
            try:
                run = run_sequence(tracker, seq)
            except Exception as exc:  # one bad sequence must not hide the others
                summary["failed"][seq.name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                continue
            results_io.write_result(args.results, BENCH_DATASET, spec.display_name, seq.name, run)
            summary["sequences"][seq.name] = {"frames": len(seq) - 1, "track_time_s": run.track_time_s,
                                              "init_s": float(run.times_s[0])}
            for key, values in run.stage_ms.items():
                stage_values.setdefault(key, []).extend(values)
    except Exception as exc:
        summary["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    summary["stage_ms"] = {k: float(np.median(v)) for k, v in stage_values.items()}
    summary["stage_ms_mean"] = {k: float(np.mean(v)) for k, v in stage_values.items()}
    summary["peak_rss_mb"] = peak_rss_mb()
    summary["load_avg_end"] = os.getloadavg()[0]
    with open(args.json, "w") as handle:
        json.dump(summary, handle, indent=1)
    return 0 if summary["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
