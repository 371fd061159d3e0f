"""Functions of the distance to the target centre, expanded on triangular radial bases.

DiMP predicts its label y, mask m and spatial weight v as 1x1 convolutions over a map of
``num_bins`` triangular bin memberships of the distance d (bins ``displacement`` cells
apart; the last bin is open-ended). Such a 1x1 conv is exactly the piecewise-linear
interpolation of its K weights at t = d / displacement, constant beyond the last bin;
we evaluate it that way (no (K, H, W) basis tensor in memory).
"""

import torch
from torch import nn


def bin_memberships(distance, num_bins: int, displacement: float):
    """Explicit basis, as the authors' distance map: (...,) distances -> (..., K) memberships."""
    t = distance.unsqueeze(-1) / displacement - torch.arange(num_bins, dtype=distance.dtype,
                                                             device=distance.device)
    inner = torch.relu(1.0 - t[..., :-1].abs())
    last = (1.0 + t[..., -1:]).clamp(0.0, 1.0)
    return torch.cat([inner, last], dim=-1)


def interpolate_bins(weights, distance, displacement: float):
    """Sum_k weights[k] * membership_k(distance), computed as a linear interpolation.

    weights (K,), distance (...) in feature cells -> (...).
    """
    k = weights.shape[0]
    t = (distance / displacement).clamp(min=0.0, max=k - 1)
    lo = t.floor().clamp(max=k - 2).long()
    frac = t - lo.to(t.dtype)
    return weights[lo] * (1.0 - frac) + weights[lo + 1] * frac


class RadialFunction(nn.Module):
    """A learned function of the distance: 1x1 conv weight of shape (1, K, 1, 1) (authors' layout)."""

    def __init__(self, num_bins: int, displacement: float):
        super().__init__()
        self.displacement = displacement
        self.weight = nn.Parameter(torch.zeros(1, num_bins, 1, 1))

    def forward(self, distance):
        """Distances (...) in feature cells -> the learned function's values (...), same shape."""
        return interpolate_bins(self.weight.view(-1), distance, self.displacement)


def gaussian_label_init(num_bins, displacement, sigma):
    """exp(-d^2 / (2 sigma^2)) at the bin centres, minus its minimum. sigma in cells."""
    d = torch.arange(num_bins, dtype=torch.float32) * displacement
    y = torch.exp(-0.5 * (d / sigma) ** 2)
    return y - y.min()


def tanh_mask_init(num_bins, displacement, factor, radius=2.0):
    """factor * tanh(radius - d): the pre-sigmoid mask, ~+factor inside ``radius`` cells, ~-factor outside."""
    d = torch.arange(num_bins, dtype=torch.float32) * displacement
    return factor * torch.tanh(radius - d)


