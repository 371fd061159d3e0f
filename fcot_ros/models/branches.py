"""The three target models of FCOT, one object per branch (pytracking's LinearFilter role): each holds
its feature head, its filter initializer and its online optimizer, and applies its filter.

- ``cls18``: the classifier on the 18x18 feature map (stride 16; for a 288 crop). Its 4x4 filter
  (even size, padding 2) gives a **19x19** score map: ``score_size`` says so.
- ``cls72``: the classifier on the 72x72 map (stride 4), 73x73 scores.
- ``reg``: the regressor (RMG): four 3x3 filters on the 72x72 regression features giving the
  distances (left, right, top, bottom) to the box sides, in cells of the 72 grid, after a ReLU.

``fit`` is the one way to get a filter, used by the tracker (under no_grad, ``keep_iterates=False``)
and by training (differentiable through the iterates, ``keep_iterates=True``).

Shapes: features (N, S, C, H, W) = N images of S sequences; boxes (N, S, 4) xywh in crop pixels;
sample weights (N, S) summing to 1 per sequence, or None (uniform); filters (S, F, C, k, k).
"""
import torch
from torch import nn

from fcot_ros.target_model.filter_ops import apply_filter, output_size
from fcot_ros.target_model.solvers import REG_SOLVERS
from fcot_ros.target_model.steepest_descent import DescentResult


class _Branch(nn.Module):
    """What every branch holds: its feature head, filter initializer and online optimizer, and the
    side of its feature map (cells)."""

    def __init__(self, head, initializer, optimizer, feature_size):
        super().__init__()
        self.head = head
        self.initializer = initializer
        self.optimizer = optimizer
        self.feature_size = feature_size

    @property
    def stride(self) -> int:
        return self.optimizer.feat_stride

    @property
    def filter_size(self) -> int:
        return self.optimizer.filter_size

    @property
    def score_size(self) -> int:
        """Side of the output map: feature_size + 1 for an even filter (19 for cls18), else feature_size."""
        return output_size(self.feature_size, self.filter_size)


class ClassifierBranch(_Branch):
    """head: (B, Cin, H, W) -> (B, C, H, W); initializer: FilterInitializer; optimizer: ClassifierOptimizer."""

    def features(self, x, n, s):
        """Head features of (N*S, Cin, H, W) inputs, as (N, S, C, H, W)."""
        f = self.head(x)
        return f.view(n, s, *f.shape[1:])

    def initial_filter(self, feat, boxes):
        """The initializer's filter: feat (N, S, C, H, W), boxes (N, S, 4) -> (S, 1, C, k, k)."""
        return self.initializer(feat, boxes)

    def fit(self, feat, boxes, weights=None, num_iter=None, keep_iterates=False, start=None,
            compute_losses=False) -> DescentResult:
        """Filter fitted to the samples by ``num_iter`` steepest-descent steps from ``start``
        (default: the initializer's filter of these samples). Returns a DescentResult (final
        filter (S, 1, C, k, k); iterates from the start when keep_iterates; losses if asked)."""
        if start is None:
            start = self.initial_filter(feat, boxes)
        return self.optimizer(start, feat, boxes, weights, num_iter=num_iter, compute_losses=compute_losses,
                              keep_iterates=keep_iterates)

    def apply(self, feat, filt):
        """Scores (N, S, 1, Ho, Wo) of filters (S, 1, C, k, k) on features (N, S, C, H, W)."""
        return apply_filter(feat, filt)


class RegressionBranch(_Branch):
    """head: RegressionFeatures (p36, p72) -> (B, C, 72, 72); initializer: RMGInitializer (p36, p72,
    boxes) -> (B, 4, C, k, k); optimizer: RegressionOptimizer."""

    def features(self, p36, p72, n, s):
        """Regression features of (N*S, D, 36, 36) and (N*S, D, 72, 72) pyramid maps, as (N, S, C, 72, 72)."""
        f = self.head(p36, p72)
        return f.view(n, s, *f.shape[1:])

    def initial_filter(self, p36, p72, boxes):
        """RMG filter from one image per sequence: p36 (S, D, 36, 36), p72 (S, D, 72, 72), boxes (S, 4)
        -> (S, 4, C, k, k)."""
        return self.initializer(p36, p72, boxes)

    def fit(self, feat, boxes, weights=None, num_iter=None, keep_iterates=False, start=None,
            solver="steepest_descent", grid_size=None, label="fcot_ros", compute_losses=False) -> DescentResult:
        """Regression filter fitted to the samples.

        solver "steepest_descent": ``num_iter`` steps from ``start`` (the RMG filter or the current
        one: required). "exact": the minimiser of the same loss (RegressionOptimizer.solve; no start).
        grid_size: ``feat`` holds loss windows of maps of that size (RegressionOptimizer.cut_windows).
        label: "fcot_ros" or "authors" (regression_labels). Returns a DescentResult.
        """
        if solver not in REG_SOLVERS:
            raise ValueError(f"regression solver must be one of {REG_SOLVERS}, not {solver!r}")
        opt = self.optimizer
        if solver == "exact":
            filt = opt.solve(feat, boxes, weights, grid_size=grid_size, label=label)
            losses = [opt.loss(filt, feat, boxes, weights, grid_size, label)] if compute_losses else []
            return DescentResult(filter=filt, iterates=[filt] if keep_iterates else [], losses=losses)
        if start is None:
            raise ValueError("steepest descent needs a start filter (the RMG filter: initial_filter)")
        return opt(start, feat, boxes, weights, num_iter=num_iter, compute_losses=compute_losses, grid_size=grid_size,
                   label=label, keep_iterates=keep_iterates)

    def apply(self, feat, filt):
        """Distances (N, S, 4, H, W) to the box sides (left, right, top, bottom), grid cells, >= 0."""
        return torch.relu(apply_filter(feat, filt))
