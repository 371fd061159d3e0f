"""Side-by-side timing of the online optimizers' building blocks on this CPU.

    python -m fcot_ros.tools.optimizer_timing [--samples 27,50] [--runs 15]

For fcot_lite's shapes (cls18: 128 x 18 x 18 features, 4x4 filter; cls72: 64 x 72 x 72, 4x4;
regression: 64 x 72 x 72, 4 filters 3x3) and memories of N samples, in one process, interleaved
call by call so that other load hits both alike:
  - apply_filter / apply_feat_transpose (GEMM + shifted sums) against a grouped conv2d and its
    autograd transpose (the textbook formulation),
  - one regression update: steepest descent on whole 72x72 maps, on 7x7 loss windows (the same
    numbers), and the exact solve.
Prints median ms (10-90 % range) per variant and the ratio of medians.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from fcot_ros.target_model.filter_ops import apply_feat_transpose, apply_filter
from fcot_ros.target_model.regression_optimizer import RegressionOptimizer


def grouped_conv_filter(feat, filt):
    """apply_filter as a grouped conv2d (the reference formulation)."""
    n, s, c, h, w = feat.shape
    nf, k = filt.shape[1], filt.shape[-1]
    out = F.conv2d(feat.reshape(n, s * c, h, w), filt.reshape(s * nf, c, k, k), padding=k // 2, groups=s)
    return out.view(n, s, nf, out.shape[-2], out.shape[-1])


def grouped_conv_transpose(feat, residual, k):
    """Filter gradient of the grouped conv2d, by conv2d with the residual as the kernel."""
    n, s, c, h, w = feat.shape
    nf, ho, wo = residual.shape[2], residual.shape[-2], residual.shape[-1]
    inp = feat.permute(2, 1, 0, 3, 4).reshape(c, s * n, h, w)
    weight = residual.permute(1, 2, 0, 3, 4).reshape(s * nf, n, ho, wo)
    out = F.conv2d(inp, weight, padding=k // 2, groups=s)
    return out.view(c, s, nf, k, k).permute(1, 2, 0, 3, 4)


def interleaved(variants: dict, runs: int, warmup: int = 2) -> dict:
    """{name: fn} -> {name: array of seconds}, calls interleaved variant by variant."""
    times = {name: [] for name in variants}
    for i in range(warmup + runs):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            if i >= warmup:
                times[name].append(time.perf_counter() - t0)
    return {k: np.array(v) for k, v in times.items()}


def report(title, times, baseline):
    """Print median and 10-90 % range in ms of each variant in ``times`` (seconds), and its speed-up over
    ``baseline``."""
    print(f"\n{title}")
    base = np.median(times[baseline])
    for name, t in times.items():
        ms = 1e3 * t
        print(f"  {name:34s} median {np.median(ms):8.2f} ms ({np.percentile(ms, 10):.2f}-{np.percentile(ms, 90):.2f})"
              f"   {base / np.median(t):5.1f}x vs {baseline}")


def main(argv=None):
    """Command line: time the optimizer building blocks for each memory size and print the reports."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", default="27,50", help="memory sizes N")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with torch.inference_mode():
        for n in (int(v) for v in args.samples.split(",")):
            for name, c, size, nf, k in (("cls18", 128, 18, 1, 4), ("cls72", 64, 72, 1, 4), ("reg", 64, 72, 4, 3)):
                feat = torch.randn(n, 1, c, size, size, generator=g)
                filt = torch.randn(1, nf, c, k, k, generator=g)
                residual = apply_filter(feat, filt)
                times = interleaved({
                    "grouped conv2d: filter": lambda: grouped_conv_filter(feat, filt),
                    "GEMM: filter": lambda: apply_filter(feat, filt),
                    "grouped conv2d: transpose": lambda: grouped_conv_transpose(feat, residual, k),
                    "GEMM: transpose": lambda: apply_feat_transpose(feat, residual, k),
                }, args.runs)
                for op in ("filter", "transpose"):
                    report(f"{name}, N={n}: {op}", {k_: v for k_, v in times.items() if k_.endswith(op)},
                           f"grouped conv2d: {op}")

            feat = torch.randn(n, 1, 64, 72, 72, generator=g)
            boxes = torch.tensor([[[110.0, 120.0, 60.0, 70.0]]]).repeat(n, 1, 1)
            boxes[:, :, :2] += torch.randn(n, 1, 2, generator=g) * 8
            filt = torch.zeros(1, 4, 64, 3, 3)
            whole = RegressionOptimizer(label_radius=2, init_filter_reg=1.0, windowed=False)
            windowed = RegressionOptimizer(label_radius=2, init_filter_reg=1.0)
            times = interleaved({
                "6 steps, whole 72x72 maps": lambda: whole(filt, feat, boxes, num_iter=6),
                "6 steps, 7x7 loss windows": lambda: windowed(filt, feat, boxes, num_iter=6),
                "exact solve (windows)": lambda: windowed.solve(feat, boxes),
            }, max(3, args.runs // 3))
            report(f"regression update, N={n}", times, "6 steps, whole 72x72 maps")


if __name__ == "__main__":
    main()
