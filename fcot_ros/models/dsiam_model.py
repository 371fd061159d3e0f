"""The Dynamic Siamese network (DSiam, Guo et al., ICCV 2017) on EfficientNet-Lite0: ``dsiam_lite``.

What runs per frame (supplement section 1.1, Fig. 1, two layers l1 = stride 16, l2 = stride 8):

    T~^l = V^l (*) f^l(O_1)                       'var': target appearance variation (CirConv)
    Z~^l = W^l (*) f^l(Z_t)                       'sup': background suppression (CirConv)
    S^l  = a^l * corr(T~^l, Z~^l) / (C h w) + b^l  SiamFC cross-correlation, learned scale and bias
    S    = sum_l Y^l . S^l,  sum_l Y^l = 1        'Elefusion' (supplement eq. 1), Y = softmax of logits
    V^l  = RLR(f^l(O_1) -> f^l(O_{t-1}); lambda_v^l)          'Lvar' (main paper: learned at t-1)
    W^l  = RLR(f^l(G_{t-1}) -> g . f^l(G_{t-1}); lambda_w^l)  'Lsup'

(*) is the 2-D circular convolution per channel and RLR the regularised linear regression solved
in the Fourier domain (fcot_ros.ops.circulant). Choices of ours where the papers leave freedom:

- Features: the frozen ImageNet EfficientNet-Lite0 trunk of fcot_lite (stride 8: 40 channels,
  stride 16: 112), each followed by a trained 1x1 "adjust" convolution to ``channels`` channels.
  Template 128 px (16x16 / 8x8 cells, read from a search crop: DSiamModel.template_window), search
  crop 256 px (32x32 / 16x16 cells); responses
  17x17 (stride 8) and 9x9 (stride 16, upsampled to 17x17 with align_corners: cell j -> 2j).
- lambda is relative: the RLR gets lambda^l * mean_k |x_hat_k|^2 per channel (the spectral energy of
  the regressed features), so that the learned value does not depend on the feature scale. The
  papers' lambda is the absolute one; exp(log_lambda) is what training learns.
- The Gaussian weighting of G (the supplement's 'Eltwise' on the image region) is applied to the
  features of G instead (no second backbone pass); ``gaussian_window`` gives it.

Crops are (N, 3, S, S) float BGR in 0..255 (normalised inside), like fcot_lite's.
"""
import math
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fcot_ros.errors import ConfigurationError
from fcot_ros.models.efficientnet_lite import EfficientNetLite0, load_lite0_imagenet
from fcot_ros.models.layers import BGRNormalization
from fcot_ros.ops.circulant import circ_conv, rlr
from fcot_ros.ops.elefusion import elefusion, fusion_weights


@dataclass(frozen=True)
class DSiamConfig:
    """Everything that defines a DSiam network besides its tensors (stored in its checkpoints)."""

    name: str = "dsiam_lite"
    backbone: str = "efficientnet_lite0"
    mean: Tuple[float, float, float] = (127.0, 127.0, 127.0)      # RGB, 0..255 units (fcot_lite's)
    std: Tuple[float, float, float] = (128.0, 128.0, 128.0)
    levels: Tuple[str, ...] = ("stride8", "stride16")             # l2 (conv4-like), l1 (conv5-like)
    strides: Tuple[int, ...] = (8, 16)
    in_channels: Tuple[int, ...] = (40, 112)
    channels: int = 64                   # after the adjust convolutions
    template_size: int = 128             # pixels of the template crop O
    search_size: int = 256               # pixels of the search crop Z (and of G)
    context: float = 0.5                 # SiamFC context: side = sqrt((w + c(w+h)) (h + c(w+h)))
    init_lambda_v: float = 0.1           # relative lambdas at initialisation (see module doc)
    init_lambda_w: float = 0.1
    init_response_scale: float = 0.05    # a^l at initialisation (logits of order 1 on the trunk's features)
    gauss_sigma: float = 0.5             # sigma of the G weighting, in target sizes
    centre_v: bool = True                # V rolled so that its peak is at zero shift (centre_transform)

    def __post_init__(self):
        if self.template_size % max(self.strides) or self.search_size % max(self.strides):
            raise ConfigurationError(f"crop sizes must be multiples of {max(self.strides)}")
        if not len(self.levels) == len(self.strides) == len(self.in_channels):
            raise ConfigurationError("levels, strides and in_channels must have one entry per level")

    def exemplar_scale(self, w: float, h: float) -> float:
        """Image pixels per crop pixel of SiamFC's template crop of a w x h target: the square of side
        sqrt((w + c(w+h)) (h + c(w+h))), c = context, maps onto template_size pixels."""
        c = self.context * (w + h)
        return math.sqrt((w + c) * (h + c)) / self.template_size

    @property
    def response_size(self) -> int:
        """Side of the fused response map: that of the finest level (17 for 256 / 128 / 8)."""
        s = min(self.strides)
        return (self.search_size - self.template_size) // s + 1


