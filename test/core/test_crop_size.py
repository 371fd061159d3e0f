"""The tracker's crop size: the fully convolutional network runs at any multiple of 16 with the same
weights (a checkpoint does not fix it), and the tracker follows a real target at a smaller crop."""
import numpy as np
import pytest
import torch
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.assembly import load_model, model_spec, resolve_weights
from fcot_ros.errors import CheckpointError, ConfigurationError

SHIPPED = resolve_weights(model_spec("fcot_lite"), None, "default")


def test_crop_size_is_free_other_settings_are_not():
    net = load_model("fcot_lite", SHIPPED, crop_size=256)
    assert net.config.crop_size == 256 and net.config.feature_size(4) == 64
    reference = load_model("fcot_lite", SHIPPED)
    for (k, a), b in zip(net.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), k                      # the same weights
    with pytest.raises(CheckpointError, match="label_radius"):
        load_model("fcot_lite", SHIPPED, crop_size=256, reg={"label_radius": 3})
    with pytest.raises(ConfigurationError, match="crop_size"):
        build_tracker(model="fcot_lite", crop_size=250)


def test_maps_at_256_are_the_288_maps_of_the_same_pixels():
    """Fully convolutional: a 256 crop's stride-16 map equals the matching window of a 288 crop's map
    computed on the same image (away from the borders, where padding differs)."""
    net = load_model("fcot_lite", SHIPPED).eval()
    image = torch.rand(1, 3, 288, 288) * 255
    with torch.no_grad():
        big = net.features(image)[0]                     # (1, C, 18, 18)
    small_net = load_model("fcot_lite", SHIPPED, crop_size=256).eval()
    with torch.no_grad():
        small = small_net.features(image[:, :, :256, :256])[0]      # (1, C, 16, 16)
    assert small.shape[-1] == 16
    inner = (slice(None), slice(None), slice(3, 12), slice(3, 12))
    a, b = big[inner], small[inner]
    assert float((a - b).norm() / a.norm()) < 0.05


@pytest.mark.slow
def test_tracker_follows_a_real_target_at_a_smaller_crop(load_sequence):
    seq = load_sequence("otb_Car4")
    tracker = build_tracker(model="fcot_lite", backend="onnxruntime", crop_size=256, search_area_scale=4.0)
    assert tracker.crop_size == 256 and tracker.grid == 64
    tracker.initialize(seq.image(0), tuple(seq.groundtruth[0]))
    ious = [iou(tracker.track(seq.image(i)).box, seq.groundtruth[i]) for i in range(1, 80)]
    assert np.mean(ious) > 0.7, np.mean(ious)           # measured 0.797 (0.771 at 288 / 4.5)


def test_tracker_refuses_a_network_of_another_crop():
    """The crop geometry follows the network: a preset asking for another crop than the network's is
    refused (build the network with crop_settings(params), as build_tracker does)."""
    from fcot_ros.assembly import build_runtime, crop_settings, load_model
    from fcot_ros.errors import ConfigurationError
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    from fcot_ros.tracker.params import get_params
    params = get_params("default")
    assert crop_settings(params) == {"crop_size": 224} and crop_settings(get_params("training_free")) == {}
    net288 = load_model("fcot_lite", None)
    with pytest.raises(ConfigurationError, match="224-pixel crops, the network takes 288"):
        FCOTTracker(net288, build_runtime("torch", net288, "cpu"), params)
    net224 = load_model("fcot_lite", None, **crop_settings(params))
    assert FCOTTracker(net224, build_runtime("torch", net224, "cpu"), params).crop_size == 224
