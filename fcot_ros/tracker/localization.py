"""DiMP's advanced localisation on the fused 72x72 score map: peak, distractor and
hard-negative analysis. Positions are (row, col) cells of the fused map (stride 4 crop px).

The outcome is a ``PeakFlag`` (the authors' flags "normal", "uncertain", "hard_negative",
"not_found"): what the score map says about this frame's peak. It is not the tracker's result
state (contract.result: "tracking", "uncertain", "lost"), which the tracker derives from it.
"""
from dataclasses import dataclass
from enum import Enum

import numpy as np


class PeakFlag(str, Enum):
    """What the fused score map says about this frame's peak (the authors' localisation flags)."""

    NORMAL = "normal"                  # one clear peak
    UNCERTAIN = "uncertain"            # a distractor competes and neither is clearly the target
    HARD_NEGATIVE = "hard_negative"    # a distractor exists; train on this frame at once
    NOT_FOUND = "not_found"            # no peak above the not-found threshold


@dataclass
class Localization:
    """Outcome of the localisation: the chosen peak (row, col) in cells of the fused score map, its score, its flag."""

    peak: tuple          # (row, col) cell of the chosen maximum
    score: float         # score at the chosen maximum (unwindowed)
    flag: PeakFlag


def hann_window(size):
    """(size, size) centred cosine window."""
    w = np.hanning(size + 2)[1:-1]
    return np.outer(w, w).astype(np.float32)


def localize(scores, prev_cell, target_size_cells, params, window=None):
    """scores (H, W) numpy; prev_cell (row, col): where the target was, in cells of this map;
    target_size_cells (h, w) of the target in cells. Returns a Localization."""
    h, w = scores.shape
    weighted = scores * window if window is not None else scores
    index1 = int(np.argmax(weighted))
    peak1 = (index1 // w, index1 % w)
    score1 = float(weighted[peak1])
    if not np.isfinite(score1):
        return Localization(peak1, float("nan"), PeakFlag.NOT_FOUND)
    if score1 < params.target_not_found_threshold:
        return Localization(peak1, score1, PeakFlag.NOT_FOUND)
    # mask the target neighbourhood and look for a second peak in the unwindowed scores
    neigh = params.target_neighborhood_scale * np.asarray(target_size_cells, dtype=np.float64)
    top = max(int(round(peak1[0] - neigh[0] / 2)), 0)
    bottom = min(int(round(peak1[0] + neigh[0] / 2 + 1)), h)
    left = max(int(round(peak1[1] - neigh[1] / 2)), 0)
    right = min(int(round(peak1[1] + neigh[1] / 2 + 1)), w)
    masked = scores.copy()
    masked[top:bottom, left:right] = 0
    index2 = int(np.argmax(masked))
    peak2 = (index2 // w, index2 % w)
    score2 = float(masked[peak2])
    if score2 > params.distractor_threshold * score1:
        prev = np.asarray(prev_cell, dtype=np.float64)
        d1 = float(np.hypot(*(np.asarray(peak1) - prev)))
        d2 = float(np.hypot(*(np.asarray(peak2) - prev)))
        threshold = params.displacement_scale * np.sqrt(h * w) / 2
        if d2 > threshold and d1 < threshold:
            return Localization(peak1, score1, PeakFlag.HARD_NEGATIVE)
        if d2 < threshold and d1 > threshold:
            return Localization(peak2, float(scores[peak2]), PeakFlag.HARD_NEGATIVE)
        return Localization(peak1, score1, PeakFlag.UNCERTAIN)
    if score2 > params.hard_negative_threshold * score1 and score2 > params.target_not_found_threshold:
        return Localization(peak1, score1, PeakFlag.HARD_NEGATIVE)
    return Localization(peak1, score1, PeakFlag.NORMAL)


def iou_select(flag: PeakFlag, iou: float, threshold: float) -> PeakFlag:
    """The authors' iou_select (TrackingNet preset): when the new box overlaps the previous one by
    less than ``threshold`` (IoU), a normal peak becomes uncertain and any other peak not found."""
    if flag is PeakFlag.NOT_FOUND or iou >= threshold:
        return flag
    return PeakFlag.UNCERTAIN if flag is PeakFlag.NORMAL else PeakFlag.NOT_FOUND


def refine_peak(scores: np.ndarray, peak) -> tuple:
    """Sub-cell position (row, col) of a score peak: on each axis, the vertex of the parabola through
    the peak cell and its two neighbours (clamped to +-0.5 cell; the cell itself at the map border or
    when the three values are not a maximum). Continuous in the scores: two neighbouring cells of
    nearly equal score give nearly the same position whichever wins the argmax."""
    h, w = scores.shape
    r, c = peak
    out = []
    for pos, size, line in ((r, h, scores[:, c]), (c, w, scores[r, :])):
        if 0 < pos < size - 1:
            left, mid, right = float(line[pos - 1]), float(line[pos]), float(line[pos + 1])
            curvature = left - 2.0 * mid + right
            offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
            out.append(pos + min(max(offset, -0.5), 0.5))
        else:
            out.append(float(pos))
    return tuple(out)
