"""Modulated deformable convolution (DCNv2) in pure PyTorch.

Replaces the CUDA-only ``DCNv2`` extension used by FCOT. Semantics follow the
DCNv2 kernel (deformable_groups=1):

* ``offset`` holds, for every kernel tap ``k`` (row-major over ``kh x kw``),
  the pair ``(dy, dx)`` in channels ``2k`` and ``2k+1``; units are input
  pixels.
* Tap ``k = i*kw + j`` of output pixel ``(ho, wo)`` samples the input at
  ``y = ho*stride - padding + i*dilation + dy``,
  ``x = wo*stride - padding + j*dilation + dx`` with bilinear interpolation;
  corners outside the map count as 0 (so a sample contributes only for
  ``-1 < y < H`` and ``-1 < x < W``).
* The sample is multiplied by ``mask`` (already in [0, 1]) and the result is
  contracted with ``weight`` like an ordinary convolution.

Implementation: one ``F.grid_sample`` call over all taps (bilinear, zeros
padding, ``align_corners=True`` so that normalised coordinate -1/+1 is the
centre of the first/last pixel), then one matmul with the weight reshaped to
``(Cout, Cin*kh*kw)``. Memory is ``kh*kw`` times the input. Differentiable
w.r.t. every tensor argument and exportable to ONNX (opset >= 16).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["modulated_deform_conv2d", "ModulatedDeformConv2d"]


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def modulated_deform_conv2d(x, offset, mask, weight, bias=None, padding=1, stride=1, dilation=1):
    """DCNv2 forward.

    Args:
        x: (N, Cin, H, W) input features.
        offset: (N, 2*kh*kw, Hout, Wout) sampling offsets in input pixels,
            ``(dy, dx)`` interleaved per tap, taps in row-major order.
        mask: (N, kh*kw, Hout, Wout) modulation, already in [0, 1].
        weight: (Cout, Cin, kh, kw) convolution weight.
        bias: optional (Cout,) bias.
        padding, stride, dilation: int or (h, w) pair, in pixels.

    Returns:
        (N, Cout, Hout, Wout) with ``Hout = (H + 2*ph - dh*(kh-1) - 1)//sh + 1``
        (likewise ``Wout``).
    """
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    n, cin, h, w = x.shape
    cout, cin_w, kh, kw = weight.shape
    ntap = kh * kw
    hout = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wout = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if not torch.jit.is_tracing():  # shapes are static in an exported graph
        if cin_w != cin:
            raise ValueError(f"weight expects {cin_w} input channels, x has {cin}")
        if tuple(offset.shape) != (n, 2 * ntap, hout, wout):
            raise ValueError(f"offset must be {(n, 2 * ntap, hout, wout)}, "
                             f"got {tuple(offset.shape)}")
        if tuple(mask.shape) != (n, ntap, hout, wout):
            raise ValueError(f"mask must be {(n, ntap, hout, wout)}, got {tuple(mask.shape)}")

    # align_corners=True normalises by (size - 1), undefined for size 1. A zero
    # row/column appended at the far side leaves the bilinear interpolant with
    # zero padding unchanged, so pad singleton dims to 2.
    if h == 1 or w == 1:
        x = F.pad(x, (0, 1 if w == 1 else 0, 0, 1 if h == 1 else 0))
    hs, ws = x.shape[-2], x.shape[-1]

    dtype, device = x.dtype, x.device
    # Base sampling positions per tap: (ntap, hout, wout)
    ys = torch.arange(hout, dtype=dtype, device=device) * sh - ph          # (hout,)
    xs = torch.arange(wout, dtype=dtype, device=device) * sw - pw          # (wout,)
    ty = torch.arange(kh, dtype=dtype, device=device) * dh                 # (kh,)
    tx = torch.arange(kw, dtype=dtype, device=device) * dw                 # (kw,)
    base_y = (ty.view(kh, 1, 1, 1) + ys.view(1, 1, hout, 1)).expand(kh, kw, hout, wout)
    base_x = (tx.view(1, kw, 1, 1) + xs.view(1, 1, 1, wout)).expand(kh, kw, hout, wout)
    base_y = base_y.reshape(1, ntap, hout, wout)
    base_x = base_x.reshape(1, ntap, hout, wout)

    off = offset.reshape(n, ntap, 2, hout, wout)
    py = base_y + off[:, :, 0]                                             # (n, ntap, hout, wout)
    px = base_x + off[:, :, 1]
    gy = py * (2.0 / (hs - 1)) - 1.0
    gx = px * (2.0 / (ws - 1)) - 1.0
    grid = torch.stack((gx, gy), dim=-1).view(n, ntap * hout, wout, 2)

    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    # (n, cin, ntap*hout, wout) -> (n, cin, ntap, hout*wout), modulate
    sampled = sampled.view(n, cin, ntap, hout * wout) * mask.reshape(n, 1, ntap, hout * wout)
    cols = sampled.view(n, cin * ntap, hout * wout)
    out = torch.matmul(weight.reshape(cout, cin * ntap), cols)               # (n, cout, hout*wout)
    if bias is not None:
        out = out + bias.view(1, cout, 1)
    return out.view(n, cout, hout, wout)


class ModulatedDeformConv2d(nn.Module):
    """DCNv2 layer with its own offset/mask predictor (``DCN`` in the authors' code).

    Parameters (names match the authors' checkpoints): ``weight``
    (Cout, Cin, kh, kw), ``bias`` (Cout,) or None, and ``conv_offset_mask``
    (an ``nn.Conv2d`` Cin -> 3*kh*kw with the same kernel/stride/padding).

    forward(x): x (N, Cin, H, W) -> (N, Cout, Hout, Wout). The first 2*kh*kw
    channels of ``conv_offset_mask(x)`` are the offsets (pixels), the last
    kh*kw go through a sigmoid to give the mask.

    ``conv_offset_mask`` starts at zero, so an untrained layer is a plain
    convolution scaled by 0.5.

    ``deformable=False`` makes the layer rigid: ``conv_offset_mask`` stays at zero (its parameters
    do not train) and the layer always runs as that plain convolution (the exact fast path below),
    in training too. The state-dict layout is the same, so a rigid layer loads a deformable one's
    weights only if their offsets are zero (else the forward refuses).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=True,
                 dilation=1, deformable=True):
        super().__init__()
        self.deformable = bool(deformable)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        kh, kw = self.kernel_size
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels, kh, kw))
        if bias:
            self.bias = nn.Parameter(torch.empty(self.out_channels))
        else:
            self.register_parameter("bias", None)
        self.conv_offset_mask = nn.Conv2d(self.in_channels, 3 * kh * kw, self.kernel_size,
                                          stride=self.stride, padding=self.padding,
                                          dilation=self.dilation, bias=True)
        self.reset_parameters()
        if not self.deformable:
            self.conv_offset_mask.requires_grad_(False)

    def reset_parameters(self):
        """Kaiming-uniform weight, zero bias, and zero offset/mask conv (zero offsets, masks 0.5)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        nn.init.zeros_(self.conv_offset_mask.weight)
        nn.init.zeros_(self.conv_offset_mask.bias)

    def constant_sampling(self):
        """True when the offset/mask branch ignores its input (zero weight, zero offset bias):
        every output then samples the regular grid with a fixed mask per tap."""
        kh, kw = self.kernel_size
        w, b = self.conv_offset_mask.weight, self.conv_offset_mask.bias
        zero_offsets = b is None or not bool(b[:2 * kh * kw].any())
        return zero_offsets and not bool(w.any())

    def masked_weight(self):
        """(Cout, Cin, kh, kw): the kernel of the layer's plain-convolution form when its offsets are zero,
        each tap scaled by its constant mask sigmoid(bias) (0.5 without a bias)."""
        kh, kw = self.kernel_size
        b = self.conv_offset_mask.bias
        mask = (torch.sigmoid(b[2 * kh * kw:]) if b is not None
                else torch.full((kh * kw,), 0.5, dtype=self.weight.dtype, device=self.weight.device))
        return self.weight * mask.view(1, 1, kh, kw)

    def forward(self, x):
        """(N, in_channels, H, W) -> (N, out_channels, H', W'); a plain masked conv when offsets are constant."""
        if not self.deformable and not torch.jit.is_tracing() and not self.constant_sampling():
            raise ValueError("a rigid (deformable=False) DCN layer holds non-zero offset weights; "
                             "build the model with deformable offsets to use these weights")
        if not self.deformable or (not self.training and self.constant_sampling()):
            # Exact fast path: with zero offsets the DCN is a plain convolution (outside the map
            # counts as 0 in both).
            return F.conv2d(x, self.masked_weight(), self.bias, self.stride, self.padding, self.dilation)
        out = self.conv_offset_mask(x)
        o1, o2, m = torch.chunk(out, 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        mask = torch.sigmoid(m)
        return modulated_deform_conv2d(x, offset, mask, self.weight, self.bias,
                                       padding=self.padding, stride=self.stride,
                                       dilation=self.dilation)

    def extra_repr(self):
        """The layer's settings for print(module)."""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"bias={self.bias is not None}, deformable={self.deformable}")
