"""One-pass evaluation (OPE) metrics: success AUC, precision, normalised precision, GOT-10k AO / SR.

Protocol (DESIGN.md "Measuring"):
- The first frame (the initialisation frame) is never scored.
- A frame whose ground truth is NaN, has zero/negative width or height, or is flagged absent by the
  benchmark (LaSOT full occlusion / out of view, GOT-10k absence, UAV123 NaN rows) is skipped: it is
  neither a hit nor a miss. Trackers are not rewarded for reporting absence either.
- A predicted box with NaN or zero area scores IoU 0 and an infinite centre error.
- Success: fraction of scored frames with IoU > t for 21 thresholds t = 0, 0.05, ..., 1 (OTB/pytracking);
  AUC = mean of that curve. Precision: fraction with centre error <= t pixels, t = 0..50;
  "precision@20" is the value at 20 px. Normalised precision (LaSOT): centre error divided per axis by
  the ground-truth width/height, thresholds 0..0.5 step 0.01; the score is the value at 0.2 (pytracking).
- GOT-10k: AO = mean IoU, SR0.5 / SR0.75 = fraction with IoU > 0.5 / 0.75.
- Averages over a dataset: AUC, precision and normalised precision are means of per-sequence values
  (OTB / pytracking); AO and SR are over all scored frames pooled (GOT-10k toolkit).
"""
from dataclasses import dataclass, field
from typing import Dict, Iterable, List

import numpy as np

from fcot_ros.evaluation.boxes import centre_error, normalised_centre_error
from fcot_ros.tracker.box_geometry import as_boxes, iou

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)           # IoU
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)  # pixels
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0  # unitless
PRECISION_AT = 20.0       # pixels
NORM_PRECISION_AT = 0.2   # unitless


def scored_frames(gt, absent=None, skip_first: bool = True) -> np.ndarray:
    """Boolean mask of the frames that are scored: gt finite with w > 0 and h > 0, not flagged absent,
    and not the first frame when ``skip_first``."""
    g = as_boxes(gt)
    with np.errstate(invalid="ignore"):
        mask = np.all(np.isfinite(g), axis=1) & (g[:, 2] > 0) & (g[:, 3] > 0)
    if absent is not None:
        absent = np.asarray(absent, dtype=bool)
        if absent.shape != mask.shape:
            raise ValueError(f"absent flags have {absent.shape[0]} frames, ground truth {mask.shape[0]}")
        mask &= ~absent
    if skip_first and len(mask):
        mask[0] = False
    return mask


