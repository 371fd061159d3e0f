"""Interface of the feature-network runtimes (PyTorch, ONNX Runtime, TensorRT).

A runtime runs the frozen FeatureNetwork on uint8 crops and hands torch tensors (on
``self.device``) to the online optimizers, which always run in PyTorch.

    extract(crops)              crops (N, S, S, 3) uint8 BGR
        -> cls18 (N, C18, S/16, S/16), cls72 (N, C72, S/4, S/4), reg (N, CR, S/4, S/4)
    extract_init(crops, boxes)  boxes (N, 4) float32 xywh in crop pixels
        -> the three maps + cls18_filter (1, C18, 4, 4), cls72_filter (1, C72, 4, 4),
           reg_filter (1, 4, CR, 3, 3)
"""
import numpy as np
import torch


def crops_to_tensor(crops: np.ndarray, device) -> torch.Tensor:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float32 (0..255, BGR) on device."""
    return torch.from_numpy(np.ascontiguousarray(crops)).to(device).permute(0, 3, 1, 2).float()


class FeatureRuntime:
    """Base class of the feature-network runtimes: ``name``, ``device`` and the two calls of the module docstring."""

    name = "abstract"
    device = torch.device("cpu")

    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> (cls18, cls72, reg) feature maps as torch tensors on ``self.device``."""
        raise NotImplementedError

    def extract_init(self, crops, boxes):
        """crops (N, S, S, 3) uint8, boxes (N, 4) xywh crop pixels -> the three maps and three initial filters."""
        raise NotImplementedError
