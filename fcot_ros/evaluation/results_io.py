"""Result files in the layouts other toolkits read, and the GOT-10k / TrackingNet submission formats.

Layouts (``layout`` argument); boxes are x, y, w, h pixels, one line per frame, first line = init box:
- "pytracking": ``<out>/<tracker>/<dataset>/<seq>.txt`` (tab separated) and ``<seq>_time.txt``
  (seconds per frame), as pytracking writes and its analysis code reads.
- "got10k": ``<out>/<dataset>/<tracker>/<seq>.txt`` (comma separated) and
  ``<out>/<dataset>/<tracker>/times/<seq>_time.txt``, as the got10k toolkit's OTB-style experiments do.
Beside them ``<seq>_state.txt`` keeps score and state per frame (ours, ignored by other toolkits).

Submissions (test sets without public ground truth):
- GOT-10k: ``<seq>/<seq>_001.txt`` (comma separated boxes) and ``<seq>/<seq>_time.txt``, zipped.
- TrackingNet: ``<seq>.txt`` (comma separated boxes), zipped.
"""
import zipfile
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from fcot_ros.datasets.parsing import read_boxes, read_numbers
from fcot_ros.errors import ConfigurationError

LAYOUTS = ("pytracking", "got10k")


def result_paths(out, dataset: str, tracker: str, sequence: str, layout: str = "pytracking") -> Tuple[Path, Path]:
    """(boxes file, times file) of one sequence's result."""
    out = Path(out)
    if layout == "pytracking":
        folder = out / tracker / dataset
        return folder / f"{sequence}.txt", folder / f"{sequence}_time.txt"
    if layout == "got10k":
        folder = out / dataset / tracker
        return folder / f"{sequence}.txt", folder / "times" / f"{sequence}_time.txt"
    raise ConfigurationError(f"unknown layout {layout!r}; choose one of {LAYOUTS}")


def _delimiter(layout: str) -> str:
    return "\t" if layout == "pytracking" else ","


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)


def format_boxes(boxes, delimiter: str) -> str:
    """One line per box, 4 decimals; NaN written as ``nan``."""
    return "".join(delimiter.join(f"{v:.4f}" for v in row) + "\n" for row in np.asarray(boxes, dtype=np.float64))


def write_result(out, dataset, tracker, sequence, run, layout: str = "pytracking") -> Path:
    """Write boxes, times and states of ``run`` (a SequenceRun). The boxes file is written last
    (atomically), so its presence marks a finished sequence. Returns the boxes path."""
    boxes_path, times_path = result_paths(out, dataset, tracker, sequence, layout)
    _write_atomic(times_path, "".join(f"{t:.6f}\n" for t in run.times_s))
    states = "".join(f"{s:.4f}\t{st}\n" for s, st in zip(run.scores, run.states))
    _write_atomic(boxes_path.with_name(f"{sequence}_state.txt"), states)
    _write_atomic(boxes_path, format_boxes(run.boxes, _delimiter(layout)))
    return boxes_path


def read_result(out, dataset, tracker, sequence, layout: str = "pytracking") -> Tuple[np.ndarray, np.ndarray]:
    """(boxes (N, 4), times_s (N,)) of a written result; times are empty if the file is missing."""
    boxes_path, times_path = result_paths(out, dataset, tracker, sequence, layout)
    boxes = read_boxes(boxes_path)
    times = read_numbers(times_path).reshape(-1) if times_path.is_file() else np.zeros(0)
    return boxes, times


def is_complete(out, dataset, tracker, sequence, frames: int, layout: str = "pytracking") -> bool:
    """True if the sequence's boxes file exists with one box per frame (the run can be skipped)."""
    boxes_path, _ = result_paths(out, dataset, tracker, sequence, layout)
    if not boxes_path.is_file():
        return False
    try:
        return len(read_boxes(boxes_path)) == frames
    except Exception:  # a damaged file is simply redone
        return False


def write_got10k_submission(folder, results: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> Path:
    """GOT-10k server format from {sequence: (boxes, times_s)}; returns the zip path (``<folder>.zip``)."""
    folder = Path(folder)
    for name, (boxes, times) in results.items():
        _write_atomic(folder / name / f"{name}_001.txt", format_boxes(boxes, ","))
        _write_atomic(folder / name / f"{name}_time.txt", "".join(f"{t:.6f}\n" for t in times))
    return _zip(folder)


def write_trackingnet_submission(folder, results: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> Path:
    """TrackingNet server format from {sequence: (boxes, times_s)}; returns the zip path."""
    folder = Path(folder)
    for name, (boxes, _) in results.items():
        _write_atomic(folder / f"{name}.txt", format_boxes(boxes, ","))
    return _zip(folder)


def _zip(folder: Path) -> Path:
    target = folder.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.txt")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target
