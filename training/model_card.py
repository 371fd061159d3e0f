r"""The machine-readable model card of shipped weights: what they are (file, hash, recipe, epoch), what
they were trained on (sources, with the licence recorded for every sequence), and how they score on
the validation split (every tracker of one validation run, and the shipped tracker per sequence),
taken from the ``bench.json`` of ``python -m training.validate``.

    python -m training.model_card --weights fcot_ros/data/weights/fcot_lite.pt \
        --bench results/val_final/bench.json --shipped trained --split training/splits/fcot_lite_val.txt \
        --roots ../shared/data/sequences ../shared/data/train --out fcot_ros/data/weights/fcot_lite.json

The test suite replays one short validation sequence with the shipped weights and checks its AUC
against ``validation.per_sequence_auc`` of this file.
"""
import argparse
import csv
import json
import sys
from pathlib import Path

from fcot_ros.errors import FCOTError
from fcot_ros.runtime.digests import file_sha256
from training.config import resolve_path
from training.data.splits import read_split

RESTART_MARK = "~r"   # training.validate names restarts <sequence>~r<k>


def sequence_provenance(roots) -> dict:
    """{sequence name: {"dataset", "licence", "source"}} from each root's index.tsv (the training
    pool's columns) or, where a sequence has one, its meta.json (the development sequences)."""
    out = {}
    for root in roots:
        root = resolve_path(root)
        index = root / "index.tsv"
        rows = {}
        if index.is_file():
            with index.open(newline="") as f:
                rows = {r["name"]: r for r in csv.DictReader(f, delimiter="\t")}
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            meta_file, row = folder / "meta.json", rows.get(folder.name, {})
            meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
            out[folder.name] = {
                "dataset": row.get("dataset") or meta.get("dataset") or "unknown",
                "licence": row.get("licence") or meta.get("repo_license") or "none stated",
                "source": row.get("source") or "@".join(x for x in (meta.get("source_repo"), meta.get("commit")) if x),
            }
    return out


def data_summary(provenance: dict, validation_videos) -> list:
    """Per dataset: sequences for training and for validation and the licences recorded for them."""
    from fcot_ros.datasets.folder import video_of
    table = {}
    for name, p in provenance.items():
        entry = table.setdefault(p["dataset"], {"dataset": p["dataset"], "train_sequences": 0,
                                                "validation_sequences": 0, "licences": set()})
        entry["validation_sequences" if video_of(name) in validation_videos else "train_sequences"] += 1
        entry["licences"].add(p["licence"])
    return [dict(e, licences=sorted(e["licences"])) for _, e in sorted(table.items())]


def tracker_rows(bench: dict) -> list:
    """One row per tracker of a validation bench.json: label, model, preset, backend, scores, FPS, counts."""
    rows = []
    for r in bench["rows"]:
        s = r.get("summary") or {}
        rows.append({"label": r["label"], "model": r.get("model"), "preset": r.get("preset"),
                     "backend": r.get("backend"), "auc": s.get("auc"), "precision_20px": s.get("precision"),
                     "norm_precision": s.get("norm_precision"), "fps": r.get("fps"),
                     "sequences": s.get("sequences"), "frames": s.get("frames")})
    return rows


def build_card(weights, bench_file, shipped: str, split_file, roots) -> dict:
    """The model card dict of ``weights``: file and hash, training metadata, data provenance and validation scores."""
    from fcot_ros.checkpoints.native import load_checkpoint
    weights, bench_file = Path(weights), Path(bench_file)
    _, meta = load_checkpoint(weights)
    bench = json.loads(bench_file.read_text())
    shipped_rows = [r for r in bench["rows"] if r["label"] == shipped]
    if not shipped_rows:
        raise FCOTError(f"{bench_file} has no tracker labelled {shipped!r} "
                        f"(labels: {', '.join(r['label'] for r in bench['rows'])})")
    row = shipped_rows[0]
    videos = read_split(resolve_path(split_file))
    training = dict(meta.get("training") or {})
    recipe = training.pop("recipe", {}) or {}
    return {
        "model": meta["model"],
        "weights": {"file": weights.name, "bytes": weights.stat().st_size,
                    "sha256": file_sha256(weights),
                    "source_checkpoint": meta.get("source_checkpoint"), "note": meta.get("note", ""),
                    "omitted_prefixes": list(meta.get("omitted_prefixes") or [])},
        "training": {**training, "recipe": recipe},
        "data": data_summary(sequence_provenance(roots), videos),
        "validation": {
            "command": bench.get("command"),
            "split_file": str(split_file), "videos": sorted(videos),
            "trackers": tracker_rows(bench),
            "shipped": {"label": shipped, "preset": row.get("preset"), "backend": row.get("backend")},
            # the unperturbed runs only (restarts have no ground-truth-identical replay)
            "per_sequence_auc": {k: v for k, v in sorted(row.get("per_sequence_auc", {}).items())
                                 if RESTART_MARK not in k},
        },
    }


def main(argv=None) -> int:
    """Command line: write the model card JSON to --out; 0 on success, 2 on an error (printed to stderr)."""
    parser = argparse.ArgumentParser(prog="python -m training.model_card", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--bench", required=True, help="bench.json of a python -m training.validate run")
    parser.add_argument("--shipped", required=True, help="label of the shipped tracker in that run")
    parser.add_argument("--split", required=True)
    parser.add_argument("--roots", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        card = build_card(args.weights, args.bench, args.shipped, args.split, args.roots)
    except (FCOTError, OSError, KeyError, ValueError) as exc:
        print(f"python -m training.model_card: error: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(card, indent=1, sort_keys=False) + "\n")
    print(f"{args.out}: {len(card['validation']['trackers'])} trackers, "
          f"{len(card['validation']['per_sequence_auc'])} sequences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
