"""``fcot bench``: OPE on every sequence in a folder for FCOT and the OpenCV baselines side by side;
prints accuracy (AUC, precision@20, normalised precision), speed (FPS of the whole tracking step,
median ms per stage) and peak memory per tracker configuration, then a per-sequence table."""
import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path

from fcot_ros.errors import FCOTError


def register(subparsers) -> None:
    """Add the ``bench`` sub-command and its options to ``subparsers``."""
    p = subparsers.add_parser(
        "bench", help="benchmark trackers side by side on a folder of sequences",
        description="Each tracker configuration runs in its own process, one after the other.")
    p.add_argument("--sequences", required=True, help="folder of sequence folders (img/ + groundtruth.txt)")
    p.add_argument("--trackers", default=None,
                   help="comma-separated models (default: fcot_lite,opencv_csrt,opencv_kcf, and opencv_nano "
                        "when --nano-dir or $FCOT_NANO_DIR names its files)")
    p.add_argument("--backend", default="auto",
                   help="comma-separated FCOT runtimes; one row per backend (e.g. torch,onnxruntime)")
    p.add_argument("--preset", default="default", help="FCOT parameter preset")
    p.add_argument("--weights", default=None, help="FCOT checkpoint")
    p.add_argument("--names", default=None, help="comma-separated subset of sequence names")
    p.add_argument("--nano-dir", default=None,
                   help="folder of NanoTrack v2's ONNX files for opencv_nano (default: $FCOT_NANO_DIR)")
    p.add_argument("--out", default="results/bench", help="result files, bench.json, report.md and plots")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def command_line(args) -> str:
    """The ``fcot bench`` command that reproduces this run (options at their defaults left out)."""
    parts = ["fcot", "bench", "--sequences", args.sequences, "--trackers", args.trackers]
    for option, default in (("backend", "auto"), ("preset", "default"), ("weights", None), ("names", None),
                            ("nano_dir", None), ("out", "results/bench")):
        value = getattr(args, option)
        if value != default:
            parts += [f"--{option.replace('_', '-')}", str(value)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def run(args) -> int:
    """``fcot bench``: run every configuration, write tables, report and plots; 0, 1 if one failed, 2 on an error."""
    from fcot_ros.evaluation.loading import load_dataset
    from fcot_ros.evaluation.plots import plot_curves
    from fcot_ros.evaluation.side_by_side import (
        configurations,
        per_sequence_table,
        rows_as_json,
        run_bench,
        summaries,
        summary_table,
    )

    try:
        names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
        sequences = load_dataset("folder", args.sequences, names)
    except (FCOTError, ValueError) as exc:
        print(f"fcot bench: error: {exc}", file=sys.stderr)
        return 2
    if args.nano_dir:
        os.environ["FCOT_NANO_DIR"] = args.nano_dir          # the workers inherit it
    if args.trackers is None:
        args.trackers = "fcot_lite,opencv_csrt,opencv_kcf" + (",opencv_nano" if os.environ.get("FCOT_NANO_DIR") else "")
    trackers = [t.strip() for t in args.trackers.split(",") if t.strip()]
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    specs = configurations(trackers, backends, args.preset, args.weights)
    out = Path(args.out)
    print(f"bench: {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames; "
          f"{len(specs)} configurations, run one after the other", file=sys.stderr)
    rows = run_bench(specs, sequences, args.sequences, out, quiet=args.quiet)

    from fcot_ros.evaluation.machine import cpu_description
    machine = f"{platform.node() or 'this machine'}: {cpu_description()}, Python {platform.python_version()}"
    command = command_line(args)
    table = summary_table(rows)
    per_seq = per_sequence_table(rows, sequences)
    print("\n".join(table))
    print()
    print("\n".join(per_seq))
    plots = plot_curves(summaries(rows), out, title=f"{len(sequences)} sequences") if summaries(rows) else []
    stamp = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    report = ["# fcot bench", "", f"{stamp}, {machine}.", ""]
    if command:
        report += ["```", command, "```", ""]
    report += table + ["", "Per sequence (success AUC / FPS):", ""] + per_seq + [""]
    report += [f"![{p.stem}]({p.name})" for p in plots if p.suffix == ".png"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text("\n".join(report) + "\n")
    (out / "bench.json").write_text(json.dumps({"machine": machine, "time": stamp, "command": command,
                                                "rows": rows_as_json(rows)}, indent=1))
    print(f"\nreport: {out / 'report.md'}", file=sys.stderr)
    return 1 if any(r.worker.get("error") for r in rows) else 0
