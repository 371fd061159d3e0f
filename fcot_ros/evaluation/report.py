"""Markdown report of one evaluation: summary table, per-attribute and per-sequence tables, plots."""
import datetime
import platform
from pathlib import Path
from typing import Dict, List, Optional

from fcot_ros.evaluation.machine import cpu_description
from fcot_ros.evaluation.metrics import Summary
from fcot_ros.evaluation.scoring import TrackerScores


def _f(value, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def summary_table(rows: Dict[str, Summary], speeds: Optional[Dict[str, float]] = None) -> List[str]:
    """Markdown lines: one row per tracker with AUC, P@20, NP, AO, SR0.5, SR0.75 (and FPS)."""
    header = "| tracker | seqs | frames | AUC | P@20px | norm. P | AO | SR0.5 | SR0.75 |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if speeds is not None:
        header += " FPS |"
        rule += "---:|"
    lines = [header, rule]
    for name, s in sorted(rows.items(), key=lambda kv: -(kv[1].auc if kv[1].auc == kv[1].auc else -1)):
        line = (f"| {name} | {s.sequences} | {s.frames} | {_f(s.auc)} | {_f(s.precision)} | "
                f"{_f(s.norm_precision)} | {_f(s.ao)} | {_f(s.sr50)} | {_f(s.sr75)} |")
        if speeds is not None:
            line += f" {_f(speeds.get(name), 1)} |"
        lines.append(line)
    return lines


def per_sequence_table(scores: List[TrackerScores], metric: str = "auc") -> List[str]:
    """Markdown lines: sequences x trackers of one per-sequence metric (auc, precision, ...)."""
    names = sorted({n for s in scores for n in s.per_sequence})
    lines = ["| sequence | " + " | ".join(s.tracker for s in scores) + " |",
             "|---|" + "---:|" * len(scores)]
    for name in names:
        cells = [_f(getattr(s.per_sequence[name], metric)) if name in s.per_sequence else "-" for s in scores]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def write_report(path, scores: List[TrackerScores], dataset_label: str, command: str = "",
                 plots: Optional[List[Path]] = None, notes: Optional[List[str]] = None) -> Path:
    """Write report.md at ``path`` and return it."""
    path = Path(path)
    lines = [f"# Evaluation on {dataset_label}", "",
             f"Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
             f"{platform.node() or 'this machine'} ({cpu_description()}, "
             f"Python {platform.python_version()}).", ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    lines += ["Protocol: one-pass evaluation (OPE); the first frame initialises and is not scored; frames "
              "whose target is absent (NaN / zero-size box, or the benchmark's absence flags) are skipped. "
              "AUC: mean success over 21 IoU thresholds 0..1; P@20px: centre error <= 20 px; norm. P: "
              "LaSOT-normalised centre error <= 0.2; AO / SR: GOT-10k mean IoU and success rate over all "
              "scored frames; FPS: frames / total time of the tracker's track() calls.", ""]
    lines += ["## Summary", ""] + summary_table({s.tracker: s.summary for s in scores},
                                                {s.tracker: s.fps for s in scores}) + [""]
    for s in scores:
        if s.missing:
            lines.append(f"- {s.tracker}: no result for {len(s.missing)} sequence(s): {', '.join(s.missing[:10])}")
    if plots:
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots if p.suffix == ".png"] + [""]
    attributes = sorted({a for s in scores for a in s.by_attribute})
    if attributes:
        lines += ["## Success AUC per attribute", "",
                  "| attribute | seqs | " + " | ".join(s.tracker for s in scores) + " |",
                  "|---|---:|" + "---:|" * len(scores)]
        for attribute in attributes:
            count = max(s.by_attribute[attribute].sequences if attribute in s.by_attribute else 0 for s in scores)
            cells = [_f(s.by_attribute[attribute].auc) if attribute in s.by_attribute else "-" for s in scores]
            lines.append(f"| {attribute} | {count} | " + " | ".join(cells) + " |")
        lines.append("")
    if any(s.per_sequence for s in scores):
        lines += ["## Success AUC per sequence", ""] + per_sequence_table(scores) + [""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
