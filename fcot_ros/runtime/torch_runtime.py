"""PyTorch (eager) runtime of the feature network, on CPU or CUDA, in float32 or (CUDA only) float16."""
import contextlib

import torch

from fcot_ros.errors import ConfigurationError
from fcot_ros.runtime.base import FeatureRuntime, crops_to_tensor

TORCH_PRECISIONS = ("fp32", "fp16")


class TorchRuntime(FeatureRuntime):
    """``precision="fp16"`` runs the network under CUDA float16 autocast and hands float32 maps to the
    optimizers (which always run in float32), as a TensorRT fp16 engine would."""

    name = "torch"

    def __init__(self, features, device="cpu", precision="fp32"):
        if precision not in TORCH_PRECISIONS:
            raise ConfigurationError(f"torch precision must be one of {TORCH_PRECISIONS}, not {precision!r}")
        self.device = torch.device(device)
        if precision == "fp16" and self.device.type != "cuda":
            raise ConfigurationError("torch precision fp16 needs a CUDA device")
        self.precision = precision
        self.net = features.to(self.device).eval()

    def _autocast(self):
        if self.precision == "fp16":
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    @staticmethod
    def _float(outputs):
        return tuple(o.float() for o in outputs)

    @torch.inference_mode()
    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> (cls18, cls72, reg) float32 feature maps on ``self.device``."""
        with self._autocast():
            return self._float(self.net(crops_to_tensor(crops, self.device)))

    @torch.inference_mode()
    def extract_init(self, crops, boxes):
        """crops (N, S, S, 3) uint8, boxes (N, 4) xywh crop pixels -> the maps and initial filters, float32."""
        boxes = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
        with self._autocast():
            return self._float(self.net.forward_init(crops_to_tensor(crops, self.device), boxes))
