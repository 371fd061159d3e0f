"""FCOT heads: classifier feature heads (18, 72), regression heads (36, 72 + fusion),
filter initializers (classifiers) and the Regression Model Generator initializer (RMG).

Coordinates: boxes are (x, y, w, h) in crop pixels; a feature cell j of a stride-s map
sits at crop pixel s * j.
"""
import torch
import torch.nn.functional as F
from torch import nn

from fcot_ros.models.layers import InstanceL2Norm, center_identity_, l2norm_scale
from fcot_ros.models.separable import SeparableConv2d, separable_or_full
from fcot_ros.ops.deform_conv import ModulatedDeformConv2d
from fcot_ros.ops.prroi_pool import prroi_pool2d


def boxes_to_rois(boxes):
    """(N, 4) xywh crop-pixel boxes -> (N, 5) rois [batch index, x1, y1, x2, y2]."""
    index = torch.arange(boxes.shape[0], dtype=boxes.dtype, device=boxes.device).unsqueeze(1)
    return torch.cat([index, boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], dim=1)


def _linear_regime_gn_(gn: nn.GroupNorm, shift: float):
    """Affine of a GroupNorm that keeps the following ReLU (mostly) linear: y = norm(x) + shift."""
    with torch.no_grad():
        gn.weight.fill_(1.0)
        gn.bias.fill_(shift)


class ConvGNDCNStack(nn.Module):
    """conv3x3 -> GN -> ReLU -> DCN -> GN -> ReLU -> DCN (the layout of every FCOT 72/36 head).

    (N, in_ch, H, W) -> (N, out_ch, H, W). ``final_relu`` adds a ReLU after the last DCN
    (regression heads and RMG initializers). ``separable_rank`` r > 0: the three 3x3 layers are
    rank-r separable convolutions (models.separable; no deformable offsets), the GroupNorms and
    ReLUs stay; the names conv1 / dcn1 / dcn2 are kept so that both forms read alike.
    """

    def __init__(self, in_ch, mid, out_ch, groups, conv_bias, final_relu, deformable=True, separable_rank=0):
        super().__init__()
        self.separable_rank = int(separable_rank)
        if self.separable_rank and deformable:
            raise ValueError("separable heads have no deformable offsets: build them with deformable=False")
        self.conv1 = separable_or_full(in_ch, mid, self.separable_rank, bias=conv_bias)
        self.gn1 = nn.GroupNorm(groups, mid)
        self.gn2 = nn.GroupNorm(groups, mid)
        if self.separable_rank:
            self.dcn1 = SeparableConv2d(mid, mid, self.separable_rank, bias=True)
            self.dcn2 = SeparableConv2d(mid, out_ch, self.separable_rank, bias=True)
        else:
            self.dcn1 = ModulatedDeformConv2d(mid, mid, 3, padding=1, deformable=deformable)
            self.dcn2 = ModulatedDeformConv2d(mid, out_ch, 3, padding=1, deformable=deformable)
        self.final_relu = final_relu

    def forward(self, x):
        """(N, in_ch, H, W) -> (N, out_ch, H, W) features of the same spatial size."""
        x = F.relu(self.gn1(self.conv1(x)))
        x = F.relu(self.gn2(self.dcn1(x)))
        x = self.dcn2(x)
        return F.relu(x) if self.final_relu else x

    def hand_init_(self, shift=3.0):
        """Identity-like init for use before offline training: each stage passes its input
        through (centre-tap identity, zero offsets so the DCN mask is 0.5), the GroupNorms
        keep the ReLUs in their linear range, and the DCN biases remove that shift again. Separable
        layers get the same maps (their centre-tap identity, 0.5 for the DCNs' constant mask)."""
        for gn in (self.gn1, self.gn2):
            _linear_regime_gn_(gn, shift)
        if self.separable_rank:
            self.conv1.identity_()
            for dcn in (self.dcn1, self.dcn2):
                dcn.identity_(0.5)
                with torch.no_grad():
                    dcn.pointwise.bias.fill_(-0.5 * shift)
            if self.final_relu:
                with torch.no_grad():
                    self.dcn2.pointwise.bias.fill_(0.0)
            return
        center_identity_(self.conv1.weight)
        if self.conv1.bias is not None:
            nn.init.zeros_(self.conv1.bias)
        for dcn in (self.dcn1, self.dcn2):
            center_identity_(dcn.weight)
            with torch.no_grad():
                dcn.bias.fill_(-0.5 * shift)
                dcn.conv_offset_mask.weight.zero_()
                dcn.conv_offset_mask.bias.zero_()
        if self.final_relu:  # keep a positive constant channel-wise: a bias term for the regressor
            with torch.no_grad():
                self.dcn2.bias.fill_(0.0)


class Cls18Head(nn.Module):
    """3x3 conv (no bias) + InstanceL2Norm: (N, in_ch, 18, 18) -> (N, dim, 18, 18)."""

    def __init__(self, in_ch, dim, filter_size):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, dim, 3, padding=1, bias=False)
        self.norm = InstanceL2Norm(l2norm_scale(dim, filter_size))

    def forward(self, x):
        """(N, in_ch, 18, 18) backbone features -> (N, dim, 18, 18) L2-normalised classifier features."""
        return self.norm(self.conv(x))

    def hand_init_(self):
        """Identity-like init before offline training: centre-tap identity of the 3x3 conv."""
        center_identity_(self.conv.weight)


