"""DiMP discriminative model prediction for one classifier branch (FCOT eqs. 4-5 / DiMP).

Steepest descent with the Gauss-Newton step length on the learned residual
    r = v * sqrt(w_n) * (act_m(x_n * f) - y),   act_m(s) = m*s + (1-m)*max(0, s)
    L(f) = 1/2 * sum ||r||^2 + lambda/2 * ||f||^2,   lambda = max(filter_reg, 1e-3)^2
where y (label), m (mask, after a sigmoid) and v (spatial weight) are learned functions of the
distance d of each score cell to the target centre (radial_basis), and w_n the sample weights.
Each iteration is one Gauss-Newton steepest-descent step (target_model.steepest_descent, the loop
shared with the regression optimizer); ||J g||^2 counts every score cell.

Written once: the tracker calls it under no_grad; training differentiates through the iterates.
Shapes: feat (N, S, C, H, W); boxes (N, S, 4) xywh in crop pixels; filter (S, 1, C, k, k);
sample_weight (N, S) summing to 1 per sequence, or None (uniform).
"""
import math

import torch
from torch import nn

from fcot_ros.target_model.filter_ops import apply_feat_transpose, apply_filter
from fcot_ros.target_model.radial_basis import RadialFunction, gaussian_label_init, tanh_mask_init
from fcot_ros.target_model.steepest_descent import DescentResult, gauss_newton_step_length, steepest_descent


def leaky_relu_par(scores, mask):
    """((1-m)/2)|s| + ((1+m)/2) s  (= m*s + (1-m)*relu(s))."""
    return 0.5 * (1.0 - mask) * scores.abs() + 0.5 * (1.0 + mask) * scores


def leaky_relu_par_deriv(scores, mask):
    """d act / d s = ((1-m)/2) sign(s) + (1+m)/2."""
    return 0.5 * (1.0 - mask) * torch.sign(scores) + 0.5 * (1.0 + mask)


def score_grid_distance(boxes, stride, grid_size, filter_size):
    """Distance (score cells) of every cell of the (Ho, Wo) score grid to the box centres.

    boxes (..., 4) xywh crop pixels -> (..., Ho, Wo). The centre is box centre / stride minus
    (filter_size mod 2) / 2; score cell (i, j) sits at (i, j).
    """
    ho, wo = grid_size
    centre = (boxes[..., :2] + 0.5 * boxes[..., 2:]) / stride - (filter_size % 2) / 2.0
    ys = torch.arange(ho, dtype=boxes.dtype, device=boxes.device)
    xs = torch.arange(wo, dtype=boxes.dtype, device=boxes.device)
    dy = ys.view(*([1] * (boxes.dim() - 1)), ho, 1) - centre[..., 1, None, None]
    dx = xs.view(*([1] * (boxes.dim() - 1)), 1, wo) - centre[..., 0, None, None]
    return torch.sqrt(dy * dy + dx * dx)


