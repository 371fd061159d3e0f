"""Everything that defines an FCOT model besides its tensors: network widths and constants, and the
structure and initial values of the three online optimizers.

``fcot_r50`` is the paper's network layer for layer; ``fcot_lite`` keeps the same decoder, heads and
initializers on EfficientNet-Lite0 with narrower channels so that it runs in real time on a small
CPU. A ``NetworkConfig`` round-trips through plain dicts (``config_to_dict``, then ``get_config(name,
**that_dict)``): that is what our checkpoints store, so that a checkpoint rebuilds exactly the model it
was saved from.
"""
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Tuple

from fcot_ros.errors import ConfigurationError


class ConfigError(ConfigurationError):
    """A model configuration names an unknown field or holds a value of the wrong kind."""


@dataclass(frozen=True)
class ClassifierSettings:
    """A classifier branch's online optimizer (DiMP steepest descent): structure and initial values.

    Distances are in cells of the branch's feature map (stride 16 for cls18, 4 for cls72).
    """

    num_iter: int = 5                    # default steps of a fit (the tracker always says how many)
    init_step_length: float = 0.9        # exp(log_step_length) at initialisation
    init_filter_reg: float = 0.1         # filter_reg at initialisation; lambda = filter_reg^2
    min_filter_reg: float = 1e-3
    num_dist_bins: int = 100             # radial bases of the label, mask and spatial weight
    bin_displacement: float = 0.1        # cells between bases
    init_gauss_sigma: float = 0.9        # label y initialised to a Gaussian of this sigma, cells
    mask_init_factor: float = 3.0        # mask m initialised to factor * tanh(mask_radius - d)
    mask_radius: float = 2.0             # cells


@dataclass(frozen=True)
class RegressionSettings:
    """The regression branch's online optimizer (RMG steepest descent)."""

    num_iter: int = 5
    init_step_length: float = 1.0
    init_filter_reg: float = 0.1
    min_filter_reg: float = 1e-3
    step_rule: str = "masked"            # "masked" (the paper) | "authors" (their code's step length)
    label_radius: int = 0                # the loss covers the (2R+1)^2 cells around the centre


# Settings a checkpoint does not fix: the network is fully convolutional, so its weights compute the
# same maps per pixel at any search-crop size (the tracker's ``crop_size`` parameter picks one).
SETTINGS_FREE_OF_WEIGHTS = ("crop_size",)


@dataclass(frozen=True)
class NetworkConfig:
    """What defines an FCOT network besides its tensors: backbone, widths, crop size, optimizer settings."""

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
    deformable: bool = True          # False: the heads' DCNs keep zero offsets and run as convolutions
    # 0: full 3x3 layers; r in 1..9: the per-frame heads' 3x3 layers (decoder.smooth_72, the cls72 head,
    # both regression heads) are rank-r separable convolutions (models.separable); needs deformable=False
    separable_rank: int = 0
    cls18: ClassifierSettings = field(default_factory=ClassifierSettings)
    cls72: ClassifierSettings = field(default_factory=ClassifierSettings)
    reg: RegressionSettings = field(default_factory=RegressionSettings)

    def __post_init__(self):
        if not isinstance(self.separable_rank, int) or not 0 <= self.separable_rank <= 9:
            raise ConfigError("separable_rank must be an integer 0..9 (0: full 3x3 layers), "
                              f"not {self.separable_rank!r}")
        if self.separable_rank and self.deformable:
            raise ConfigError("separable_rank > 0 needs deformable=False (separable layers have no offsets)")

    def feature_size(self, stride: int) -> int:
        """Side of the stride-``stride`` feature maps of a crop, cells (18 for 16, 72 for 4 at 288)."""
        if self.crop_size % stride:
            raise ValueError(f"crop size {self.crop_size} is not a multiple of stride {stride}")
        return self.crop_size // stride


FCOT_R50 = NetworkConfig(
    name="fcot_r50", backbone="resnet50", backbone_channels=(256, 512, 1024),
    mean=(0.485 * 255, 0.456 * 255, 0.406 * 255), std=(0.229 * 255, 0.224 * 255, 0.225 * 255),
    # the only weights for fcot_r50 are the authors', trained with their regression step length
    reg=RegressionSettings(step_rule="authors", label_radius=0))

# fcot_lite's loss parameters before offline training: the 72 branch's radial functions are laid
# out in crop pixels like the 18 branch (label sigma 1.8 cells = the offline 72-label sigma, mask
# edge 8 cells = 32 px); its regressor is solved exactly (tracker reg_solver="exact") with ridge
# weight lambda = 1 (filter_reg 1.0; features have ~60 energy per patch dimension): 0.61 mean AUC on
# the first 300 frames of the 15 shared sequences, against 0.55 for 4 + 6 + 1 steps with lambda 0.01.
FCOT_LITE = NetworkConfig(
    name="fcot_lite", backbone="efficientnet_lite0", backbone_channels=(24, 40, 112),
    mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0),
    decoder_dim=64, cls18_dim=128, cls72_mid=64, cls72_dim=64, reg_mid=64, reg_dim=64,
    norm_scale_coef=2.0, hand_init=True,
    # rigid DCNs: the CPU budget (grid_sample takes ~25% of a training step and would slow tracking)
    deformable=False,
    cls72=ClassifierSettings(init_gauss_sigma=1.8, bin_displacement=0.4, mask_radius=8.0),
    reg=RegressionSettings(step_rule="masked", label_radius=2, init_filter_reg=1.0))

CONFIGS = {"fcot_r50": FCOT_R50, "fcot_lite": FCOT_LITE}
_NESTED = {"cls18": ClassifierSettings, "cls72": ClassifierSettings, "reg": RegressionSettings}


def _settings(cls, value, where):
    """A settings dataclass from an instance, a (partial) dict, or None (defaults)."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"model setting {where} must be a dict of {cls.__name__} fields, not {type(value).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown model setting(s) {', '.join(f'{where}.{k}' for k in unknown)}; "
                          f"{where} has {', '.join(sorted(known))}")
    return cls(**value)


def _merge_nested(base, value, where):
    """``base`` settings with the fields of ``value`` (a dict, or a full settings object) replaced."""
    if isinstance(value, dict):
        return replace(base, **asdict(_settings(type(base), {**asdict(base), **value}, where)))
    return _settings(type(base), value, where)


def get_config(name: str, **overrides) -> NetworkConfig:
    """The named model's config with ``overrides`` (NetworkConfig fields; cls18 / cls72 / reg may be
    given as partial dicts, e.g. ``reg={"step_rule": "authors"}``). Unknown names are refused."""
    if name not in CONFIGS:
        raise ConfigError(f"unknown model {name!r}; choose one of {tuple(CONFIGS)}")
    base = CONFIGS[name]
    known = {f.name for f in fields(NetworkConfig)} - {"name"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown model setting(s) {unknown}; a model config has {sorted(known)}")
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    for key in _NESTED:
        if key in overrides:
            overrides[key] = _merge_nested(getattr(base, key), overrides[key], key)
    try:
        return replace(base, **overrides)
    except TypeError as exc:
        raise ConfigError(f"model {name}: {exc}") from exc


def config_to_dict(config: NetworkConfig) -> dict:
    """Plain nested dict (str / int / float / bool / tuple) of ``config``, as checkpoints store it."""
    return asdict(config)