class Cls72Head(nn.Module):
    """conv-GN-ReLU-DCN-GN-ReLU-DCN + InstanceL2Norm: (N, in_ch, 72, 72) -> (N, dim, 72, 72)."""

    def __init__(self, in_ch, mid, dim, filter_size, groups, norm_coef, deformable=True, separable_rank=0):
        super().__init__()
        self.body = ConvGNDCNStack(in_ch, mid, dim, groups, conv_bias=True, final_relu=False, deformable=deformable,
                                   separable_rank=separable_rank)
        self.norm = InstanceL2Norm(l2norm_scale(dim, filter_size, norm_coef))

    def forward(self, x):
        """(N, in_ch, 72, 72) features -> (N, dim, 72, 72) L2-normalised classifier features."""
        return self.norm(self.body(x))

    def hand_init_(self):
        """Identity-like init before offline training (see ConvGNDCNStack.hand_init_)."""
        self.body.hand_init_()


def average_merge_(conv: nn.Conv2d):
    """1x1 conv (C, 2C) initialised to the exact average of its two input halves."""
    out_ch = conv.weight.shape[0]
    with torch.no_grad():
        conv.weight.zero_()
        idx = torch.arange(out_ch)
        conv.weight[idx, idx, 0, 0] = 0.5
        conv.weight[idx, out_ch + idx, 0, 0] = 0.5
        if conv.bias is not None:
            conv.bias.zero_()


class RegressionFeatures(nn.Module):
    """Regression features: heads on p36 and p72, p36's output resized to 72 (nearest),
    concatenated and fused by a 1x1 conv. (N,D,36,36), (N,D,72,72) -> (N, dim, 72, 72).
    ``separable_rank`` > 0: both heads of rank-r separable layers (ConvGNDCNStack)."""

    def __init__(self, in_ch, mid, dim, groups, deformable=True, separable_rank=0):
        super().__init__()
        self.head_36 = ConvGNDCNStack(in_ch, mid, dim, groups, conv_bias=False, final_relu=True, deformable=deformable,
                                      separable_rank=separable_rank)
        self.head_72 = ConvGNDCNStack(in_ch, mid, dim, groups, conv_bias=False, final_relu=True, deformable=deformable,
                                      separable_rank=separable_rank)
        self.merge = nn.Conv2d(2 * dim, dim, 1, bias=True)
        average_merge_(self.merge)

    def forward(self, p36, p72):
        """p36 (N, D, 36, 36), p72 (N, D, 72, 72) -> fused regression features (N, dim, 72, 72)."""
        f36 = F.interpolate(self.head_36(p36), size=p72.shape[-2:], mode="nearest")
        return self.merge(torch.cat([f36, self.head_72(p72)], dim=1))

    def hand_init_(self):
        """Identity-like init of both heads, and the 1x1 fusion reset to the average of its inputs."""
        self.head_36.hand_init_()
        self.head_72.hand_init_()
        average_merge_(self.merge)


class FilterInitializer(nn.Module):
    """DiMP FilterInitializerLinear: 3x3 conv, PrRoIPool k x k of the box, mean over a sequence's images.

    feat (N, S, C, H, W) (N images of S sequences), boxes (N, S, 4) xywh crop pixels
    -> initial filters (S, 1, C, k, k).
    """

    def __init__(self, dim, filter_size, stride):
        super().__init__()
        self.filter_conv = nn.Conv2d(dim, dim, 3, padding=1, bias=True)
        self.filter_size = filter_size
        self.stride = stride

    def forward(self, feat, boxes):
        """feat (N, S, C, H, W), boxes (N, S, 4) xywh in crop pixels -> initial filters (S, 1, C, k, k)."""
        n, s = feat.shape[:2]
        pooled = prroi_pool2d(self.filter_conv(feat.flatten(0, 1)), boxes_to_rois(boxes.reshape(-1, 4)),
                              self.filter_size, self.filter_size, 1.0 / self.stride)
        return pooled.view(n, s, *pooled.shape[1:]).mean(dim=0).unsqueeze(1)

    def hand_init_(self):
        """Identity-like init before offline training: centre-tap identity conv with zero bias."""
        center_identity_(self.filter_conv.weight)
        nn.init.zeros_(self.filter_conv.bias)


class RMGInitializer(nn.Module):
    """Regression Model Generator: initial regression filter from the first frame.

    Heads on p36 and p72 (last DCN -> 4*dim, ReLU), PrRoIPool k x k of the box at 1/8 and 1/4,
    concatenated and fused by a 1x1 conv (no bias). One image per sequence (the first one):
    p36 (S,D,36,36), p72 (S,D,72,72), boxes (S,4) xywh crop px -> filters (S, 4, dim, k, k)
    (filters for the distances left, right, top, bottom).
    """

    def __init__(self, in_ch, mid, dim, groups, filter_size, deformable=True):
        super().__init__()
        self.head_36 = ConvGNDCNStack(in_ch, mid, 4 * dim, groups, conv_bias=False, final_relu=True,
                                      deformable=deformable)
        self.head_72 = ConvGNDCNStack(in_ch, mid, 4 * dim, groups, conv_bias=False, final_relu=True,
                                      deformable=deformable)
        self.merge = nn.Conv2d(8 * dim, 4 * dim, 1, bias=False)
        average_merge_(self.merge)
        self.dim = dim
        self.filter_size = filter_size

    def forward(self, p36, p72, box):
        """p36 (S, D, 36, 36), p72 (S, D, 72, 72), box (S, 4) xywh crop pixels -> filters (S, 4, dim, k, k)."""
        rois = boxes_to_rois(box)
        k = self.filter_size
        f36 = prroi_pool2d(self.head_36(p36), rois, k, k, 1.0 / 8)
        f72 = prroi_pool2d(self.head_72(p72), rois, k, k, 1.0 / 4)
        merged = self.merge(torch.cat([f36, f72], dim=1))
        return merged.view(box.shape[0], 4, self.dim, k, k)

    def hand_init_(self):
        """Before offline training there is no generator: start the online fit from zero."""
        with torch.no_grad():
            self.merge.weight.zero_()
