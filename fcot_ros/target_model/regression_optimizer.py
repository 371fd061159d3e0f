"""RMG online regression optimizer (FCOT eqs. 7-12): steepest descent with a Gauss-Newton
step on a plain L2 residual at the target-centre cell(s).

    r_n = sqrt(w_n) * M_n * (x_n * f - y_n),   L(f) = 1/2 sum ||r||^2 + lambda/2 ||f||^2
f holds 4 filters (left, right, top, bottom distances in 72-grid cells); M_n selects the
integer centre cell of sample n (radius 0, as the paper), or its (2R+1)^2 neighbourhood
with correspondingly shifted targets (radius R > 0, used by fcot_lite before training); the
labels are those of target_model.regression_labels (our convention, or the authors' transposed
one for ``compat="authors"``). The iterations are the shared loop of target_model.steepest_descent.

Step length: the paper's Gauss-Newton rule uses the same (masked) cells in ||J g||^2 as in
the residual ("masked"). The authors' code computes ||J g||^2 over the whole 72x72 map
("authors"), which makes steps ~1e4x smaller; their released weights learned their
log_step_length around that, so importing their checkpoint selects "authors".

Shapes: feat (N, S, C, H, W); boxes (N, S, 4) xywh crop pixels; filter (S, 4, C, k, k);
sample_weight (N, S) or None (uniform 1/N).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from fcot_ros.target_model.filter_ops import apply_feat_transpose, apply_filter
from fcot_ros.target_model.regression_labels import crop_windows, label_cells, regression_targets
from fcot_ros.target_model.steepest_descent import DescentResult, gauss_newton_step_length, steepest_descent

STEP_RULES = ("masked", "authors")


class RegressionOptimizer(nn.Module):
    """Learned parameters (authors' names): log_step_length, filter_reg."""

    def __init__(self, feat_stride=4, filter_size=3, num_iter=5, init_step_length=1.0, init_filter_reg=0.1,
                 min_filter_reg=1e-3, step_rule="masked", label_radius=0, windowed=True):
        super().__init__()
        if step_rule not in STEP_RULES:
            raise ValueError(f"step_rule must be one of {STEP_RULES}")
        self.feat_stride = feat_stride
        self.filter_size = filter_size
        self.num_iter = num_iter
        self.min_filter_reg = min_filter_reg
        self.step_rule = step_rule
        self.label_radius = label_radius
        self.windowed = windowed        # False: always the whole map (the reference in tests)
        self.log_step_length = nn.Parameter(torch.tensor([math.log(init_step_length)]))
        self.filter_reg = nn.Parameter(torch.tensor([float(init_filter_reg)]))

    @property
    def reg_weight(self):
        """lambda = filter_reg^2, at least min_filter_reg^2 (the filter regularisation weight)."""
        return (self.filter_reg * self.filter_reg).clamp(min=self.min_filter_reg ** 2)

    def _weights(self, n, s, sample_weight, like):
        if sample_weight is None:
            return torch.full((n, s, 1, 1, 1), math.sqrt(1.0 / n), dtype=like.dtype, device=like.device)
        return sample_weight.clamp(min=0).sqrt().view(n, s, 1, 1, 1)

    @property
    def loss_window(self):
        """Side L = 2R + 1 + 2 (k // 2) of the cell windows that hold all the loss sees (odd k):
        the (2R+1)^2 masked cells around a centre and the features within k // 2 cells of them."""
        k = self.filter_size
        if k % 2 == 0:
            raise ValueError("regression windows need an odd filter size")
        return 2 * self.label_radius + 1 + 2 * (k // 2)

    def window_size(self, grid_size):
        """Side of the feature windows that steepest descent on (H, W) = grid_size maps may use,
        or None for the whole map.

        With the masked rule only the (2R+1)^2 cells around each centre have a residual: the loss,
        its gradient and the step length on ``loss_window`` windows equal those on the whole map.
        The authors' rule sums ||J g||^2 over the whole map, so it needs the whole map.
        """
        if not self.windowed or self.step_rule != "masked" or self.filter_size % 2 == 0:
            return None
        side = self.loss_window
        return side if side < min(grid_size) else None

    def cut_windows(self, feat, boxes, label="fcot_ros"):
        """feat (N, S, C, H, W), boxes (N, S, 4) -> the (N, S, C, L, L) ``loss_window`` windows
        around each sample's label cell (zero outside the map). Every method takes them in place
        of the maps when given ``grid_size=(H, W)``; a sample memory can keep just these.
        ``label``: the label convention the windows will be used with (its cells differ)."""
        grid = feat.shape[-2:]
        return crop_windows(feat, *label_cells(boxes, self.feat_stride, grid, label), self.loss_window)

    def _residual_terms(self, feat, boxes, sample_weight, grid_size=None, label="fcot_ros"):
        """feat, or its windows around each centre (see window_size); targets (N,S,4,h,w), masked
        residual weight (N,S,1,h,w), unmasked sample weight (N,S,1,1,1) on those maps.
        grid_size: feat already holds the windows of maps of that size (see cut_windows)."""
        n, s = feat.shape[:2]
        if grid_size is None:
            grid = feat.shape[-2:]
            window = self.window_size(grid)
            if window is not None:
                feat = self.cut_windows(feat, boxes, label)
        else:
            grid, window = tuple(grid_size), self.loss_window
            if self.step_rule != "masked":
                raise ValueError("the authors' step rule needs whole maps, not windows")
            if tuple(feat.shape[-2:]) != (window, window):
                raise ValueError(f"windows must be {window}x{window}, got {tuple(feat.shape[-2:])}")
        mask, targets = regression_targets(boxes, self.feat_stride, grid, self.label_radius, window, label)
        weight = self._weights(n, s, sample_weight, feat)
        return feat, targets, weight * mask, weight

    def _gradient_and_jacobian(self, filt, feat, targets, sw, weight):
        """Closed-form gradient g (S,4,C,k,k) and J g (N,S,4,h,w) on the cells ``step_rule`` counts:
        the masked cells ("masked"), or every cell of the map ("authors")."""
        residual = sw * (apply_filter(feat, filt) - targets)
        grad = apply_feat_transpose(feat, sw * residual, self.filter_size) + self.reg_weight * filt
        jg = apply_filter(feat, grad)
        return grad, (sw * jg if self.step_rule == "masked" else weight * jg)

    def gradient_and_step(self, filt, feat, boxes, sample_weight=None, grid_size=None, label="fcot_ros"):
        """dL/df in closed form and the step length of ``step_rule`` (for tests and analysis)."""
        feat, targets, sw, weight = self._residual_terms(feat, boxes, sample_weight, grid_size, label)
        grad, jac_grad = self._gradient_and_jacobian(filt, feat, targets, sw, weight)
        return grad, gauss_newton_step_length(grad, jac_grad, self.reg_weight)

    def forward(self, filt, feat, boxes, sample_weight=None, num_iter=None, compute_losses=False, grid_size=None,
                label="fcot_ros", keep_iterates=True) -> DescentResult:
        """``num_iter`` steps from ``filt`` (S,4,C,k,k); a DescentResult like ClassifierOptimizer.forward."""
        num_iter = self.num_iter if num_iter is None else num_iter
        feat, targets, sw, weight = self._residual_terms(feat, boxes, sample_weight, grid_size, label)
        return steepest_descent(
            filt, lambda f: self._gradient_and_jacobian(f, feat, targets, sw, weight), self.reg_weight,
            self.log_step_length, num_iter,
            objective=(lambda f: self._objective(f, feat, targets, sw)) if compute_losses else None,
            keep_iterates=keep_iterates)

    def solve(self, feat, boxes, sample_weight=None, grid_size=None, label="fcot_ros"):
        """The exact minimiser of L(f), by the normal equations (no steps, no start filter).

        (sum_n w_n sum_cells M x x^T + lambda I) f = sum_n w_n sum_cells M x y, with x the k x k x C
        feature patch of a masked cell and y its 4 targets; lambda = reg_weight. The limit of
        infinitely many steps of either step rule (they share the loss). fcot_lite uses it before
        its RMG initializer is trained: its zero initial filter and 4 untrained steps leave the
        regressor far from the loss minimum (tracker parameter ``reg_solver``). Odd k only.
        feat (N, S, C, H, W) (or windows, with grid_size), boxes (N, S, 4) -> filter (S, 4, C, k, k);
        differentiable.
        """
        side, k = self.loss_window, self.filter_size
        if grid_size is None:
            grid_size, feat = feat.shape[-2:], self.cut_windows(feat, boxes, label)
        n, s, c = feat.shape[:3]
        # the (2R+1)^2 cells around each centre hold every masked cell; their k x k patches (the
        # valid positions of the window), in the filter's (C, k, k) order: (N, S, C*k*k, (2R+1)^2)
        patches = F.unfold(feat.reshape(n * s, c, side, side), k).view(n, s, c * k * k, -1)
        mask, targets = regression_targets(boxes, self.feat_stride, tuple(grid_size), self.label_radius,
                                           2 * self.label_radius + 1, label)
        cell_weight = self._weights(n, s, sample_weight, feat).view(n, s, 1) ** 2 * mask.reshape(n, s, -1)
        weighted = patches * cell_weight.unsqueeze(2)
        gram = torch.einsum("nsdp,nsep->sde", weighted, patches)                      # (S, D, D)
        rhs = torch.einsum("nsdp,nsfp->sdf", weighted, targets.reshape(n, s, 4, -1))  # (S, D, 4)
        eye = torch.eye(c * k * k, dtype=feat.dtype, device=feat.device)
        # in float64: lambda is small against the feature energy (fcot_lite: 1 vs ~60 per dimension),
        # and a float32 solve would turn rounding into visible box jitter
        # one sequence per call: a batched LU solve (DGESV) hangs in MKL (DLASWP errors) once
        # torch.set_num_threads(n > 1) was called, as training does (torch 2.13, oneMKL 2024.2)
        system, rhs = (gram + self.reg_weight * eye).double(), rhs.double()
        solution = torch.stack([torch.linalg.solve(system[i], rhs[i]) for i in range(s)]).to(feat.dtype)
        return solution.transpose(1, 2).reshape(s, 4, c, k, k)

    def loss(self, filt, feat, boxes, sample_weight=None, grid_size=None, label="fcot_ros"):
        """L(f) per sequence (S,)."""
        feat, targets, sw, _ = self._residual_terms(feat, boxes, sample_weight, grid_size, label)
        return self._objective(filt, feat, targets, sw)

    def _objective(self, filt, feat, targets, sw):
        residual = sw * (apply_filter(feat, filt) - targets)
        return 0.5 * (residual * residual).sum(dim=(0, 2, 3, 4)) + \
            0.5 * self.reg_weight * (filt * filt).sum(dim=(1, 2, 3, 4))

