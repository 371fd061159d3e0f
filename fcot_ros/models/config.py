"""Widths and constants of the two FCOT feature networks.

``fcot_r50`` is the paper's network layer for layer; ``fcot_lite`` keeps the same decoder,
heads and initializers on EfficientNet-Lite0 with narrower channels so that it runs in
real time on a small CPU.
"""
from dataclasses import dataclass, replace
from typing import Tuple


@dataclass(frozen=True)
class NetworkConfig:
    name: str
    backbone: str                    # "resnet50" | "efficientnet_lite0"
    backbone_channels: Tuple[int, int, int]  # channels at stride 4, 8, 16
    mean: Tuple[float, float, float]         # RGB, in 0..255 units
    std: Tuple[float, float, float]          # RGB, in 0..255 units
    crop_size: int = 288             # search-region crop side, pixels
    decoder_dim: int = 256           # pyramid planes
    cls18_dim: int = 512             # classifier-18 feature channels
    cls72_mid: int = 128
    cls72_dim: int = 256             # classifier-72 feature channels
    reg_mid: int = 128
    reg_dim: int = 256               # regression feature channels
    cls_filter_size: int = 4
    reg_filter_size: int = 3
    norm_scale_coef: float = 2.0     # InstanceL2Norm coefficient of the 72 head
    groups: int = 32                 # GroupNorm groups
    hand_init: bool = False          # identity-like heads for use before offline training

    @property
    def grid18(self) -> int:
        """Side of the stride-16 feature map (18 for a 288 crop)."""
        return self.crop_size // 16

    @property
    def grid72(self) -> int:
        """Side of the stride-4 feature map (72 for a 288 crop)."""
        return self.crop_size // 4


FCOT_R50 = NetworkConfig(
    name="fcot_r50", backbone="resnet50", backbone_channels=(256, 512, 1024),
    mean=(0.485 * 255, 0.456 * 255, 0.406 * 255), std=(0.229 * 255, 0.224 * 255, 0.225 * 255))

FCOT_LITE = NetworkConfig(
    name="fcot_lite", backbone="efficientnet_lite0", backbone_channels=(24, 40, 112),
    mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0),
    decoder_dim=64, cls18_dim=128, cls72_mid=64, cls72_dim=64, reg_mid=64, reg_dim=64,
    norm_scale_coef=2.0, hand_init=True)

CONFIGS = {"fcot_r50": FCOT_R50, "fcot_lite": FCOT_LITE}


def get_config(name: str, **overrides) -> NetworkConfig:
    if name not in CONFIGS:
        raise ValueError(f"unknown model {name!r}; choose one of {tuple(CONFIGS)}")
    return replace(CONFIGS[name], **overrides)
