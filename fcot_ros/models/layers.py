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
        """(N, C, H, W) -> (N, C, H, W), each sample rescaled to root-mean-square ``scale``."""
        energy = (x * x).sum(dim=(1, 2, 3), keepdim=True)
        return x * (self.scale * torch.sqrt(x[0].numel() / (energy + self.eps)))


class BGRNormalization(nn.Module):
    """Raw crops to the backbone's input: (N, 3, S, S) float BGR in 0..255 -> (N, 3, S, S) normalised RGB.

    mean, std: RGB, in 0..255 units. The constants are non-persistent buffers: they come from the
    model config, not from checkpoints, and export bakes them into the graphs.
    """

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("bgr_mean", torch.tensor(tuple(mean)[::-1]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("bgr_inv_std", 1.0 / torch.tensor(tuple(std)[::-1]).view(1, 3, 1, 1), persistent=False)

    def forward(self, images):
        """(N, 3, S, S) float BGR in 0..255 -> (N, 3, S, S) mean/std-normalised RGB."""
        return ((images - self.bgr_mean) * self.bgr_inv_std)[:, [2, 1, 0]]


def center_identity_(conv_weight, scale=1.0):
    """Set a (Cout, Cin, k, k) kernel to a centre-tap (semi-)identity, zero elsewhere."""
    with torch.no_grad():
        conv_weight.zero_()
        k = conv_weight.shape[-1] // 2
        n = min(conv_weight.shape[0], conv_weight.shape[1])
        idx = torch.arange(n)
        conv_weight[idx, idx, k, k] = scale


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
