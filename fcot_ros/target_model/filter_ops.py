"""Correlation of features with per-sequence filters, and its transpose (gradient w.r.t. the filter).

Shapes: feat (N, S, C, H, W) = N images of S sequences; filt (S, F, C, k, k) = F filters per
sequence (F = 1 for a classifier, 4 for the regressor). Padding P = k // 2 (as the authors'
apply_filter): an even k = 4 gives (H+1) x (W+1) score maps, an odd k = 3 gives H x W.

    out[n, s, f, i, j] = sum_{c, dy, dx} filt[s, f, c, dy, dx] * feat[n, s, c, i + dy - P, j + dx - P]

(zero outside the map). Both functions are written as one matrix product over the channels plus
k*k shifted additions, not as a grouped convolution: the filters are tiny (k*k*F rows) and the
maps large, a shape for which the CPU convolution kernels are 3-13x slower than a GEMM (2-core CPU,
torch 2.13: `python -m fcot_ros.tools.optimizer_timing`). Plain differentiable torch ops:
training back-propagates through them.
"""
import torch
import torch.nn.functional as F


def output_size(size, k):
    """Score-map side for a feature-map side ``size`` and filter size ``k`` (padding k // 2)."""
    return size + 2 * (k // 2) - k + 1


# images per call of the kernels below: their temporaries are F*k*k maps per image (16 maps of
# 72x72 for a 4x4 classifier filter), so a 50-sample memory would otherwise need ~35 MB at once
IMAGES_PER_CHUNK = 8


def _chunks(n):
    return [(i, min(i + IMAGES_PER_CHUNK, n)) for i in range(0, n, IMAGES_PER_CHUNK)]


def apply_filter(feat, filt):
    """(N, S, C, H, W) x (S, F, C, k, k) -> (N, S, F, Ho, Wo), Ho = H + 2*(k//2) - k + 1."""
    if feat.shape[0] > IMAGES_PER_CHUNK:
        return torch.cat([_apply_filter(feat[a:b], filt) for a, b in _chunks(feat.shape[0])])
    return _apply_filter(feat, filt)


def _apply_filter(feat, filt):
    n, s, c, h, w = feat.shape
    nf, k = filt.shape[1], filt.shape[-1]
    p = k // 2
    ho, wo = output_size(h, k), output_size(w, k)
    # per-tap channel sums y[n, s, (f, dy, dx), h*w] = sum_c filt[s, f, c, dy, dx] feat[n, s, c, h*w]
    taps = filt.reshape(s, nf, c, k * k).transpose(2, 3).reshape(s, nf * k * k, c)
    y = torch.matmul(taps, feat.reshape(n, s, c, h * w)).view(n, s, nf, k, k, h, w)
    # out[i, j] = sum_{dy, dx} y[dy, dx][i + dy - P, j + dx - P]: pad by P and add shifted windows
    y = F.pad(y, (p, p, p, p))
    out = None
    for dy in range(k):
        for dx in range(k):
            window = y[:, :, :, dy, dx, dy:dy + ho, dx:dx + wo]
            out = window if out is None else out + window
    return out


def apply_feat_transpose(feat, residual, filter_size):
    """Transpose of ``apply_filter`` w.r.t. the filter: sum over images of the correlation of
    each residual map with its feature map.

    feat (N, S, C, H, W), residual (N, S, F, Ho, Wo) -> (S, F, C, k, k):
    grad[s, f, c, dy, dx] = sum_{n, i, j} residual[n, s, f, i, j] * feat[n, s, c, i + dy - P, j + dx - P].
    """
    if feat.shape[0] > IMAGES_PER_CHUNK:
        return sum(_apply_feat_transpose(feat[a:b], residual[a:b], filter_size) for a, b in _chunks(feat.shape[0]))
    return _apply_feat_transpose(feat, residual, filter_size)


def _apply_feat_transpose(feat, residual, filter_size):
    n, s, c, h, w = feat.shape
    nf = residual.shape[2]
    k, p = filter_size, filter_size // 2
    # shifted residuals r[n, s, f, dy, dx, a, b] = residual[n, s, f, a - dy + P, b - dx + P]
    # (zero outside): with q = k - 1 - P cells of padding on each side, cell a + q - dy of the
    # padded map is that cell, and the padded side is Ho + 2q = H + k - 1
    q = k - 1 - p
    padded = F.pad(residual, (q, q, q, q))
    shifted = torch.stack([padded[..., q + p - dy:q + p - dy + h, q + p - dx:q + p - dx + w]
                           for dy in range(k) for dx in range(k)], dim=3)      # (N, S, F, k*k, H, W)
    # one (C x HW) @ (HW x F*k*k) product per image, summed over the images (an einsum over (n, p)
    # would first copy the features into (S, C, N*HW) order)
    grad = torch.matmul(feat.reshape(n, s, c, h * w), shifted.reshape(n, s, nf * k * k, h * w).transpose(2, 3)).sum(0)
    return grad.view(s, c, nf, k, k).transpose(1, 2)