class ClassifierOptimizer(nn.Module):
    """Learned parameters (authors' names): log_step_length, filter_reg, label_map_predictor,
    target_mask_predictor (pre-sigmoid), spatial_weight_predictor."""

    def __init__(self, feat_stride, filter_size=4, num_iter=5, init_step_length=0.9, init_filter_reg=0.1,
                 init_gauss_sigma=0.9, num_dist_bins=100, bin_displacement=0.1, mask_init_factor=3.0,
                 mask_radius=2.0, min_filter_reg=1e-3):
        super().__init__()
        self.feat_stride = feat_stride
        self.filter_size = filter_size
        self.num_iter = num_iter
        self.min_filter_reg = min_filter_reg
        self.log_step_length = nn.Parameter(torch.tensor([math.log(init_step_length)]))
        self.filter_reg = nn.Parameter(torch.tensor([float(init_filter_reg)]))
        self.label_map_predictor = RadialFunction(num_dist_bins, bin_displacement)
        self.target_mask_predictor = RadialFunction(num_dist_bins, bin_displacement)
        self.spatial_weight_predictor = RadialFunction(num_dist_bins, bin_displacement)
        with torch.no_grad():
            self.label_map_predictor.weight.view(-1).copy_(
                gaussian_label_init(num_dist_bins, bin_displacement, init_gauss_sigma))
            self.target_mask_predictor.weight.view(-1).copy_(
                tanh_mask_init(num_dist_bins, bin_displacement, mask_init_factor, mask_radius))
            self.spatial_weight_predictor.weight.fill_(1.0)

    @property
    def reg_weight(self):
        """lambda = filter_reg^2, at least min_filter_reg^2."""
        return (self.filter_reg * self.filter_reg).clamp(min=self.min_filter_reg ** 2)

    def loss_maps(self, boxes, grid_size):
        """label y, mask m (after sigmoid), spatial weight v: each (N, S, 1, Ho, Wo)."""
        dist = score_grid_distance(boxes, self.feat_stride, grid_size, self.filter_size).unsqueeze(2)
        return (self.label_map_predictor(dist), torch.sigmoid(self.target_mask_predictor(dist)),
                self.spatial_weight_predictor(dist))

    def _residual_terms(self, feat, boxes, sample_weight):
        """label y, mask m and the per-cell residual weight v * sqrt(w_n): each (N, S, 1, Ho, Wo)."""
        n, s = feat.shape[:2]
        k = self.filter_size
        grid = (feat.shape[-2] + 2 * (k // 2) - k + 1, feat.shape[-1] + 2 * (k // 2) - k + 1)
        label, mask, spatial = self.loss_maps(boxes, grid)
        if sample_weight is None:
            sw = spatial * math.sqrt(1.0 / n)
        else:
            sw = spatial * sample_weight.clamp(min=0).sqrt().view(n, s, 1, 1, 1)
        return label, mask, sw

    def _gradient_and_jacobian(self, filt, feat, label, mask, sw):
        """Closed-form gradient g (S,1,C,k,k) of the objective and J g (N,S,1,Ho,Wo) on every cell."""
        scores = apply_filter(feat, filt)
        residual = sw * (leaky_relu_par(scores, mask) - label)
        jac_scale = sw * leaky_relu_par_deriv(scores, mask)
        grad = apply_feat_transpose(feat, jac_scale * residual, self.filter_size) + self.reg_weight * filt
        return grad, jac_scale * apply_filter(feat, grad)

    def gradient_and_step(self, filt, feat, boxes, sample_weight=None):
        """dL/df in closed form (S,1,C,k,k) and the Gauss-Newton step length (S,) (tests, analysis)."""
        grad, jac_grad = self._gradient_and_jacobian(filt, feat, *self._residual_terms(feat, boxes, sample_weight))
        return grad, gauss_newton_step_length(grad, jac_grad, self.reg_weight)

    def forward(self, filt, feat, boxes, sample_weight=None, num_iter=None, compute_losses=False,
                keep_iterates=True) -> DescentResult:
        """Run ``num_iter`` (default ``self.num_iter``) steepest-descent steps from ``filt``.

        Returns a DescentResult: the final filter (S,1,C,k,k), the iterates (the start first; empty
        with keep_iterates=False) and, with compute_losses, L(f) (S,) at every iterate.
        """
        num_iter = self.num_iter if num_iter is None else num_iter
        terms = self._residual_terms(feat, boxes, sample_weight)
        return steepest_descent(
            filt, lambda f: self._gradient_and_jacobian(f, feat, *terms), self.reg_weight, self.log_step_length,
            num_iter, objective=(lambda f: self._objective(f, feat, *terms)) if compute_losses else None,
            keep_iterates=keep_iterates)

    def _objective(self, filt, feat, label, mask, sw):
        residual = sw * (leaky_relu_par(apply_filter(feat, filt), mask) - label)
        return 0.5 * (residual * residual).sum(dim=(0, 2, 3, 4)) + \
            0.5 * self.reg_weight * (filt * filt).sum(dim=(1, 2, 3, 4))

    def loss(self, filt, feat, boxes, sample_weight=None):
        """L(f) per sequence (S,): the objective the steps minimise (for tests and training)."""
        return self._objective(filt, feat, *self._residual_terms(feat, boxes, sample_weight))
