"""Precise RoI Pooling (PrRoIPool2D) in pure PyTorch.

Replaces the CUDA-only vacancy/PreciseRoIPooling extension used by FCOT.
Each output bin is the exact integral of the bilinear interpolant of the
feature map over the bin, divided by the bin area:

* feature cell ``j`` sits at continuous coordinate ``j`` (no half-pixel
  shift), in feature-map units = image pixels * ``spatial_scale``;
* values outside the map count as 0;
* a bin of zero area gives 0 (negative roi extents are clamped to 0).

The bilinear interpolant is separable (a sum of triangle kernels), so the
integral over ``[a, b]`` of the kernel centred on cell ``j`` is
``Hat(b - j) - Hat(a - j)`` with ``Hat`` the antiderivative of the triangle:
0 below -1, ``(t+1)^2/2`` on [-1, 0], ``1 - (1-t)^2/2`` on [0, 1], 1 above 1.
A bin is then ``Wy @ F @ Wx^T / area``, evaluated for all rois and bins with
batched matmuls. Autograd gives gradients w.r.t. the features and the roi
coordinates; the graph uses only standard ops and exports to ONNX.
"""
import torch
import torch.nn as nn

__all__ = ["prroi_pool2d", "PrRoIPool2D"]


def _hat(t):
    """Antiderivative of the triangle kernel max(0, 1-|t|), with Hat(-inf)=0."""
    t = torch.clamp(t, -1.0, 1.0)
    left = 0.5 * (t + 1.0) * (t + 1.0)
    right = 1.0 - 0.5 * (1.0 - t) * (1.0 - t)
    return torch.where(t < 0, left, right)


def _axis_weights(start, end, nbins, size):
    """Integration weights along one axis.

    Args:
        start, end: (K,) roi extent in feature-map units (end >= start).
        nbins: number of output bins along this axis.
        size: number of feature cells along this axis.

    Returns:
        (K, nbins, size) weights: integral over bin p of the triangle kernel of cell j.
        Also the (K,) bin length.
    """
    length = (end - start) / nbins                                          # (K,)
    p = torch.arange(nbins, dtype=start.dtype, device=start.device)         # (nbins,)
    lo = start.unsqueeze(1) + p.unsqueeze(0) * length.unsqueeze(1)          # (K, nbins)
    hi = lo + length.unsqueeze(1)
    j = torch.arange(size, dtype=start.dtype, device=start.device)          # (size,)
    w = _hat(hi.unsqueeze(2) - j) - _hat(lo.unsqueeze(2) - j)               # (K, nbins, size)
    return w, length


def prroi_pool2d(features, rois, pooled_height, pooled_width, spatial_scale):
    """Precise RoI pooling.

    Args:
        features: (N, C, H, W) feature map.
        rois: (K, 5) float rows ``[batch_index, x1, y1, x2, y2]`` in
            input-image pixels (multiplied by ``spatial_scale`` to get
            feature-map coordinates).
        pooled_height, pooled_width: output bins per roi.
        spatial_scale: feature-map cells per image pixel (e.g. 1/16).

    Returns:
        (K, C, pooled_height, pooled_width): mean of the bilinear interpolant
        of ``features`` over each bin (0 for zero-area bins).
    """
    ph, pw = int(pooled_height), int(pooled_width)
    n, c, h, w = features.shape
    rois = rois.to(features.dtype)
    bidx = rois[:, 0].long()
    x1 = rois[:, 1] * spatial_scale
    y1 = rois[:, 2] * spatial_scale
    x2 = torch.maximum(rois[:, 3] * spatial_scale, x1)
    y2 = torch.maximum(rois[:, 4] * spatial_scale, y1)

    wy, bin_h = _axis_weights(y1, y2, ph, h)                                # (K, ph, H)
    wx, bin_w = _axis_weights(x1, x2, pw, w)                                # (K, pw, W)
    area = bin_h * bin_w                                                    # (K,)

    feats = features.index_select(0, bidx)                                  # (K, C, H, W)
    out = torch.matmul(wy.unsqueeze(1), feats)                              # (K, C, ph, W)
    out = torch.matmul(out, wx.transpose(1, 2).unsqueeze(1))                # (K, C, ph, pw)

    positive = area > 0
    safe_area = torch.where(positive, area, torch.ones_like(area))
    out = out / safe_area.view(-1, 1, 1, 1)
    return torch.where(positive.view(-1, 1, 1, 1), out, torch.zeros_like(out))


class PrRoIPool2D(nn.Module):
    """Module wrapper: forward(features (N,C,H,W), rois (K,5)) -> (K, C, ph, pw)."""

    def __init__(self, pooled_height, pooled_width, spatial_scale):
        super().__init__()
        self.pooled_height = int(pooled_height)
        self.pooled_width = int(pooled_width)
        self.spatial_scale = float(spatial_scale)

    def forward(self, features, rois):
        """features (N, C, H, W), rois (K, 5) [batch index, x1, y1, x2, y2] in input pixels -> (K, C, ph, pw)."""
        return prroi_pool2d(features, rois, self.pooled_height, self.pooled_width,
                            self.spatial_scale)

    def extra_repr(self):
        """The layer's settings for print(module)."""
        return (f"pooled_height={self.pooled_height}, pooled_width={self.pooled_width}, "
                f"spatial_scale={self.spatial_scale}")
