"""Fusion of the two classifiers' score maps onto the 72x72 grid of the regression map.

``fcot_ros`` (ours): the 19x19 map (cell i at crop pixel 16 i) is resampled bilinearly at crop
pixel 4 k, the 73x73 map (cell j at 4 j) is cut to its first 72 cells: every fused cell k sits at
crop pixel 4 k, where the regression map's cell k does.
``authors``: both maps are nearest-resized to 72x72 (``F.interpolate(size=(72, 72))``), which shifts
and stretches them by up to ~1.5 cells against the regression map (reference section 7).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


def resample_matrix(src_size, src_stride, dst_size, dst_stride):
    """(dst_size, src_size) bilinear weights mapping a map whose cell i sits at src_stride*i
    onto cells at dst_stride*k (both in crop pixels)."""
    a = np.zeros((dst_size, src_size), dtype=np.float32)
    for k in range(dst_size):
        t = min(max(k * dst_stride / src_stride, 0.0), src_size - 1.0)
        i0 = min(int(math.floor(t)), src_size - 2)
        f = t - i0
        a[k, i0] += 1.0 - f
        a[k, i0 + 1] += f
    return torch.from_numpy(a)


class ScoreFusion:
    """fuse(s18 (19, 19), s72 (73, 73)) -> (72, 72) = rate_18 * s18' + rate_72 * s72' (see module doc)."""

    def __init__(self, score18_size, score72_size, grid, rate_18, rate_72, mode="fcot_ros", device="cpu"):
        self.grid, self.rate_18, self.rate_72, self.mode = grid, rate_18, rate_72, mode
        if mode == "fcot_ros":
            self._a18 = resample_matrix(score18_size, 16, grid, 4).to(device)
        elif mode != "authors":
            raise ValueError(f"unknown fusion mode {mode!r}")

    def __call__(self, s18, s72):
        """s18 (19, 19) and s72 (73, 73) score maps -> the fused (grid, grid) map in 4-pixel cells of the crop."""
        g = self.grid
        if self.mode == "authors":
            up = lambda s: F.interpolate(s[None, None], size=(g, g), mode="nearest")[0, 0]  # noqa: E731
            return self.rate_18 * up(s18) + self.rate_72 * up(s72)
        return self.rate_18 * (self._a18 @ s18 @ self._a18.T) + self.rate_72 * s72[:g, :g]
