"""The frozen part of FCOT: backbone + decoder + classifier/regression feature heads and the
feature parts of the filter initializers. Everything here is fixed while tracking, so it is
what the runtimes (PyTorch, ONNX Runtime, TensorRT) execute.

Input images: (N, 3, S, S) float32 **BGR in 0..255** (S = crop size, 288); normalisation
to the backbone's convention happens inside, so exported graphs take raw crops.
"""
import torch
from torch import nn

from fcot_ros.models.config import NetworkConfig
from fcot_ros.models.decoder import FPNDecoder
from fcot_ros.models.efficientnet_lite import EfficientNetLite0, load_lite0_imagenet
from fcot_ros.models.heads import (Cls18Head, Cls72Head, FilterInitializer, RegressionFeatures,
                                   RMGInitializer)
from fcot_ros.models.resnet import ResNet50

FEATURE_NAMES = ("cls18", "cls72", "reg")
INIT_FILTER_NAMES = ("cls18_filter", "cls72_filter", "reg_filter")


class FeatureNetwork(nn.Module):
    """forward(images) -> (cls18 (N,C18,S/16,S/16), cls72 (N,C72,S/4,S/4), reg (N,CR,S/4,S/4)).

    forward_init(images, boxes) additionally returns the initial filters
    cls18_filter (1,C18,4,4), cls72_filter (1,C72,4,4) — averaged over all N images — and
    reg_filter (1,4,CR,3,3) from the first image only (RMG).
    """

    def __init__(self, config: NetworkConfig, imagenet_backbone: bool = True):
        super().__init__()
        self.config = config
        if config.backbone == "resnet50":
            self.backbone = ResNet50()
        elif config.backbone == "efficientnet_lite0":
            self.backbone = EfficientNetLite0()
            if imagenet_backbone:
                load_lite0_imagenet(self.backbone)
        else:
            raise ValueError(f"unknown backbone {config.backbone!r}")
        # BGR 0..255 -> normalised RGB, as buffers so that export bakes them in
        mean = torch.tensor(config.mean[::-1]).view(1, 3, 1, 1)
        std = torch.tensor(config.std[::-1]).view(1, 3, 1, 1)
        self.register_buffer("bgr_mean", mean, persistent=False)
        self.register_buffer("bgr_inv_std", 1.0 / std, persistent=False)

        if config.hand_init:
            # weights that hand_init_ leaves at their random init (e.g. the RMG heads) are drawn
            # from a fixed seed, without touching the global RNG: every process builds the same
            # network, so the state-dict hash (the export cache key) is the same
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                self._build_heads(config)
                self.hand_init_()
        else:
            self._build_heads(config)

    def _build_heads(self, config):
        c4, c8, c16 = config.backbone_channels
        d, g = config.decoder_dim, config.groups
        self.decoder = FPNDecoder((c4, c8, c16), d)
        self.cls18_head = Cls18Head(c16, config.cls18_dim, config.cls_filter_size)
        self.cls72_head = Cls72Head(d, config.cls72_mid, config.cls72_dim, config.cls_filter_size, g,
                                    config.norm_scale_coef)
        self.reg_features = RegressionFeatures(d, config.reg_mid, config.reg_dim, g)
        self.cls18_initializer = FilterInitializer(config.cls18_dim, config.cls_filter_size, 16)
        self.cls72_initializer = FilterInitializer(config.cls72_dim, config.cls_filter_size, 4)
        self.rmg_initializer = RMGInitializer(d, config.reg_mid, config.reg_dim, g, config.reg_filter_size)

    def hand_init_(self):
        """Identity-like heads so that ImageNet features reach the online optimizers intact
        (used by fcot_lite until its heads are trained offline)."""
        self.cls18_head.hand_init_()
        self.cls72_head.hand_init_()
        self.reg_features.hand_init_()
        self.cls18_initializer.hand_init_()
        self.cls72_initializer.hand_init_()
        self.rmg_initializer.hand_init_()
        self._hand_init_decoder_()

    def _hand_init_decoder_(self):
        """Decoder as a concatenation of fixed orthonormal projections of the three scales into
        disjoint channel blocks (half the planes for stride 16, a quarter each for 8 and 4)."""
        d = self.config.decoder_dim
        blocks = {"lateral_18": (0, d // 2), "lateral_36": (d // 2, 3 * d // 4), "lateral_72": (3 * d // 4, d)}
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, (lo, hi) in blocks.items():
                conv = getattr(self.decoder, name)
                conv.weight.zero_()
                conv.bias.zero_()
                cin = conv.weight.shape[1]
                q, _ = torch.linalg.qr(torch.randn(cin, cin, generator=gen))
                rows = min(hi - lo, cin)
                conv.weight[lo:lo + rows, :, 0, 0] = q[:rows]
            from fcot_ros.models.heads import _center_identity_
            _center_identity_(self.decoder.smooth_72.weight)
            self.decoder.smooth_72.bias.zero_()

    def _pyramid(self, images):
        x = (images - self.bgr_mean) * self.bgr_inv_std
        x = x[:, [2, 1, 0]]
        feats = self.backbone.forward_features(x)
        p36, p72 = self.decoder(feats["stride4"], feats["stride8"], feats["stride16"])
        return feats["stride16"], p36, p72

    def _heads(self, c16, p36, p72):
        return self.cls18_head(c16), self.cls72_head(p72), self.reg_features(p36, p72)

    def forward(self, images):
        """Per-frame features of (N, 3, S, S) BGR 0..255 crops."""
        return self._heads(*self._pyramid(images))

    def forward_init(self, images, boxes):
        """First-frame features and initial filters; boxes (N, 4) xywh in crop pixels."""
        c16, p36, p72 = self._pyramid(images)
        cls18, cls72, reg = self._heads(c16, p36, p72)
        cls18_filter = self.cls18_initializer(cls18, boxes)
        cls72_filter = self.cls72_initializer(cls72, boxes)
        reg_filter = self.rmg_initializer(p36[:1], p72[:1], boxes[:1])
        return cls18, cls72, reg, cls18_filter, cls72_filter, reg_filter