def success_curve(ious, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU strictly above each threshold (NaN if there is no frame)."""
    ious = np.asarray(ious, dtype=np.float64)
    if ious.size == 0:
        return np.full(len(thresholds), np.nan)
    return (ious[None, :] > np.asarray(thresholds)[:, None]).mean(axis=1)


def precision_curve(errors, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with centre error at or below each threshold (NaN if there is no frame)."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return (errors[None, :] <= np.asarray(thresholds)[:, None]).mean(axis=1)


def _value_at(curve, thresholds, at) -> float:
    index = int(np.argmin(np.abs(np.asarray(thresholds) - at)))
    return float(curve[index])


@dataclass
class SequenceScore:
    """Per-frame errors of one tracker on one sequence, restricted to the scored frames.

    ious: IoU per scored frame; centre_errors: pixels; norm_errors: unitless (LaSOT normalisation).
    """

    name: str
    ious: np.ndarray
    centre_errors: np.ndarray
    norm_errors: np.ndarray
    attributes: tuple = ()

    @property
    def frames(self) -> int:
        """Number of scored frames."""
        return int(self.ious.size)

    @property
    def success_curve(self) -> np.ndarray:
        """Fraction of scored frames with IoU above each of SUCCESS_THRESHOLDS (21 values)."""
        return success_curve(self.ious)

    @property
    def precision_curve(self) -> np.ndarray:
        """Fraction of scored frames with centre error <= each of PRECISION_THRESHOLDS (0..50 pixels)."""
        return precision_curve(self.centre_errors)

    @property
    def norm_precision_curve(self) -> np.ndarray:
        """Fraction of scored frames with normalised centre error <= each of NORM_PRECISION_THRESHOLDS."""
        return precision_curve(self.norm_errors, NORM_PRECISION_THRESHOLDS)

    @property
    def auc(self) -> float:
        """Success AUC in [0, 1] (mean of the 21-threshold success curve)."""
        return float(np.mean(self.success_curve))

    @property
    def precision(self) -> float:
        """Precision at 20 px."""
        return _value_at(self.precision_curve, PRECISION_THRESHOLDS, PRECISION_AT)

    @property
    def norm_precision(self) -> float:
        """Normalised precision at 0.2."""
        return _value_at(self.norm_precision_curve, NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT)

    @property
    def ao(self) -> float:
        """Average overlap (mean IoU)."""
        return float(np.mean(self.ious)) if self.ious.size else float("nan")


def score_sequence(pred, gt, absent=None, name: str = "", attributes=()) -> SequenceScore:
    """Score predicted boxes against ground truth, both (N, 4) xywh pixels, frame 0 = init frame.

    ``absent`` is an optional per-frame boolean array of benchmark-specific absence flags.
    A prediction with fewer rows than the ground truth is an error (the run is incomplete).
    """
    p, g = as_boxes(pred), as_boxes(gt)
    if p.shape[0] != g.shape[0]:
        raise ValueError(f"sequence {name!r}: {p.shape[0]} predicted boxes for {g.shape[0]} frames")
    mask = scored_frames(g, absent)
    p, g = p[mask], g[mask]
    return SequenceScore(name=name, ious=iou(p, g), centre_errors=centre_error(p, g),
                         norm_errors=normalised_centre_error(p, g), attributes=tuple(attributes))


@dataclass
class Summary:
    """Dataset-level scores of one tracker (see the module docstring for how they average)."""

    sequences: int
    frames: int
    auc: float
    precision: float
    norm_precision: float
    ao: float
    sr50: float
    sr75: float
    success_curve: np.ndarray = field(repr=False)
    precision_curve: np.ndarray = field(repr=False)
    norm_precision_curve: np.ndarray = field(repr=False)

    def as_dict(self) -> Dict[str, float]:
        """The scalar scores by name (sequences, frames, auc, precision, norm_precision, ao, sr50, sr75)."""
        return {k: getattr(self, k) for k in ("sequences", "frames", "auc", "precision", "norm_precision",
                                               "ao", "sr50", "sr75")}


def summarise(scores: Iterable[SequenceScore]) -> Summary:
    """Average per-sequence scores; sequences without any scored frame are left out of the means."""
    scores = [s for s in scores if s.frames > 0]
    nan = float("nan")
    if not scores:
        empty = np.full(len(SUCCESS_THRESHOLDS), np.nan)
        return Summary(0, 0, nan, nan, nan, nan, nan, nan, empty,
                       np.full(len(PRECISION_THRESHOLDS), np.nan), np.full(len(NORM_PRECISION_THRESHOLDS), np.nan))
    succ = np.mean([s.success_curve for s in scores], axis=0)
    prec = np.mean([s.precision_curve for s in scores], axis=0)
    nprec = np.mean([s.norm_precision_curve for s in scores], axis=0)
    pooled = np.concatenate([s.ious for s in scores])
    return Summary(
        sequences=len(scores), frames=int(pooled.size), auc=float(np.mean(succ)),
        precision=_value_at(prec, PRECISION_THRESHOLDS, PRECISION_AT),
        norm_precision=_value_at(nprec, NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT),
        ao=float(pooled.mean()), sr50=float((pooled > 0.5).mean()), sr75=float((pooled > 0.75).mean()),
        success_curve=succ, precision_curve=prec, norm_precision_curve=nprec)


def summarise_by_attribute(scores: List[SequenceScore]) -> Dict[str, Summary]:
    """Summary per attribute over the sequences that carry it (empty if no sequence has attributes)."""
    names = sorted({a for s in scores for a in s.attributes})
    return {a: summarise([s for s in scores if a in s.attributes]) for a in names}


def fps(times_s, skip_first: bool = True) -> float:
    """Frames per second from per-frame tracking times in seconds (the init frame left out)."""
    t = np.asarray(times_s, dtype=np.float64)
    if skip_first:
        t = t[1:]
    total = float(np.sum(t))
    return len(t) / total if total > 0 else float("nan")

