"""The tracker on a CUDA device, and the torch runtime's float16 mode. Without a GPU only the checks
that need none run (the CUDA ones skip); the device machine runs the rest (training/gpu_ratchet.py
does the same checks at scale)."""
import cv2
import numpy as np
import pytest
import torch
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.assembly import load_model, model_spec, resolve_weights
from fcot_ros.errors import ConfigurationError
from fcot_ros.runtime.torch_runtime import TorchRuntime
from fcot_ros.tracker.memory import SampleMemory

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _shipped():
    return load_model("fcot_lite", resolve_weights(model_spec("fcot_lite"), None, "default"))


def test_sample_weights_live_on_the_memory_device():
    """The weights' bookkeeping stays float64 on the CPU; what the optimizers get is on the banks'
    device (a CUDA tracker failed at its first model update when they were not). The 'meta' device
    stands in for CUDA here."""
    memory = SampleMemory(4, {"cls18": (2, 3, 3)}, 0.25, device="meta")
    memory.set_initial(torch.zeros(2, 4, device="meta"))
    weights = memory.sample_weights()
    assert weights.device.type == "meta" and weights.shape == (2, 1) and weights.dtype == torch.float32
    assert memory.weights.device.type == "cpu"


def test_torch_precision_is_checked():
    net = _shipped()
    with pytest.raises(ConfigurationError, match="precision"):
        TorchRuntime(net.features, "cpu", "bf8")
    with pytest.raises(ConfigurationError, match="CUDA"):
        TorchRuntime(net.features, "cpu", "fp16")


@needs_cuda
def test_cuda_tracker_follows_a_real_sequence_like_the_cpu_one(load_sequence):
    seq = load_sequence("otb_Car4")
    trackers = [build_tracker(model="fcot_lite", backend="torch", device=d) for d in ("cuda", "cpu")]
    box = tuple(seq.groundtruth[0])
    for t in trackers:
        t.initialize(seq.image(0), box)
    ious = []
    for i in range(1, 60):          # past the first model updates (every few frames)
        a, b = (t.track(seq.image(i)).box for t in trackers)
        ious.append(iou(a, b))
    assert np.mean(ious) > 0.95


@needs_cuda
def test_fp16_network_maps_agree_with_fp32(load_sequence):
    net = _shipped()
    seq = load_sequence("otb_Car4")
    crop = np.ascontiguousarray(cv2.resize(seq.image(0), (288, 288))[None])
    full = TorchRuntime(net.features, "cuda", "fp32").extract(crop)
    half = TorchRuntime(net.features, "cuda", "fp16").extract(crop)
    for a, b in zip(full, half):
        assert b.dtype == torch.float32
        assert float((a - b).norm() / a.norm()) < 1e-2
