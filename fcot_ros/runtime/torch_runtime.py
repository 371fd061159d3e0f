"""PyTorch (eager) runtime of the feature network, on CPU or CUDA."""
import torch

from fcot_ros.runtime.base import FeatureRuntime, crops_to_tensor


class TorchRuntime(FeatureRuntime):
    name = "torch"

    def __init__(self, features, device="cpu"):
        self.device = torch.device(device)
        self.net = features.to(self.device).eval()

    @torch.inference_mode()
    def extract(self, crops):
        return self.net(crops_to_tensor(crops, self.device))

    @torch.inference_mode()
    def extract_init(self, crops, boxes):
        boxes = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
        return self.net.forward_init(crops_to_tensor(crops, self.device), boxes)
