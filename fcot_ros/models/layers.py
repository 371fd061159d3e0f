"""Small layers shared by the FCOT heads."""
import math

import torch
from torch import nn


class InstanceL2Norm(nn.Module):
    """Per-sample L2 normalisation: x * scale * sqrt(C*H*W / (sum(x^2) + eps)).

    Input/output (N, C, H, W); afterwards every sample has root-mean-square ``scale``.
    """

    def __init__(self, scale: float, eps: float = 1e-5):
        super().__init__()
        self.scale = float(scale)
        self.eps = eps

    def forward(self, x):
        energy = (x * x).sum(dim=(1, 2, 3), keepdim=True)
        return x * (self.scale * torch.sqrt(x[0].numel() / (energy + self.eps)))


def kaiming_init_(module: nn.Module):
    """The authors' decoder init: kaiming_uniform(a=1) weights, zero bias."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_uniform_(m.weight, a=1)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def l2norm_scale(channels: int, filter_size: int, coef: float = 1.0) -> float:
    """InstanceL2Norm scale used by the classifier heads: sqrt(coef / (C * k * k))."""
    return math.sqrt(coef / (channels * filter_size * filter_size))
