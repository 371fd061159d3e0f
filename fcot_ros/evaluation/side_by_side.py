"""``fcot bench`` orchestration: each tracker configuration (model x backend) runs in its own
subprocess, one after the other (timings must not contend on small CPUs; peak RSS is per tracker),
then the results are re-scored from their files and tabulated side by side.

FPS = tracked frames / sum of the wall time of the track() calls (the whole tracking step; frame
loading and the first frame's initialize excluded). Stage times are medians over all frames of
TrackResult.timings (ms). Peak RSS is the worker process's maximum resident memory (MB).
"""
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from fcot_ros.evaluation.runner import TrackerSpec
from fcot_ros.evaluation.scoring import TrackerScores, score_results
from fcot_ros.evaluation.side_by_side_worker import BENCH_DATASET

STAGE_ORDER = ("crop", "network", "optimizers", "decode", "total")


def configurations(trackers: List[str], backends: List[str], preset: str = "default",
                   weights: Optional[str] = None) -> List[TrackerSpec]:
    """One spec per OpenCV tracker, one per (FCOT model, backend)."""
    specs = []
    for model in trackers:
        if model.startswith("fcot_"):
            for backend in backends:
                specs.append(TrackerSpec(model=model, backend=backend, preset=preset, weights=weights))
        else:
            specs.append(TrackerSpec(model=model))
    return specs


@dataclass
class BenchRow:
    """One configuration's outcome: its worker summary (speed, memory) and its scores."""

    spec: TrackerSpec
    worker: dict
    scores: Optional[TrackerScores]

    @property
    def label(self) -> str:
        """Display name of the configuration."""
        return self.spec.display_name

    @property
    def frames(self) -> int:
        """Frames tracked over all sequences."""
        return int(sum(s["frames"] for s in self.worker.get("sequences", {}).values()))

    @property
    def fps(self) -> float:
        """Frames per second of tracking time over all sequences (NaN when no time was recorded)."""
        total = sum(s["track_time_s"] for s in self.worker.get("sequences", {}).values())
        return self.frames / total if total > 0 else float("nan")

    def sequence_fps(self, name: str) -> float:
        """Frames per second on sequence ``name`` (NaN when it was not run or took no time)."""
        entry = self.worker.get("sequences", {}).get(name)
        return entry["frames"] / entry["track_time_s"] if entry and entry["track_time_s"] > 0 else float("nan")


def run_worker(spec: TrackerSpec, sequences_dir, out_dir: Path, names: Optional[List[str]] = None,
               quiet: bool = False) -> dict:
    """Run one configuration in a fresh Python process and return its JSON summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{spec.display_name.replace('@', '_')}.bench.json"
    if json_path.exists():
        json_path.unlink()
    command = [sys.executable, "-m", "fcot_ros.evaluation.side_by_side_worker", "--model", spec.model,
               "--backend", spec.backend, "--preset", spec.preset, "--sequences", str(sequences_dir),
               "--results", str(out_dir), "--json", str(json_path)]
    if spec.weights:
        command += ["--weights", str(spec.weights)]
    if spec.name:
        command += ["--name", spec.name]
    for key, value in spec.overrides:
        command += ["--set", f"{key}={json.dumps(value)}"]
    if names:
        command += ["--names", ",".join(names)]
    if quiet:
        command.append("--quiet")
    completed = subprocess.run(command)
    if json_path.exists():
        return json.loads(json_path.read_text())
    return {"label": spec.display_name, "sequences": {}, "stage_ms": {}, "peak_rss_mb": None,
            "error": f"worker exited with code {completed.returncode} and wrote no summary"}


def run_bench(specs: List[TrackerSpec], sequences, sequences_dir, out_dir, quiet: bool = False) -> List[BenchRow]:
    """Run every configuration sequentially, each in its own process, and score its result files."""
    out_dir = Path(out_dir)
    names = [s.name for s in sequences]
    rows = []
    for spec in specs:
        worker = run_worker(spec, sequences_dir, out_dir, names, quiet)
        scores = None
        if not worker.get("error"):
            scores = score_results(sequences, out_dir, BENCH_DATASET, spec.display_name)
            for name in scores.missing:
                worker.setdefault("failed", {}).setdefault(name, "no result file")
        rows.append(BenchRow(spec=spec, worker=worker, scores=scores))
    return rows


def _f(value, digits=3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _load(worker: dict) -> str:
    """1-minute load average of the machine at the start and end of a configuration's run."""
    start, end = worker.get("load_avg_start"), worker.get("load_avg_end")
    return "-" if start is None or end is None else f"{start:.1f}-{end:.1f}"


