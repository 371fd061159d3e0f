"""Correlation of features with per-sequence filters, and its transpose (gradient w.r.t. the filter).

Shapes: feat (N, S, C, H, W) = N images of S sequences; filt (S, F, C, k, k) = F filters per
sequence (F = 1 for a classifier, 4 for the regressor). Padding k // 2 (as the authors'
apply_filter): an even k = 4 gives (H+1) x (W+1) score maps, an odd k = 3 gives H x W.
"""
import torch.nn.functional as F


def apply_filter(feat, filt):
    """(N, S, C, H, W) x (S, F, C, k, k) -> (N, S, F, Ho, Wo) with Ho = H + 2*(k//2) - k + 1."""
    n, s, c, h, w = feat.shape
    nf, k = filt.shape[1], filt.shape[-1]
    out = F.conv2d(feat.reshape(n, s * c, h, w), filt.reshape(s * nf, c, k, k), padding=k // 2, groups=s)
    return out.view(n, s, nf, out.shape[-2], out.shape[-1])


def apply_feat_transpose(feat, residual, filter_size):
    """Transpose of ``apply_filter`` w.r.t. the filter: sum over images of the correlation of
    each residual map with its feature map.

    feat (N, S, C, H, W), residual (N, S, F, Ho, Wo) -> (S, F, C, k, k).
    """
    n, s, c, h, w = feat.shape
    nf = residual.shape[2]
    ho, wo = residual.shape[-2:]
    # batch = feature channel c; input channels = (s, n); one group per sequence
    inp = feat.permute(2, 1, 0, 3, 4).reshape(c, s * n, h, w)
    weight = residual.permute(1, 2, 0, 3, 4).reshape(s * nf, n, ho, wo)
    out = F.conv2d(inp, weight, padding=filter_size // 2, groups=s)  # (C, S*F, k, k)
    return out.view(c, s, nf, filter_size, filter_size).permute(1, 2, 0, 3, 4)
