"""The frozen part of FCOT as the runtimes execute it: backbone + decoder + the three branches'
feature heads and the feature parts of their filter initializers (everything that is fixed while
tracking; the online optimizers run beside it in PyTorch).

A ``FeatureNetwork`` is a view of an ``FCOTModel``: it shares the model's modules (no copy), so
loading weights into the model changes it too. Its state-dict names (``backbone.*``, ``decoder.*``,
``cls18_head.*``, ...) identify the exported graphs (runtime.export hashes them).

Input images: (N, 3, S, S) float32 **BGR in 0..255** (S = crop size, 288); normalisation to the
backbone's convention happens inside, so exported graphs take raw crops.
"""
from torch import nn

FEATURE_NAMES = ("cls18", "cls72", "reg")
INIT_FILTER_NAMES = ("cls18_filter", "cls72_filter", "reg_filter")


class FeatureNetwork(nn.Module):
    """forward(images) -> (cls18 (N,C18,S/16,S/16), cls72 (N,C72,S/4,S/4), reg (N,CR,S/4,S/4)).

    forward_init(images, boxes) additionally returns the initial filters of one sequence:
    cls18_filter (1,C18,4,4), cls72_filter (1,C72,4,4) (means over all N images) and
    reg_filter (1,4,CR,3,3) from the first image only (RMG). boxes (N, 4) xywh crop pixels.
    """

    def __init__(self, model):
        super().__init__()
        self.config = model.config
        self.normalize = model.normalize
        self.backbone = model.backbone
        self.decoder = model.decoder
        self.cls18_head = model.cls18.head
        self.cls72_head = model.cls72.head
        self.reg_features = model.reg.head
        self.cls18_initializer = model.cls18.initializer
        self.cls72_initializer = model.cls72.initializer
        self.rmg_initializer = model.reg.initializer

    def _pyramid(self, images):
        feats = self.backbone.forward_features(self.normalize(images))
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
        one = boxes.unsqueeze(1)                                         # (N, 1, 4): one sequence
        cls18_filter = self.cls18_initializer(cls18.unsqueeze(1), one)[0]   # (1, C18, k, k)
        cls72_filter = self.cls72_initializer(cls72.unsqueeze(1), one)[0]
        reg_filter = self.rmg_initializer(p36[:1], p72[:1], boxes[:1])
        return cls18, cls72, reg, cls18_filter, cls72_filter, reg_filter