def _stage_cell(worker: dict, stage: str) -> str:
    """"median / mean" ms of one stage ("-" where the tracker has no such stage)."""
    median = worker.get("stage_ms", {}).get(stage)
    mean = worker.get("stage_ms_mean", {}).get(stage)
    if median is None:
        return "-"
    return _f(median, 1) if mean is None else f"{_f(median, 1)} / {_f(mean, 1)}"


def summary_table(rows: List[BenchRow]) -> List[str]:
    """Markdown lines: per configuration mean AUC, P@20, norm. P, FPS, median / mean stage ms, peak RSS
    and the machine's load average during the run (a load above the core count means the timings
    contended)."""
    stages = [s for s in STAGE_ORDER if any(s in r.worker.get("stage_ms", {}) for r in rows)]
    stages += sorted({k for r in rows for k in r.worker.get("stage_ms", {})} - set(stages))
    header = ("| tracker | backend | seqs | frames | AUC | P@20px | norm. P | FPS | "
              + "".join(f"{s} ms (med / mean) | " for s in stages) + "peak RSS MB | load |")
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(stages) + "---:|---:|"]
    for row in rows:
        backend = row.worker.get("backend", row.spec.backend)
        if row.worker.get("error"):
            lines.append(f"| {row.label} | {backend} | failed: {row.worker['error'][:120]} |")
            continue
        s = row.scores.summary
        stage_cells = "".join(f"{_stage_cell(row.worker, k)} | " for k in stages)
        lines.append(f"| {row.label} | {backend} | {s.sequences} | {row.frames} | {_f(s.auc)} | "
                     f"{_f(s.precision)} | {_f(s.norm_precision)} | {_f(row.fps, 1)} | "
                     f"{stage_cells}{_f(row.worker.get('peak_rss_mb'), 0)} | "
                     f"{_load(row.worker)} |")
    for row in rows:
        failed = row.worker.get("failed") or {}
        if failed:
            lines.append("")
            lines.append(f"{row.label}: {len(failed)} sequence(s) failed and are not in its means: "
                         + "; ".join(f"{k} ({v[:80]})" for k, v in failed.items()))
    return lines


def per_sequence_table(rows: List[BenchRow], sequences) -> List[str]:
    """Markdown lines: per sequence, each configuration's success AUC and FPS."""
    ok = [r for r in rows if r.scores is not None]
    lines = ["| sequence | frames | " + " | ".join(f"{r.label} AUC / FPS" for r in ok) + " |",
             "|---|---:|" + "---:|" * len(ok)]
    for seq in sequences:
        cells = []
        for r in ok:
            score = r.scores.per_sequence.get(seq.name)
            cells.append(f"{_f(score.auc if score else None)} / {_f(r.sequence_fps(seq.name), 1)}")
        lines.append(f"| {seq.name} | {len(seq)} | " + " | ".join(cells) + " |")
    return lines


def summaries(rows: List[BenchRow]) -> Dict[str, object]:
    """{label: Summary} of the configurations that ran (for plots)."""
    return {r.label: r.scores.summary for r in rows if r.scores is not None and r.scores.per_sequence}


def rows_as_json(rows: List[BenchRow]) -> list:
    """Machine-readable outcome (summary metrics + worker data) for bench.json."""
    out = []
    for r in rows:
        entry = {"label": r.label, "fps": r.fps, "frames": r.frames, **{k: v for k, v in r.worker.items()}}
        if r.scores is not None:
            entry["summary"] = r.scores.summary.as_dict()
            entry["per_sequence_auc"] = {k: v.auc for k, v in r.scores.per_sequence.items()}
        out.append(entry)
    return json.loads(json.dumps(out, default=lambda o: float(o) if isinstance(o, np.floating) else str(o)))