def dsiam_config(**settings) -> DSiamConfig:
    """A DSiamConfig from plain settings (a checkpoint's ``meta["config"]``); unknown fields are refused."""
    known = set(DSiamConfig.__dataclass_fields__)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigurationError(f"unknown dsiam_lite setting(s) {unknown}; known: {sorted(known)}")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    return DSiamConfig(**clean)


def config_dict(config: DSiamConfig) -> dict:
    """Plain-typed dict of ``config`` (lists for tuples), as checkpoints store it."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


class DSiamFeatures(nn.Module):
    """forward(crops (N, 3, S, S) BGR 0..255) -> per level (N, channels, S/stride, S/stride).

    The frozen trunk (EfficientNet-Lite0 up to stride 16, ImageNet weights) plus the trained 1x1
    adjust convolutions; this is the part the runtimes (torch, ONNX Runtime) execute.
    """

    def __init__(self, config: DSiamConfig, imagenet_backbone: bool = True):
        super().__init__()
        if config.backbone != "efficientnet_lite0":
            raise ConfigurationError(f"dsiam_lite has no backbone {config.backbone!r}")
        self.config = config
        self.normalize = BGRNormalization(config.mean, config.std)
        self.backbone = EfficientNetLite0()
        if imagenet_backbone:
            load_lite0_imagenet(self.backbone)
        self.adjust = nn.ModuleList(nn.Conv2d(c, config.channels, 1) for c in config.in_channels)

    def train(self, mode: bool = True):
        """The trunk stays in eval mode (frozen BatchNorm statistics) whatever ``mode`` is."""
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, crops):
        """crops (N, 3, S, S) BGR 0..255 -> tuple of (N, channels, S/stride, S/stride) per level."""
        with torch.no_grad():
            feats = self.backbone.forward_features(self.normalize(crops))
        return tuple(adjust(feats[level]) for adjust, level in zip(self.adjust, self.config.levels))


def gaussian_window(size: int, centre: Tuple[float, float], sigma: Tuple[float, float], dtype=torch.float32):
    """(size, size) Gaussian weights exp(-dx^2 / 2 sx^2 - dy^2 / 2 sy^2), peak 1 at ``centre`` = (x, y)
    in cells (cell k's centre is k), sigma = (sx, sy) in cells."""
    k = torch.arange(size, dtype=dtype)
    gx = torch.exp(-0.5 * ((k - centre[0]) / max(sigma[0], 1e-3)) ** 2)
    gy = torch.exp(-0.5 * ((k - centre[1]) / max(sigma[1], 1e-3)) ** 2)
    return gy[:, None] * gx[None, :]


def centre_transform(v):
    """``v`` (C, h, w) circularly rolled so that the peak of its channel sum sits at shift (0, 0).

    Ours, not the papers': V = RLR(f(O_1) -> f(O_t)) carries, besides the appearance change, the
    offset between O_1's and O_t's windows, i.e. the tracker's own localisation error at t; applied
    to the template, that offset moves the next peak by the same error, which then feeds back frame
    after frame (measured: the tracker stuck to its lagging estimate). Rolling V to zero shift keeps
    the appearance part. The roll is an index permutation: gradients pass unchanged."""
    total = v.detach().sum(dim=0)
    row, col = divmod(int(torch.argmax(total)), total.shape[-1])
    return torch.roll(v, shifts=(-row, -col), dims=(-2, -1))


def cell_centre(feats, shift, stride: int) -> Tuple[float, float]:
    """(x, y) in cells of ``feats`` (..., H, W) of the point ``shift`` = (dx, dy) crop pixels from the
    crop centre (cell k's centre is k)."""
    hh, ww = feats.shape[-2:]
    return ((ww - 1) / 2.0 + float(shift[0]) / stride, (hh - 1) / 2.0 + float(shift[1]) / stride)


def _spectral_energy(x):
    """Mean over frequencies of |x_hat|^2, per leading index: x (..., H, W) -> (...); equals H W mean(x^2)."""
    return (x * x).mean(dim=(-2, -1)) * (x.shape[-1] * x.shape[-2])


class DSiamModel(nn.Module):
    """The DSiam network: features, the two transforms' regularisers, the response heads and the fusion.

    Tensors: template features per level (1 or N, C, h_l, w_l); search features (N, C, H_l, W_l);
    transforms V^l (C, h_l, w_l), W^l (C, H_l, W_l) or None for "no transform" (the identity).
    """

    def __init__(self, config: DSiamConfig = None, imagenet_backbone: bool = True):
        super().__init__()
        self.config = config or DSiamConfig()
        n = len(self.config.levels)
        self.features = DSiamFeatures(self.config, imagenet_backbone)
        self.log_lambda_v = nn.Parameter(torch.full((n,), math.log(self.config.init_lambda_v)))
        self.log_lambda_w = nn.Parameter(torch.full((n,), math.log(self.config.init_lambda_w)))
        self.response_scale = nn.Parameter(torch.full((n,), float(self.config.init_response_scale)))
        self.response_bias = nn.Parameter(torch.zeros(n))
        r = self.config.response_size
        self.fusion_logits = nn.Parameter(torch.zeros(n, r, r))          # Y^l = softmax over levels

    # --- the transforms -------------------------------------------------------------------------
    def learn_v(self, level: int, first, latest):
        """V^l = RLR(f(O_1) -> f(O_t)): first, latest (C, h, w) -> (C, h, w)."""
        lam = torch.exp(self.log_lambda_v[level]) * _spectral_energy(first).clamp_min(1e-6)
        v = rlr(first, latest, lam)
        return centre_transform(v) if self.config.centre_v else v

    def learn_w(self, level: int, region, weights):
        """W^l = RLR(f(G) -> weights . f(G)): region (C, H, W), weights (H, W) -> (C, H, W)."""
        lam = torch.exp(self.log_lambda_w[level]) * _spectral_energy(region).clamp_min(1e-6)
        return rlr(region, region * weights, lam)

    def template_window(self, feats, shift=(0.0, 0.0)):
        """f(O): per level the template-size window ((C, template_size/stride) square) of a search
        crop's features ``feats`` (per level (C, H_l, W_l)) at ``shift`` = (dx, dy) crop pixels from
        the crop centre. Templates are read from search-size crops, never from template-size crops:
        a 128-pixel crop's border cells see the network's zero padding where the same region inside
        a search crop sees image (measured: 74% relative difference), and V must compare like with like."""
        cfg = self.config
        out = []
        for level, f in enumerate(feats):
            stride = cfg.strides[level]
            n = cfg.template_size // stride
            out.append(read_window(f, cell_centre(f, shift, stride), (n, n)))
        return out

    def learn_transforms(self, feats, first, shift, size, use_v=True, use_w=True):
        """(V list or None, W list or None) from one frame's search features ``feats`` (per level
        (C, H_l, W_l)) in which the target is displaced by ``shift`` = (dx, dy) crop pixels from the
        crop centre and measures ``size`` = (w, h) crop pixels; ``first`` = f(O_1) per level (C, h_l, w_l).
        f(O_t) is the template window of ``feats`` at the target (template_window); G's weights a
        Gaussian of sigma gauss_sigma * size there."""
        cfg = self.config
        v, w = ([] if use_v else None), ([] if use_w else None)
        latest = self.template_window(feats, shift) if use_v else [None] * len(feats)
        for level, (f, f1, ft) in enumerate(zip(feats, first, latest)):
            stride = cfg.strides[level]
            centre = cell_centre(f, shift, stride)
            if use_v:
                v.append(self.learn_v(level, f1, ft))
            if use_w:
                sigma = (cfg.gauss_sigma * float(size[0]) / stride, cfg.gauss_sigma * float(size[1]) / stride)
                w.append(self.learn_w(level, f, gaussian_window(f.shape[-1], centre, sigma, dtype=f.dtype)))
        return v, w

    @staticmethod
    def transform(transform: Optional[torch.Tensor], feats):
        """transform (*) feats per channel (broadcast over the batch); None = the identity."""
        return feats if transform is None else circ_conv(transform, feats)

    # --- responses ------------------------------------------------------------------------------
    def correlate(self, level: int, template, search):
        """S^l: template (1 or N, C, h, w), search (N, C, H, W) -> (N, 1, H-h+1, W-w+1) logits."""
        n, c, h, w = template.shape
        if n == 1:
            raw = F.conv2d(search, template)
        else:
            if n != search.shape[0]:
                raise ValueError(f"{n} templates for {search.shape[0]} search regions")
            raw = F.conv2d(search.reshape(1, -1, *search.shape[-2:]), template, groups=n).transpose(0, 1)
        return self.response_scale[level] * raw / (c * h * w) + self.response_bias[level]

    def fuse(self, responses: Sequence[torch.Tensor]):
        """Elefusion of per-level responses (N, 1, r_l, r_l) -> (N, 1, R, R); coarser levels are
        upsampled bilinearly (align_corners: their cell j lands on fine cell j * stride ratio)."""
        r = self.config.response_size
        maps = [x if x.shape[-1] == r else F.interpolate(x, size=(r, r), mode="bilinear", align_corners=True)
                for x in responses]
        return elefusion(torch.stack(maps), fusion_weights(self.fusion_logits)[:, None, None])

    def score(self, templates: List[torch.Tensor], searches: List[torch.Tensor], v=None, w=None):
        """Fused response logits (N, 1, R, R) of search features per level, with the transforms
        ``v`` / ``w`` (lists per level, or None for none) applied to the template / search features."""
        out = []
        for level, (t, z) in enumerate(zip(templates, searches)):
            t = self.transform(v[level] if v is not None else None, t)
            z = self.transform(w[level] if w is not None else None, z)
            out.append(self.correlate(level, t, z))
        return self.fuse(out)


def read_window(feats, centre: Tuple[float, float], size: Tuple[int, int]):
    """The (C, h, w) window of ``feats`` (C, H, W) whose cell (j, i) centre lies at ``centre`` +
    (i - (w-1)/2, j - (h-1)/2) cells (bilinear; zeros outside): f(O_t) read from the search features."""
    c, hh, ww = feats.shape
    h, w = size
    xs = centre[0] + torch.arange(w, dtype=feats.dtype) - (w - 1) / 2.0
    ys = centre[1] + torch.arange(h, dtype=feats.dtype) - (h - 1) / 2.0
    gx = (2 * xs + 1) / ww - 1                     # cell k's centre is k: normalised (align_corners=False)
    gy = (2 * ys + 1) / hh - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)[None]
    return F.grid_sample(feats[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
