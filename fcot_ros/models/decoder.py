"""FPN decoder of FCOT: stride-16/8/4 backbone maps -> 36x36 and 72x72 pyramid features.

p18 = lateral_18(c16); p36 = lateral_36(c8) + up2(p18); p72 = smooth_72(lateral_72(c4) + up2(p36)).
1x1 laterals, bilinear x2 upsampling (align_corners=False), no norm or activation. ``smooth_rank``
r > 0 makes smooth_72 a rank-r separable 3x3 convolution (models.separable).
"""
import torch
import torch.nn.functional as F
from torch import nn

from fcot_ros.models.layers import center_identity_, kaiming_init_
from fcot_ros.models.separable import SeparableConv2d, separable_or_full


class FPNDecoder(nn.Module):
    """FCOT's FPN decoder: 1x1 laterals of the stride-16/8/4 maps merged top-down into p36 and p72 (see module doc)."""

    def __init__(self, in_channels, dim, smooth_rank=0):
        """in_channels: (c4, c8, c16) backbone channels; dim: pyramid planes; smooth_rank: 0 (full 3x3
        smooth_72) or the rank of its separable form."""
        super().__init__()
        c4, c8, c16 = in_channels
        self.lateral_18 = nn.Conv2d(c16, dim, 1)
        self.lateral_36 = nn.Conv2d(c8, dim, 1)
        self.lateral_72 = nn.Conv2d(c4, dim, 1)
        self.smooth_72 = separable_or_full(dim, dim, smooth_rank, bias=True)
        kaiming_init_(self)

    def forward(self, c4, c8, c16):
        """(N,c4,4h,4w), (N,c8,2h,2w), (N,c16,h,w) -> p36 (N,dim,2h,2w), p72 (N,dim,4h,4w)."""
        p18 = self.lateral_18(c16)
        p36 = self.lateral_36(c8) + F.interpolate(p18, scale_factor=2, mode="bilinear", align_corners=False)
        p72 = self.lateral_72(c4) + F.interpolate(p36, scale_factor=2, mode="bilinear", align_corners=False)
        return p36, self.smooth_72(p72)

    def hand_init_(self):
        """Before offline training: a concatenation of fixed orthonormal projections of the three
        scales into disjoint channel blocks (half the planes for stride 16, a quarter each for 8
        and 4), and an identity smoothing conv."""
        d = self.lateral_18.weight.shape[0]
        blocks = {"lateral_18": (0, d // 2), "lateral_36": (d // 2, 3 * d // 4), "lateral_72": (3 * d // 4, d)}
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, (lo, hi) in blocks.items():
                conv = getattr(self, name)
                conv.weight.zero_()
                conv.bias.zero_()
                cin = conv.weight.shape[1]
                q, _ = torch.linalg.qr(torch.randn(cin, cin, generator=gen))
                rows = min(hi - lo, cin)
                conv.weight[lo:lo + rows, :, 0, 0] = q[:rows]
            if isinstance(self.smooth_72, SeparableConv2d):
                self.smooth_72.identity_()
            else:
                center_identity_(self.smooth_72.weight)
                self.smooth_72.bias.zero_()
