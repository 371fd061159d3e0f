"""Paired AUC comparisons of a validation (or bench) run, with bootstrap intervals over sequences.

    python -m training.compare results/val/bench.json --reference shipped [--resamples 10000]

Prints, for the reference configuration against every other one of the same run: the mean AUC of
each over the sequences both ran (restarts averaged first), the difference, its 95% bootstrap
interval, and on how many sequences the reference wins / loses.
"""
import argparse
import json
import sys
from pathlib import Path

from fcot_ros.evaluation.paired import paired_difference, per_sequence_means


def compare_rows(rows, reference: str, resamples: int = 10000):
    """PairedDifference of ``reference`` against each other row of a bench.json's rows."""
    aucs = {r["label"]: per_sequence_means(r["per_sequence_auc"]) for r in rows if r.get("per_sequence_auc")}
    if reference not in aucs:
        raise KeyError(f"no configuration {reference!r} with scores; have {', '.join(aucs)}")
    return [paired_difference(aucs[reference], aucs[label], reference, label, resamples)
            for label in aucs if label != reference]


def main(argv=None) -> int:
    """Command line: paired AUC comparisons of a bench.json as a Markdown table; 0, or 2 on an unknown reference."""
    parser = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_json")
    parser.add_argument("--reference", required=True, help="label of the configuration compared with the others")
    parser.add_argument("--resamples", type=int, default=10000)
    args = parser.parse_args(argv)
    data = json.loads(Path(args.bench_json).read_text())
    try:
        results = compare_rows(data["rows"], args.reference, args.resamples)
    except KeyError as exc:
        print(f"python -m training.compare: error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"| {args.reference} vs | sequences | AUC {args.reference} | AUC other | difference | 95% interval | "
          "wins / losses |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for r in results:
        print(f"| {r.b} | {r.sequences} | {r.mean_a:.3f} | {r.mean_b:.3f} | {r.mean_difference:+.3f} | "
              f"[{r.low:+.3f}, {r.high:+.3f}] | {r.wins} / {r.losses} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
