"""Paired comparison of two trackers over the same sequences: mean AUC difference, wins, and a
bootstrap confidence interval over sequences (the unit that varies between benchmarks).

Restarts of one sequence (``<name>~r<k>``, training.validate --restarts) are averaged first, so a
sequence counts once however many times it was run.
"""
import re
from dataclasses import dataclass
from typing import Dict

import numpy as np

_RESTART = re.compile(r"~r\d+$")


def per_sequence_means(per_run_auc: Dict[str, float]) -> Dict[str, float]:
    """{sequence: mean AUC over its restarts} from {run name: AUC} (NaN runs ignored)."""
    groups: Dict[str, list] = {}
    for name, auc in per_run_auc.items():
        if auc is not None and np.isfinite(auc):
            groups.setdefault(_RESTART.sub("", name), []).append(float(auc))
    return {k: float(np.mean(v)) for k, v in groups.items()}


@dataclass(frozen=True)
class PairedDifference:
    """Paired AUC comparison of a against b: mean AUCs, mean difference and its bootstrap interval, wins, losses."""

    a: str
    b: str
    sequences: int
    mean_a: float
    mean_b: float
    mean_difference: float          # mean over sequences of AUC(a) - AUC(b)
    low: float                      # bootstrap percentile interval of mean_difference
    high: float
    wins: int                       # sequences where a > b
    losses: int                     # sequences where a < b


def paired_difference(a_auc: Dict[str, float], b_auc: Dict[str, float], a: str = "a", b: str = "b",
                      resamples: int = 10000, level: float = 0.95, seed: int = 0) -> PairedDifference:
    """Compare per-sequence AUCs (already averaged over restarts) on the sequences both have.

    The interval resamples the sequences with replacement ``resamples`` times (seeded) and takes
    the (1 - level) / 2 and (1 + level) / 2 percentiles of the mean difference.
    """
    common = sorted(set(a_auc) & set(b_auc))
    if not common:
        raise ValueError(f"{a} and {b} share no sequence")
    x = np.array([a_auc[s] for s in common])
    y = np.array([b_auc[s] for s in common])
    d = x - y
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(d), size=(resamples, len(d)))
    means = d[picks].mean(axis=1)
    tail = (1.0 - level) / 2
    return PairedDifference(a, b, len(d), float(x.mean()), float(y.mean()), float(d.mean()),
                            float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)),
                            int(np.sum(d > 0)), int(np.sum(d < 0)))
