"""ResNet-50 layers 1-3 (torchvision Bottleneck, stride on the 3x3 conv), torchvision key names.

Input (N, 3, H, W) ImageNet-normalised RGB. ``forward_features`` returns
{"stride4": layer1 (N,256,H/4,W/4), "stride8": layer2 (N,512,H/8,W/8), "stride16": layer3 (N,1024,H/16,W/16)}.
layer4 and fc are never computed (the authors' forward stops after layer3), so they are not built.
"""
from torch import nn


class Bottleneck(nn.Module):
    """torchvision ResNet bottleneck (1x1, strided 3x3, 1x1 to planes*4) with an optional downsampling shortcut."""

    expansion = 4

    def __init__(self, in_ch, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        """(N, in_ch, H, W) -> (N, planes*4, H/stride, W/stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


def _layer(in_ch, planes, blocks, stride):
    downsample = None
    if stride != 1 or in_ch != planes * 4:
        downsample = nn.Sequential(nn.Conv2d(in_ch, planes * 4, 1, stride, bias=False),
                                   nn.BatchNorm2d(planes * 4))
    layers = [Bottleneck(in_ch, planes, stride, downsample)]
    layers += [Bottleneck(planes * 4, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNet50(nn.Module):
    """ResNet-50 stem and layers 1-3 (no layer4 or fc), with torchvision's parameter names."""

    CHANNELS = {"stride4": 256, "stride8": 512, "stride16": 1024}

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = _layer(64, 64, 3, 1)
        self.layer2 = _layer(256, 128, 4, 2)
        self.layer3 = _layer(512, 256, 6, 2)

    def forward_features(self, x):
        """(N, 3, H, W) normalised RGB -> {"stride4", "stride8", "stride16"} maps of 256, 512, 1024 channels."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c1 = self.layer1(x)
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        return {"stride4": c1, "stride8": c2, "stride16": c3}
