"""Rank-r separable 3x3 convolutions: the cheap form of fcot_lite's stride-4 and stride-8 heads.

A 3x3 convolution W (Cout, Cin, 3, 3) is the sum over input channels i of an outer product-like map
W[:, i] (Cout x 9). Keeping the top ``rank`` singular components of each W[:, i] gives

    W[o, i, :, :] ~= sum_k P[o, i*rank + k] * D[i*rank + k, :, :],      k = 0 .. rank-1

which a depthwise 3x3 convolution D (Cin -> Cin*rank, groups=Cin) followed by a pointwise 1x1
convolution P (Cin*rank -> Cout) computes. Multiply-adds per output pixel: 9*Cin*rank + Cin*rank*Cout
instead of 9*Cin*Cout (for 64 -> 64: 4,672 at rank 1, 9,344 at rank 2, against 36,864). At rank 9 the
factorization is exact. The best rank-r approximation of each W[:, i] in the Frobenius norm is its
truncated SVD (Eckart-Young), so :func:`factorize_` starts a separable layer where the full one is,
with a relative error of sqrt(sum of the dropped singular values squared / sum of all of them squared).

fcot_lite's trained heads are nearly 1x1 (off-centre taps hold 0.01-5% of each kernel's energy,
shipped weights of 2026-12-01), so a low rank keeps almost all of them.
"""
import math
from typing import Optional, Tuple

import torch
from torch import nn

MAX_RANK = 9   # a 3x3 kernel per input channel has 9 taps: rank 9 is exact


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 (Cin -> Cin*rank, no bias) then pointwise 1x1 (Cin*rank -> Cout, optional bias).

    forward: (N, Cin, H, W) -> (N, Cout, H, W) (stride 1, padding 1: same size).
    Parameters: ``depthwise.weight`` (Cin*rank, 1, 3, 3), ``pointwise.weight`` (Cout, Cin*rank, 1, 1),
    ``pointwise.bias`` (Cout,) when ``bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, rank: int, bias: bool = True):
        super().__init__()
        if not 1 <= int(rank) <= MAX_RANK:
            raise ValueError(f"separable rank must be 1..{MAX_RANK}, not {rank}")
        self.rank = int(rank)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.depthwise = nn.Conv2d(in_channels, in_channels * self.rank, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels * self.rank, out_channels, 1, bias=bias)

    def forward(self, x):
        """(N, Cin, H, W) -> (N, Cout, H, W)."""
        return self.pointwise(self.depthwise(x))

    def full_kernel(self) -> torch.Tensor:
        """The equivalent full 3x3 kernel (Cout, Cin, 3, 3): sum_k P[o, i*r+k] D[i*r+k]."""
        r = self.rank
        d = self.depthwise.weight.view(self.in_channels, r, 9)                  # (Cin, r, 9)
        p = self.pointwise.weight.view(self.out_channels, self.in_channels, r)  # (Cout, Cin, r)
        return torch.einsum("oik,ikt->oit", p, d).reshape(self.out_channels, self.in_channels, 3, 3)

    def identity_(self, scale: float = 1.0):
        """Centre-tap (semi-)identity times ``scale``, what the full layers' hand initialisation sets:
        component 0 of input channel i passes ``scale`` x_i to output i; zero bias."""
        with torch.no_grad():
            self.depthwise.weight.zero_()
            self.depthwise.weight[:: self.rank, 0, 1, 1] = 1.0
            self.pointwise.weight.zero_()
            n = min(self.in_channels, self.out_channels)
            idx = torch.arange(n)
            self.pointwise.weight[idx, idx * self.rank, 0, 0] = scale
            if self.pointwise.bias is not None:
                self.pointwise.bias.zero_()

    def extra_repr(self):
        """The layer's settings for print(module)."""
        return f"{self.in_channels}, {self.out_channels}, rank={self.rank}"


def truncated_factors(weight: torch.Tensor, rank: int) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """Per-input-channel truncated SVD of a 3x3 kernel.

    weight (Cout, Cin, 3, 3) -> depthwise (Cin*rank, 1, 3, 3), pointwise (Cout, Cin*rank, 1, 1) and the
    relative Frobenius error of the approximation (0.0 at rank 9). Component k of input i is channel
    i*rank + k; singular values go into the pointwise factor.
    """
    cout, cin = weight.shape[:2]
    if weight.shape[2:] != (3, 3):
        raise ValueError(f"a 3x3 kernel is needed, not {tuple(weight.shape)}")
    w = weight.detach().double()
    m = w.permute(1, 0, 2, 3).reshape(cin, cout, 9)                  # (Cin, Cout, 9)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)              # (Cin, Cout, q), (Cin, q), (Cin, q, 9)
    q = s.shape[1]
    r = min(rank, q)
    depth = torch.zeros(cin, rank, 9, dtype=w.dtype)
    point = torch.zeros(cout, cin, rank, dtype=w.dtype)
    depth[:, :r] = vh[:, :r]
    point[:, :, :r] = (u[:, :, :r] * s[:, None, :r]).permute(1, 0, 2)
    total = float((s ** 2).sum())
    error = math.sqrt(float((s[:, r:] ** 2).sum()) / total) if total > 0 else 0.0
    return (depth.reshape(cin * rank, 1, 3, 3).to(weight.dtype),
            point.reshape(cout, cin * rank, 1, 1).to(weight.dtype), error)


def factorize_(layer: SeparableConv2d, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> float:
    """Set ``layer`` to the truncated SVD of the full kernel ``weight`` (Cout, Cin, 3, 3) and copy
    ``bias`` (Cout,) (None: zero bias, or none if the layer has none). Returns the relative error."""
    depth, point, error = truncated_factors(weight, layer.rank)
    with torch.no_grad():
        layer.depthwise.weight.copy_(depth)
        layer.pointwise.weight.copy_(point)
        if layer.pointwise.bias is not None:
            layer.pointwise.bias.copy_(bias.detach() if bias is not None else torch.zeros(layer.out_channels))
        elif bias is not None and bool(bias.detach().ne(0).any()):
            raise ValueError("the full layer has a non-zero bias and the separable one none")
    return error


def effective_kernel(layer: nn.Module) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """(weight (Cout, Cin, 3, 3), bias or None) that ``layer`` convolves with: an nn.Conv2d's own, or
    a rigid ModulatedDeformConv2d's weight scaled per tap by its constant mask sigmoid(bias)."""
    from fcot_ros.ops.deform_conv import ModulatedDeformConv2d
    if isinstance(layer, nn.Conv2d):
        return layer.weight.detach(), (layer.bias.detach() if layer.bias is not None else None)
    if isinstance(layer, ModulatedDeformConv2d):
        if layer.deformable or not layer.constant_sampling():
            raise ValueError("only a rigid DCN (zero offsets) is a plain convolution that can be factorized")
        return layer.masked_weight().detach(), (layer.bias.detach() if layer.bias is not None else None)
    raise TypeError(f"cannot read a 3x3 kernel from {type(layer).__name__}")


def separable_or_full(in_ch: int, out_ch: int, rank: int, bias: bool) -> nn.Module:
    """A SeparableConv2d of ``rank`` (> 0) or a full 3x3 nn.Conv2d (rank 0), padding 1."""
    if rank:
        return SeparableConv2d(in_ch, out_ch, rank, bias=bias)
    return nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=bias)
