"""FCOTModel: the whole learned model in one module and one state dict, what checkpoints hold and
training trains: an input normalisation, the backbone, the FPN decoder and the three target
models (branches.ClassifierBranch cls18 / cls72, branches.RegressionBranch reg), each with its
feature head, filter initializer and online optimizer.

``forward(train_images, train_boxes, test_images)`` is the training forward of DiMP / FCOT: filters
are predicted from the train frames of each sequence (initializer + steepest-descent iterates) and
applied to the test frames; every iterate's scores and regression maps come back, differentiable.
The tracker uses the same branches one call at a time (``fit`` / ``apply``), with the frozen part
run by a runtime (``features``: a FeatureNetwork view of this model).

State-dict keys: backbone.*, decoder.*, {cls18, cls72, reg}.{head, initializer, optimizer}.*
"""
from dataclasses import dataclass, field
from typing import List

import torch
from torch import nn

from fcot_ros.models.branches import ClassifierBranch, RegressionBranch
from fcot_ros.models.config import NetworkConfig, config_to_dict, get_config
from fcot_ros.models.decoder import FPNDecoder
from fcot_ros.models.efficientnet_lite import EfficientNetLite0, load_lite0_imagenet
from fcot_ros.models.feature_network import FeatureNetwork
from fcot_ros.models.heads import Cls18Head, Cls72Head, FilterInitializer, RegressionFeatures, RMGInitializer
from fcot_ros.models.layers import BGRNormalization
from fcot_ros.models.resnet import ResNet50
from fcot_ros.target_model.classifier_optimizer import ClassifierOptimizer
from fcot_ros.target_model.regression_optimizer import RegressionOptimizer

BRANCHES = ("cls18", "cls72", "reg")


@dataclass
class FCOTOutput:
    """Training-forward outputs for Nte test frames of S sequences, one entry per filter iterate
    (the initial filter first):

    cls18_scores: [(Nte, S, 19, 19)]; cls72_scores: [(Nte, S, 73, 73)] (raw classifier scores);
    reg_maps: [(Nte, S, 4, 72, 72)] distances (left, right, top, bottom) in 72-grid cells, after
    the ReLU (the RMG filter first, then the regression optimizer's iterates).
    A branch left out of ``branches`` has an empty list.
    """

    cls18_scores: List[torch.Tensor] = field(default_factory=list)
    cls72_scores: List[torch.Tensor] = field(default_factory=list)
    reg_maps: List[torch.Tensor] = field(default_factory=list)


def _at_least_fp32(x):
    """x in float32 if it is in a lower precision (autocast outputs), else unchanged (None stays)."""
    if x is None or x.dtype in (torch.float32, torch.float64):
        return x
    return x.float()


def _backbone(config: NetworkConfig, imagenet_backbone: bool):
    if config.backbone == "resnet50":
        return ResNet50()
    if config.backbone == "efficientnet_lite0":
        net = EfficientNetLite0()
        if imagenet_backbone:
            load_lite0_imagenet(net)
        return net
    raise ValueError(f"unknown backbone {config.backbone!r}")


def _heads(config: NetworkConfig):
    """Decoder, heads and initializers, built in a fixed order (the seeded fcot_lite build depends on it)."""
    c4, c8, c16 = config.backbone_channels
    d, g, k, dcn = config.decoder_dim, config.groups, config.cls_filter_size, config.deformable
    rank = config.separable_rank             # the per-frame stride-4/8 layers only; the RMG runs once
    decoder = FPNDecoder((c4, c8, c16), d, smooth_rank=rank)
    cls18_head = Cls18Head(c16, config.cls18_dim, k)
    cls72_head = Cls72Head(d, config.cls72_mid, config.cls72_dim, k, g, config.norm_scale_coef, deformable=dcn,
                           separable_rank=rank)
    reg_head = RegressionFeatures(d, config.reg_mid, config.reg_dim, g, deformable=dcn, separable_rank=rank)
    cls18_init = FilterInitializer(config.cls18_dim, k, 16)
    cls72_init = FilterInitializer(config.cls72_dim, k, 4)
    rmg = RMGInitializer(d, config.reg_mid, config.reg_dim, g, config.reg_filter_size, deformable=dcn)
    return decoder, cls18_head, cls72_head, reg_head, cls18_init, cls72_init, rmg


