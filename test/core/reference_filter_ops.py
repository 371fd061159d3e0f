"""Reference of target_model.filter_ops for the tests: the correlation as one plain conv2d per
sequence (an independent formulation: no GEMM, no shifted sums, no groups)."""
import torch
import torch.nn.functional as F


def conv_per_sequence(feat, filt):
    """(N, S, C, H, W) x (S, F, C, k, k) -> (N, S, F, Ho, Wo), padding k // 2."""
    k = filt.shape[-1]
    return torch.stack([F.conv2d(feat[:, s], filt[s], padding=k // 2) for s in range(feat.shape[1])], dim=1)
