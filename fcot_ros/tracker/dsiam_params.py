"""Settings of the DSiam tracker (``dsiam_lite``), with named presets.

SiamFC's search settings (Bertinetto et al. 2016, the 3-scale tracker DSiam builds on): scale step
1.0375, scale penalty 0.9745, scale learning rate 0.59, cosine-window influence 0.176, response
upsampling 16. Presets: "default" (V and W online, as DSiam), "no_v", "no_w" and "static" (neither:
a SiamFC tracker on the same features), for the ablation of the supplement's section 2.
"""
from dataclasses import dataclass, fields, replace
from typing import Tuple

from fcot_ros.errors import ConfigurationError


@dataclass(frozen=True)
class DSiamParams:
    """Every setting of the DSiam online tracker; frozen."""

    use_v: bool = True                    # target appearance variation transform V (online)
    use_w: bool = True                    # background suppression transform W (online)
    scale_step: float = 1.0375            # search scales scale_step ** (-1, 0, 1)
    num_scales: int = 3
    scale_penalty: float = 0.9745         # on the peak of the scales other than 1
    scale_lr: float = 0.59                # damping of the size update
    window_influence: float = 0.176       # cosine window mixed into the normalised response
    response_up: int = 16                 # bicubic upsampling of the chosen scale's response
    # ours (a robot's needs; the papers update every frame): V and W are learned only from frames
    # whose confidence reaches update_threshold; states from the confidence (sigmoid of the peak logit)
    update_threshold: float = 0.5
    uncertain_threshold: float = 0.5      # below: "uncertain"
    lost_threshold: float = 0.2           # below: "lost" (tracking goes on from the last position)
    min_size: float = 4.0                 # pixels, per side, of the reported box

    def with_overrides(self, **overrides) -> "DSiamParams":
        """A copy with ``overrides`` applied; an unknown name raises ConfigurationError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigurationError(f"unknown dsiam tracker parameter(s) {unknown}; known: {sorted(known)}")
        out = replace(self, **overrides)
        out.check()
        return out

    def check(self):
        """Raise ConfigurationError for values outside their range."""
        if self.num_scales < 1 or self.num_scales % 2 == 0:
            raise ConfigurationError(f"num_scales must be odd and >= 1, not {self.num_scales}")
        if self.scale_step <= 1.0 or not 0.0 < self.scale_lr <= 1.0 or not 0.0 < self.scale_penalty <= 1.0:
            raise ConfigurationError("scale_step must be > 1, scale_lr and scale_penalty in (0, 1]")
        if not 0.0 <= self.window_influence <= 1.0 or self.response_up < 1:
            raise ConfigurationError("window_influence must be in [0, 1] and response_up >= 1")

    @property
    def scale_factors(self) -> Tuple[float, ...]:
        """The search scales relative to the current one, e.g. (1/1.0375, 1, 1.0375)."""
        half = self.num_scales // 2
        return tuple(self.scale_step ** k for k in range(-half, half + 1))


PRESETS = {
    "default": DSiamParams(),
    "no_v": DSiamParams(use_v=False),
    "no_w": DSiamParams(use_w=False),
    "static": DSiamParams(use_v=False, use_w=False),
}


def get_dsiam_params(preset: str = "default", **overrides) -> DSiamParams:
    """The named preset with ``overrides`` applied; an unknown preset raises ConfigurationError."""
    if preset not in PRESETS:
        raise ConfigurationError(f"unknown dsiam_lite preset {preset!r}; choose one of {tuple(PRESETS)}")
    return PRESETS[preset].with_overrides(**overrides)