class FCOTModel(nn.Module):
    """See the module docstring. ``imagenet_backbone``: load the backbone's ImageNet weights
    (fcot_lite; skipped when a checkpoint will replace every tensor anyway)."""

    def __init__(self, config: NetworkConfig, imagenet_backbone: bool = True):
        super().__init__()
        self.config = config
        self.normalize = BGRNormalization(config.mean, config.std)
        self.backbone = _backbone(config, imagenet_backbone)
        if config.hand_init:
            # weights that hand_init_ leaves at their random init (e.g. the RMG heads) are drawn
            # from a fixed seed, without touching the global RNG: every process builds the same
            # network, so the state-dict hash (the export cache key) is the same
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                parts = _heads(config)
                self._hand_init(*parts)
        else:
            parts = _heads(config)
        decoder, cls18_head, cls72_head, reg_head, cls18_init, cls72_init, rmg = parts
        self.decoder = decoder
        k, kr = config.cls_filter_size, config.reg_filter_size
        self.cls18 = ClassifierBranch(cls18_head, cls18_init, ClassifierOptimizer(16, k, **vars(config.cls18)),
                                      config.feature_size(16))
        self.cls72 = ClassifierBranch(cls72_head, cls72_init, ClassifierOptimizer(4, k, **vars(config.cls72)),
                                      config.feature_size(4))
        self.reg = RegressionBranch(reg_head, rmg, RegressionOptimizer(4, kr, **vars(config.reg)),
                                    config.feature_size(4))
        # the runtimes' view of the frozen part; kept out of the module tree (it shares our modules)
        self.__dict__["_feature_network"] = FeatureNetwork(self)

    @staticmethod
    def _hand_init(decoder, cls18_head, cls72_head, reg_head, cls18_init, cls72_init, rmg):
        """Identity-like heads so that ImageNet features reach the online optimizers intact
        (fcot_lite before offline training)."""
        for part in (cls18_head, cls72_head, reg_head, cls18_init, cls72_init, rmg, decoder):
            part.hand_init_()

    def train(self, mode: bool = True):
        """Set training mode on the modules and on the feature-network view; returns self."""
        super().train(mode)
        self.features.training = mode      # the view's own flag (its modules are ours, already set)
        return self

    @property
    def features(self) -> FeatureNetwork:
        """The frozen feature network (shares this model's modules) that the runtimes execute."""
        return self.__dict__["_feature_network"]

    def branch(self, name: str):
        """The branch module named ``name`` (one of BRANCHES: cls18, cls72, reg)."""
        if name not in BRANCHES:
            raise ValueError(f"unknown branch {name!r}; choose one of {BRANCHES}")
        return getattr(self, name)

    def describe(self) -> dict:
        """Plain-dict description stored in our checkpoints: the whole config (network widths and
        every optimizer setting), from which ``build_model`` rebuilds this model exactly."""
        return {"config": config_to_dict(self.config)}

    # ------------------------------------------------------------------ training forward
    def backbone_features(self, images):
        """(B, 3, S, S) BGR 0..255 -> {"stride4", "stride8", "stride16"} maps; run under no_grad
        when no backbone parameter is trained (a frozen backbone costs no activation memory)."""
        x = self.normalize(images)
        if any(p.requires_grad for p in self.backbone.parameters()):
            return self.backbone.forward_features(x)
        with torch.no_grad():
            return self.backbone.forward_features(x)

    def pyramid(self, backbone_feats):
        """Backbone maps -> (c16 (B,C16,18,18), p36 (B,D,36,36), p72 (B,D,72,72))."""
        p36, p72 = self.decoder(backbone_feats["stride4"], backbone_feats["stride8"], backbone_feats["stride16"])
        return backbone_feats["stride16"], p36, p72

    def forward(self, train_images, train_boxes, test_images, num_iter=None, reg_num_iter=None,
                branches=BRANCHES, reg_solver="steepest_descent") -> FCOTOutput:
        """train_images (Ntr, S, 3, H, W) and test_images (Nte, S, 3, H, W) float BGR 0..255 crops;
        train_boxes (Ntr, S, 4) xywh crop px. num_iter / reg_num_iter: classifier / regression
        optimizer steps (default: the config's). branches: which outputs to compute. reg_solver
        "exact": the regression filter after the RMG one is the exact minimiser on the train frames
        (the tracker's reg_solver="exact"), instead of reg_num_iter steps."""
        s = train_images.shape[1]
        if test_images.shape[1] != s or train_boxes.shape[:2] != train_images.shape[:2]:
            raise ValueError(f"train images {tuple(train_images.shape)}, boxes {tuple(train_boxes.shape)} and "
                             f"test images {tuple(test_images.shape)} must share (N, S) layouts")
        train = self.backbone_features(train_images.flatten(0, 1))
        test = self.backbone_features(test_images.flatten(0, 1))
        return self.forward_from_backbone(train, train_boxes, test, num_iter, reg_num_iter, branches, reg_solver)

    def forward_from_backbone(self, train_feats, train_boxes, test_feats, num_iter=None, reg_num_iter=None,
                              branches=BRANCHES, reg_solver="steepest_descent") -> FCOTOutput:
        """``forward`` on backbone maps computed beforehand (e.g. cached for a frozen backbone):
        {"stride4", "stride8", "stride16"} of (Ntr*S, ...) train and (Nte*S, ...) test crops.

        The heads run under the caller's autocast (mixed precision on a GPU); the filter fits and
        their scores always run in float32 (the step lengths divide small sums)."""
        unknown = sorted(set(branches) - set(BRANCHES))
        if unknown:
            raise ValueError(f"unknown branch(es) {unknown}; choose from {BRANCHES}")
        ntr, s = train_boxes.shape[:2]
        nte = test_feats["stride16"].shape[0] // s
        c16_tr, p36_tr, p72_tr = self.pyramid(train_feats)
        c16_te, p36_te, p72_te = self.pyramid(test_feats)
        feats = {}
        if "cls18" in branches:
            feats["cls18"] = (self.cls18.features(c16_tr, ntr, s), self.cls18.features(c16_te, nte, s))
        if "cls72" in branches:
            feats["cls72"] = (self.cls72.features(p72_tr, ntr, s), self.cls72.features(p72_te, nte, s))
        if "reg" in branches:
            reg = self.reg
            first = lambda x: x.view(ntr, s, *x.shape[1:])[0]            # noqa: E731  the first train image
            start = reg.initial_filter(first(p36_tr), first(p72_tr), train_boxes[0])
            steps = reg.optimizer.num_iter if reg_num_iter is None else reg_num_iter
            fit_needed = reg_solver == "exact" or steps > 0
            feats["reg"] = (reg.features(p36_tr, p72_tr, ntr, s) if fit_needed else None,
                            reg.features(p36_te, p72_te, nte, s))
        out = FCOTOutput()
        boxes = _at_least_fp32(train_boxes)
        with torch.autocast(device_type=boxes.device.type, enabled=False):
            f32 = _at_least_fp32
            for name, target in (("cls18", out.cls18_scores), ("cls72", out.cls72_scores)):
                if name in feats:
                    branch, (x_tr, x_te) = self.branch(name), feats[name]
                    fit = branch.fit(f32(x_tr), boxes, num_iter=num_iter, keep_iterates=True)
                    target.extend(branch.apply(f32(x_te), f)[:, :, 0] for f in fit.iterates)
            if "reg" in feats:
                x_tr, x_te = feats["reg"]
                start = f32(start)
                if reg_solver == "exact":
                    iterates = [start, reg.fit(f32(x_tr), boxes, solver="exact").filter]
                elif steps > 0:
                    iterates = reg.fit(f32(x_tr), boxes, num_iter=steps, keep_iterates=True, start=start).iterates
                else:
                    iterates = [start]
                out.reg_maps.extend(reg.apply(f32(x_te), f) for f in iterates)
        return out


def build_model(name: str, imagenet_backbone: bool = True, config: NetworkConfig = None,
                **config_overrides) -> FCOTModel:
    """FCOTModel of the named model (``config`` replaces the named one's defaults when given;
    ``config_overrides`` are NetworkConfig fields, see models.config.get_config)."""
    if config is None:
        config = get_config(name, **config_overrides)
    elif config_overrides:
        raise ValueError("pass either config or config_overrides, not both")
    return FCOTModel(config, imagenet_backbone=imagenet_backbone)
