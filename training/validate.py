r"""Validation by whole sequences: OPE of tracker configurations side by side (``fcot bench``'s
machinery: one process per configuration, one after the other) on the validation videos of a split
file, taken from several sequence roots.

    python -m training.validate --split training/splits/fcot_lite_val.txt \
        --roots ../shared/data/sequences ../shared/data/train \
        --tracker '{"name": "trained", "model": "fcot_lite", "weights": "runs/x/checkpoint_last.pt"}' \
        --tracker '{"name": "training_free", "model": "fcot_lite", "preset": "training_free"}' \
        --tracker '{"model": "opencv_csrt"}' --out results/val

A --tracker is a JSON object: model (required), name, preset, weights, backend, set (tracker
parameters over the preset's). Writes the result files, bench.json, report.md and the plots to --out.
"""
import argparse
import json
import os
import sys
from pathlib import Path

from fcot_ros.errors import FCOTError
from training.config import resolve_path
from training.data.sources import load_source
from training.data.splits import read_split

INIT_JITTER = 0.05   # restarts: init box centre moved by up to this x its size, size scaled by up to e^this


def _restart(folder: Path, source: Path, k: int):
    """``folder`` = ``source`` with the first box perturbed (restart k of a sequence): the images
    linked, the ground truth copied with row 1 moved and scaled by a generator seeded by (name, k)."""
    import zlib

    import numpy as np
    folder.mkdir(exist_ok=True)
    img = folder / "img"
    if not img.exists():
        img.symlink_to((source / "img").resolve(), target_is_directory=True)
    lines = (source / "groundtruth.txt").read_text().splitlines()
    rng = np.random.default_rng([zlib.crc32(source.name.encode()), k])
    x, y, w, h = (float(v) for v in lines[0].replace("\t", ",").split(","))
    dx, dy = (rng.random(2) * 2 - 1) * INIT_JITTER * np.array([w, h])
    sw, sh = np.exp((rng.random(2) * 2 - 1) * INIT_JITTER)
    cx, cy = x + w / 2 + dx, y + h / 2 + dy
    lines[0] = f"{cx - w * sw / 2:.2f},{cy - h * sh / 2:.2f},{w * sw:.2f},{h * sh:.2f}"
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")


def validation_folder(split_file, roots, out_dir, restarts: int = 1) -> Path:
    """A folder of links to every validation sequence (a sequence belongs if its video is listed);
    with ``restarts`` > 1 also restarts 1 .. restarts-1 of each, ``<name>~r<k>``, from perturbed
    first boxes (chaotic sequences then count by their mean over restarts, not one draw)."""
    videos = read_split(resolve_path(split_file))
    folder = Path(out_dir) / "sequences"
    folder.mkdir(parents=True, exist_ok=True)
    found = set()
    for root in roots:
        root = resolve_path(root)
        for seq in load_source("folder", root):
            if seq.video in videos:
                link = folder / seq.name
                target = (root / seq.name).resolve()
                if link.is_symlink() and Path(os.readlink(link)) != target:
                    link.unlink()
                if not link.exists():
                    link.symlink_to(target, target_is_directory=True)
                for k in range(1, restarts):
                    _restart(folder / f"{seq.name}~r{k}", target, k)
                found.add(seq.video)
    missing = sorted(videos - found)
    if missing:
        raise FCOTError(f"validation videos not found under {', '.join(map(str, roots))}: {', '.join(missing)}")
    return folder


def tracker_spec(text: str):
    """The TrackerSpec of one --tracker JSON object (weights resolved against the repository root)."""
    from fcot_ros.evaluation.runner import TrackerSpec
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FCOTError(f"--tracker {text!r} is not JSON: {exc}") from exc
    unknown = sorted(set(d) - {"name", "model", "preset", "weights", "backend", "set"})
    if unknown or "model" not in d:
        raise FCOTError(f"--tracker needs model and takes name, preset, weights, backend, set; got {sorted(d)}")
    weights = str(resolve_path(d["weights"])) if d.get("weights") else None
    overrides = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted((d.get("set") or {}).items()))
    return TrackerSpec(model=d["model"], backend=d.get("backend", "auto"), preset=d.get("preset", "default"),
                       weights=weights, name=d.get("name"), overrides=overrides)


def run(split, roots, trackers, out, quiet=False, restarts=1):
    """(rows, sequences) of a validation run; the report goes to ``out``."""
    from fcot_ros.evaluation.loading import load_dataset
    from fcot_ros.evaluation.plots import plot_curves
    from fcot_ros.evaluation.side_by_side import per_sequence_table, run_bench, summaries, summary_table
    out = Path(out)
    folder = validation_folder(split, roots, out, restarts)
    sequences = load_dataset("folder", folder)
    specs = [tracker_spec(t) for t in trackers]
    rows = run_bench(specs, sequences, folder, out, quiet=quiet)
    table, per_seq = summary_table(rows), per_sequence_table(rows, sequences)
    plots = (plot_curves(summaries(rows), out, title=f"validation, {len(sequences)} sequences")
             if summaries(rows) else [])
    command = " ".join(["python -m training.validate", "--split", str(split), "--roots", *map(str, roots)]
                       + (["--restarts", str(restarts)] if restarts > 1 else [])
                       + [f"--tracker '{t}'" for t in trackers] + ["--out", str(out)])
    from fcot_ros.evaluation.machine import cpu_description
    machine = cpu_description()
    report = (["# validation", "", f"CPU: {machine}", "", "```", command, "```", ""] + table
              + ["", "Per sequence (AUC / FPS):", ""] + per_seq)
    report += [""] + [f"![{p.stem}]({p.name})" for p in plots if p.suffix == ".png"]
    (out / "report.md").write_text("\n".join(report) + "\n")
    from fcot_ros.evaluation.side_by_side import rows_as_json
    (out / "bench.json").write_text(json.dumps({"command": command, "machine": machine, "rows": rows_as_json(rows)},
                                               indent=1))
    return rows, sequences, table, per_seq


def main(argv=None) -> int:
    """Command line: validate the trackers and print the tables; 0, 1 when a configuration failed, 2 on an error."""
    parser = argparse.ArgumentParser(prog="python -m training.validate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", required=True, help="split file listing the validation videos")
    parser.add_argument("--roots", nargs="+", required=True, help="sequence folder roots")
    parser.add_argument("--tracker", action="append", required=True, help="JSON tracker configuration")
    parser.add_argument("--out", default="results/val")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--restarts", type=int, default=1,
                        help="runs per sequence: the original and restarts from perturbed first boxes")
    args = parser.parse_args(argv)
    try:
        rows, sequences, table, per_seq = run(args.split, args.roots, args.tracker, args.out, args.quiet,
                                              args.restarts)
    except FCOTError as exc:
        print(f"python -m training.validate: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(table))
    print()
    print("\n".join(per_seq))
    return 1 if any(r.worker.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
