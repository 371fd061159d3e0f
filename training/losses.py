"""The paper's offline losses and their labels.

Classification (DiMP's LBHinge, threshold t = 0.05): with labels y on the score grid,
    p' = relu(p) where y < t, else p;   loss = mean((p' - y * [y >= t])^2)
applied to every optimizer iterate's test scores and weighted final / init / intermediate.
Labels: a Gaussian of sigma = sigma_factor * feature size cells (0.9 for the 18 map, 1.8 for 72)
centred on the box centre in score cells, box centre / stride (even 4x4 filter: the score map has
one cell more than the features, cell i at crop pixel stride * i).

Regression (REGLoss): the IoU loss -log((I + 1) / (U + 1)) of the predicted distances (left, right,
top, bottom) against the true ones, at the box centre's cell and the (2R+1)^2 cells around it (R = 2),
averaged over the cells that lie inside the box and the map. Distances in 72-grid cells, from each
cell (col, row) to the box sides: (col - x1 / s, x2 / s - col, row - y1 / s, y2 / s - row). (The
authors skip an offset for the whole batch when any sample is invalid there; we mask per cell.)
"""
from typing import List

import torch
import torch.nn.functional as F

from fcot_ros.target_model.regression_labels import centre_cells, crop_windows, regression_targets
from training.config import BranchLossConfig

MAX_DISTANCE = 1e4      # grid cells; the maps are 72 cells wide


def gaussian_labels(boxes, stride: int, score_size: int, sigma: float, filter_size: int = 4):
    """(N, S, H, H) Gaussian labels, H = score_size, of boxes (N, S, 4) xywh crop px; sigma in cells.
    The centre in score cells is box centre / stride - (filter_size mod 2) / 2 (the classifier's)."""
    centre = (boxes[..., :2] + 0.5 * boxes[..., 2:]) / stride - (filter_size % 2) / 2.0
    k = torch.arange(score_size, dtype=boxes.dtype, device=boxes.device)
    gx = torch.exp(-0.5 * ((k - centre[..., 0, None]) / sigma) ** 2)
    gy = torch.exp(-0.5 * ((k - centre[..., 1, None]) / sigma) ** 2)
    return gy[..., :, None] * gx[..., None, :]


def lb_hinge(scores, labels, threshold: float = 0.05):
    """DiMP's LBHinge (module doc): scores and labels (N, S, H, W) -> scalar."""
    negative = (labels < threshold).to(scores.dtype)
    positive = 1.0 - negative
    prediction = negative * F.relu(scores) + positive * scores
    return F.mse_loss(prediction, positive * labels)


def iou_loss(pred, target, mask):
    """-log((I + 1) / (U + 1)) of (N, S, 4, h, w) distances over the mask (N, S, 1, h, w) cells:
    averaged per sequence (over its images' masked cells), then over the sequences, so that a batch
    split across processes (DDP) has the same mean."""
    # a regression filter fitted to nearly degenerate features can predict distances large enough
    # for the products below to overflow float32 (inf - inf): no distance beyond MAX_DISTANCE cells
    pl, pr, pt, pb = pred.clamp(max=MAX_DISTANCE).unbind(2)
    # cells outside the box (masked out) have negative targets: clamp them so that their loss
    # is finite (a NaN times a zero weight would still be NaN, and so would its gradient)
    tl, tr, tt, tb = target.clamp(min=0.0).unbind(2)
    inter = (torch.min(pl, tl) + torch.min(pr, tr)) * (torch.min(pt, tt) + torch.min(pb, tb))
    union = (pl + pr) * (pt + pb) + (tl + tr) * (tt + tb) - inter
    per_cell = -torch.log((inter + 1.0) / (union + 1.0))
    weight = mask[:, :, 0]
    per_sequence = (per_cell * weight).sum(dim=(0, 2, 3)) / weight.sum(dim=(0, 2, 3)).clamp(min=1.0)
    return per_sequence.mean()


def regression_loss(reg_map, boxes, stride: int = 4, radius: int = 2):
    """IoU loss of a (N, S, 4, H, W) distance map (grid cells, >= 0) on the cells around each box
    centre that lie inside the box (boxes (N, S, 4) crop px)."""
    grid = reg_map.shape[-2:]
    window = 2 * radius + 1
    mask, target = regression_targets(boxes, stride, tuple(grid), radius, window=window)
    mask = mask * (target > 0).all(dim=2, keepdim=True).to(mask.dtype)
    # the predictions at the same window cells (zero outside the map, masked out anyway)
    pred = crop_windows(reg_map, *centre_cells(boxes, stride, grid), window)
    return iou_loss(pred, target, mask)


def weighted_iterates(losses: List[torch.Tensor], weights: BranchLossConfig) -> torch.Tensor:
    """init * L[0] + final * L[-1] + iter / (n - 2) * sum(L[1:-1]) over n iterates (the final term
    and the intermediate ones only exist for n > 1 and n > 2)."""
    total = weights.init * losses[0]
    if len(losses) > 1:
        total = total + weights.final * losses[-1]
    if len(losses) > 2:
        total = total + (weights.iter / (len(losses) - 2)) * sum(losses[1:-1])
    return total
