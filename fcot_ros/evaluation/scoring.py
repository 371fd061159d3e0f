"""Re-read result files and score them against a dataset's ground truth (so the numbers in a report
always come from the files other toolkits can read too)."""
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from fcot_ros.datasets import Sequence
from fcot_ros.evaluation import results_io
from fcot_ros.evaluation.metrics import SequenceScore, Summary, score_sequence, summarise, summarise_by_attribute


@dataclass
class TrackerScores:
    """Scores of one result set: per sequence, the summary, per attribute, and speed (FPS of the
    track() calls; NaN if no times were saved)."""

    tracker: str
    per_sequence: Dict[str, SequenceScore]
    summary: Summary
    by_attribute: Dict[str, Summary]
    fps: float
    missing: List[str] = field(default_factory=list)


def score_results(sequences: List[Sequence], out, dataset: str, tracker: str,
                  layout: str = "pytracking") -> TrackerScores:
    """Score the result files of ``tracker``; sequences without a result are listed in ``missing``."""
    per_sequence, missing = {}, []
    total_frames, total_time = 0, 0.0
    for seq in sequences:
        if not results_io.is_complete(out, dataset, tracker, seq.name, len(seq), layout):
            missing.append(seq.name)
            continue
        boxes, times = results_io.read_result(out, dataset, tracker, seq.name, layout)
        if len(times) == len(seq):
            total_frames += len(times) - 1
            total_time += float(np.sum(times[1:]))
        if seq.has_ground_truth:
            per_sequence[seq.name] = score_sequence(boxes, seq.ground_truth, seq.absent, seq.name, seq.tags)
    scores = list(per_sequence.values())
    speed = total_frames / total_time if total_time > 0 else float("nan")
    return TrackerScores(tracker=tracker, per_sequence=per_sequence, summary=summarise(scores),
                         by_attribute=summarise_by_attribute(scores), fps=speed, missing=missing)


__all__ = ["TrackerScores", "score_results"]
