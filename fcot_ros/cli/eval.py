"""``fcot eval``: run trackers on a benchmark in its official layout (OPE), write result files other
toolkits read, then score them and write report.md + success / precision plots (PNG and SVG)."""
import os
import shlex
import sys
from pathlib import Path

from fcot_ros.assembly.registry import MODEL_NAMES
from fcot_ros.errors import FCOTError


def register(subparsers) -> None:
    """Add the ``eval`` sub-command and its options to ``subparsers``."""
    from fcot_ros.evaluation.loading import OPE_DATASETS
    from fcot_ros.evaluation.results_io import LAYOUTS
    p = subparsers.add_parser(
        "eval", help="evaluate trackers on a benchmark (OPE) and write results, report and plots",
        description="One-pass evaluation of one or more trackers on a dataset in its official layout. "
                    "Sequences already done are skipped (resumable).")
    p.add_argument("--dataset", required=True, choices=sorted(OPE_DATASETS), help="dataset layout to read")
    p.add_argument("--root", required=True, help="dataset root directory (a bag directory for rosbag)")
    p.add_argument("--trackers", default="fcot_lite,opencv_csrt",
                   help="comma-separated models: " + ", ".join(MODEL_NAMES))
    p.add_argument("--preset", default="default", help="FCOT parameter preset")
    p.add_argument("--backend", default="auto",
                   help="FCOT feature-network runtime (auto, torch, onnxruntime, tensorrt)")
    p.add_argument("--weights", default=None, help="FCOT checkpoint (default: built-in weights)")
    p.add_argument("--out", default="results", help="output directory for result files and reports")
    p.add_argument("--layout", default="pytracking", choices=LAYOUTS, help="result file layout")
    p.add_argument("--nano-dir", default=None,
                   help="folder of NanoTrack v2's ONNX files for opencv_nano (default: $FCOT_NANO_DIR)")
    p.add_argument("--jobs", type=int, default=1, help="parallel worker processes (one sequence each)")
    p.add_argument("--sequences", default=None, help="comma-separated subset of sequence names")
    p.add_argument("--compare", default="", help="comma-separated names of other result sets already "
                   "in --out (same layout) to include in the report and plots")
    p.add_argument("--no-resume", action="store_true", help="re-run sequences that already have results")
    p.add_argument("--report-only", action="store_true", help="do not run; score existing results only")
    p.add_argument("--topic", default=None, help="rosbag: camera topic (default: the only image topic)")
    p.add_argument("--groundtruth", default=None, help="rosbag: ground-truth file (default <bag>/groundtruth.txt)")
    p.add_argument("--polygon", default="minmax", choices=("minmax", "area"),
                   help="vot: polygon to axis-aligned conversion")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def command_line(args) -> str:
    """The ``fcot eval`` command that reproduces this run (options at their defaults left out)."""
    parts = ["fcot", "eval", "--dataset", args.dataset, "--root", args.root, "--trackers", args.trackers]
    for option, default in (("preset", "default"), ("backend", "auto"), ("weights", None), ("out", "results"),
                            ("layout", "pytracking"), ("nano_dir", None), ("jobs", 1), ("sequences", None),
                            ("topic", None), ("groundtruth", None), ("polygon", "minmax")):
        value = getattr(args, option)
        if value != default:
            parts += [f"--{option.replace('_', '-')}", str(value)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def _reader_options(args) -> dict:
    if args.dataset == "rosbag":
        return {"topic": args.topic, "groundtruth": args.groundtruth}
    if args.dataset == "vot":
        return {"polygon": args.polygon}
    return {}


def run(args) -> int:
    """``fcot eval``: run OPE, score, write submissions, report and plots; 0, 1 when sequences failed, 2 on an error."""
    from fcot_ros.datasets import human_name, submission_format
    from fcot_ros.evaluation import results_io
    from fcot_ros.evaluation.loading import load_dataset
    from fcot_ros.evaluation.ope import run_ope
    from fcot_ros.evaluation.plots import plot_curves
    from fcot_ros.evaluation.report import summary_table, write_report
    from fcot_ros.evaluation.runner import parse_trackers
    from fcot_ros.evaluation.scoring import score_results

    if args.nano_dir:
        os.environ["FCOT_NANO_DIR"] = args.nano_dir          # the worker processes inherit it
    try:
        # the trackers first: a misspelt name is refused at once, before any dataset is read
        specs = parse_trackers(args.trackers, backend=args.backend, preset=args.preset, weights=args.weights)
        wanted = [s.strip() for s in args.sequences.split(",") if s.strip()] if args.sequences else None
        sequences = load_dataset(args.dataset, args.root, wanted, **_reader_options(args))
    except (FCOTError, ValueError) as exc:
        print(f"fcot eval: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    label = human_name(args.dataset)
    print(f"{label}: {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames; "
          f"trackers: {', '.join(s.display_name for s in specs)}", file=sys.stderr)
    failed = []
    if not args.report_only:
        outcome = run_ope(specs, sequences, out, args.dataset, layout=args.layout, jobs=args.jobs,
                          resume=not args.no_resume, progress=not args.quiet)
        failed = outcome.failed
        print(f"ran {len(outcome.ran)}, skipped {len(outcome.skipped)} already done, failed {len(failed)}",
              file=sys.stderr)

    names = [s.display_name for s in specs] + [n.strip() for n in args.compare.split(",") if n.strip()]
    scores = [score_results(sequences, out, args.dataset, name, args.layout) for name in names]

    fmt = submission_format(args.dataset)
    for score in scores:
        if fmt is None or score.missing:
            continue
        results = {s.name: results_io.read_result(out, args.dataset, score.tracker, s.name, args.layout)
                   for s in sequences}
        folder = out / "submissions" / args.dataset / score.tracker
        writer = results_io.write_got10k_submission if fmt == "got10k" else results_io.write_trackingnet_submission
        print(f"{score.tracker}: submission for the {label} server: {writer(folder, results)}")

    report_dir = out / "reports" / args.dataset
    scored = [s for s in scores if s.per_sequence]
    plots = plot_curves({s.tracker: s.summary for s in scored}, report_dir, title=label) if scored else []
    command = command_line(args)
    notes = [] if fmt is None else [f"{label} has no public ground truth after frame 1: upload the zip "
                                   "in submissions/ to the benchmark server for scores."]
    report = write_report(report_dir / "report.md", scores, label, command=command, plots=plots, notes=notes)
    if scored:
        print("\n".join(summary_table({s.tracker: s.summary for s in scored}, {s.tracker: s.fps for s in scored})))
    print(f"report: {report}")
    return 1 if failed else 0
