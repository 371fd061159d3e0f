"""Success and precision plots (PNG and SVG) comparing result sets, drawn with matplotlib's Agg backend."""
from pathlib import Path
from typing import Dict, List

import numpy as np

from fcot_ros.evaluation.metrics import NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, Summary


def _figure():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt, plt.subplots(figsize=(5.0, 4.0), dpi=100)


def _save(plt, fig, path_stem: Path) -> List[Path]:
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".svg"):
        target = path_stem.with_suffix(suffix)
        fig.savefig(target, bbox_inches="tight")
        written.append(target)
    plt.close(fig)
    return written


def plot_curves(summaries: Dict[str, Summary], out_dir, title: str = "") -> List[Path]:
    """Write success.{png,svg}, precision.{png,svg} and norm_precision.{png,svg} into ``out_dir``.

    ``summaries`` maps a tracker's label to its Summary; legends are sorted by the plot's score
    (AUC, precision at 20 px, normalised precision at 0.2)."""
    out_dir = Path(out_dir)
    specs = [
        ("success", SUCCESS_THRESHOLDS, "success_curve", "auc", "Overlap threshold (IoU)", "Success rate",
         f"Success plot{' - ' + title if title else ''}", "AUC"),
        ("precision", PRECISION_THRESHOLDS, "precision_curve", "precision", "Location error threshold (pixels)",
         "Precision", f"Precision plot{' - ' + title if title else ''}", "P@20"),
        ("norm_precision", NORM_PRECISION_THRESHOLDS, "norm_precision_curve", "norm_precision",
         "Normalised location error threshold", "Normalised precision",
         f"Normalised precision{' - ' + title if title else ''}", "NP@0.2"),
    ]
    written = []
    for stem, x, curve_attr, score_attr, xlabel, ylabel, heading, short in specs:
        plt, (fig, ax) = _figure()
        ranked = sorted(summaries.items(), key=lambda kv: -np.nan_to_num(getattr(kv[1], score_attr), nan=-1))
        for label, summary in ranked:
            ax.plot(x, getattr(summary, curve_attr), linewidth=2,
                    label=f"{label} [{short} {getattr(summary, score_attr):.3f}]")
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(0, 1.0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(heading)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left" if stem == "success" else "lower right", fontsize=8)
        written += _save(plt, fig, out_dir / stem)
    return written
