"""Rank-r separable 3x3 layers (fcot_ros.models.separable) and the separable fcot_lite
(models.separable_conversion): each checked against an independent computation (plain F.conv2d with
the full kernel, the kernel read back from impulse responses, the SVD's own singular values, the
full network's maps on real crops)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fcot_ros.assembly import load_model
from fcot_ros.assembly.registry import FULL_WEIGHTS, WEIGHTS_DIR
from fcot_ros.checkpoints import save_model
from fcot_ros.errors import CheckpointError, ConfigurationError
from fcot_ros.models.config import get_config
from fcot_ros.models.fcot_model import FCOTModel
from fcot_ros.models.heads import ConvGNDCNStack
from fcot_ros.models.separable import SeparableConv2d, effective_kernel, factorize_, truncated_factors
from fcot_ros.models.separable_conversion import to_separable
from fcot_ros.ops.deform_conv import ModulatedDeformConv2d
from fcot_ros.tracker.crop import extract_crop


def _kernel_from_impulses(layer, cin, cout):
    """The 3x3 kernel a linear same-size layer applies, read off its responses to unit impulses
    (independent of how the layer stores its factors): (Cout, Cin, 3, 3)."""
    kernel = torch.zeros(cout, cin, 3, 3, dtype=torch.float64)
    bias = layer(torch.zeros(1, cin, 5, 5, dtype=torch.float64))[0, :, 2, 2]
    for i in range(cin):
        x = torch.zeros(1, cin, 5, 5, dtype=torch.float64)
        x[0, i, 2, 2] = 1.0
        y = layer(x)[0] - bias.view(cout, 1, 1)
        # output (o, 2 + 1 - a, 2 + 1 - b) sees the impulse through tap (a, b) (cross-correlation)
        kernel[:, i] = torch.flip(y[:, 1:4, 1:4], dims=(-2, -1))
    return kernel


@pytest.mark.parametrize("rank", [1, 2, 3, 9])
def test_factorization_error_is_the_svd_tail_and_exact_at_rank_9(rank):
    gen = torch.Generator().manual_seed(rank)
    cin, cout = 6, 5
    weight = torch.randn(cout, cin, 3, 3, generator=gen, dtype=torch.float64)
    bias = torch.randn(cout, generator=gen, dtype=torch.float64)
    layer = SeparableConv2d(cin, cout, rank).double()
    error = factorize_(layer, weight, bias)
    with torch.no_grad():
        kernel = _kernel_from_impulses(layer, cin, cout)
    measured = float((kernel - weight).norm() / weight.norm())
    # Eckart-Young: the best rank-r error of each W[:, i] (Cout x 9) is its singular-value tail
    s = torch.stack([torch.linalg.svdvals(weight[:, i].reshape(cout, 9)) for i in range(cin)])
    tail = float(torch.sqrt((s[:, rank:] ** 2).sum() / (s ** 2).sum()))
    assert error == pytest.approx(tail, rel=1e-9, abs=1e-12)
    assert measured == pytest.approx(tail, rel=1e-6, abs=1e-9)
    x = torch.randn(2, cin, 11, 9, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        ours = layer(x)
    reference = F.conv2d(x, kernel, bias, padding=1)
    assert torch.allclose(ours, reference, atol=1e-10)
    if rank == 9:
        assert error < 1e-12
        assert torch.allclose(ours, F.conv2d(x, weight, bias, padding=1), atol=1e-10)


def test_errors_fall_with_the_rank_and_the_factors_have_the_documented_layout():
    weight = torch.randn(12, 3, 3, 3, generator=torch.Generator().manual_seed(0))   # Cout >= 9: full rank 9
    errors = [truncated_factors(weight, r)[2] for r in range(1, 10)]
    assert all(a > b for a, b in zip(errors[:-1], errors[1:]))
    depth, point, _ = truncated_factors(weight, 2)
    assert depth.shape == (6, 1, 3, 3) and point.shape == (12, 6, 1, 1)
    with pytest.raises(ValueError, match="3x3"):
        truncated_factors(torch.zeros(4, 3, 1, 1), 1)
    with pytest.raises(ValueError, match="rank"):
        SeparableConv2d(3, 4, 10)


def test_rigid_dcn_kernel_is_its_forward():
    gen = torch.Generator().manual_seed(1)
    dcn = ModulatedDeformConv2d(5, 4, 3, padding=1, deformable=False)
    with torch.no_grad():
        dcn.weight.copy_(torch.randn(dcn.weight.shape, generator=gen))
        dcn.bias.copy_(torch.randn(4, generator=gen))
    weight, bias = effective_kernel(dcn)
    x = torch.randn(1, 5, 8, 8, generator=gen)
    with torch.no_grad():
        assert torch.allclose(F.conv2d(x, weight, bias, padding=1), dcn(x), atol=1e-6)
    with pytest.raises(ValueError, match="rigid"):
        effective_kernel(ModulatedDeformConv2d(5, 4, 3, padding=1, deformable=True))


def test_hand_initialised_separable_stack_computes_the_full_stacks_map():
    torch.manual_seed(0)
    full = ConvGNDCNStack(8, 8, 8, 4, conv_bias=True, final_relu=True, deformable=False)
    sep = ConvGNDCNStack(8, 8, 8, 4, conv_bias=True, final_relu=True, deformable=False, separable_rank=1)
    full.hand_init_()
    sep.hand_init_()
    x = torch.randn(2, 8, 10, 10)
    with torch.no_grad():
        assert torch.allclose(full(x), sep(x), atol=1e-5)
    with pytest.raises(ValueError, match="deformable"):
        ConvGNDCNStack(8, 8, 8, 4, conv_bias=True, final_relu=True, deformable=True, separable_rank=1)


def test_config_refuses_bad_ranks():
    with pytest.raises(ConfigurationError, match="separable_rank"):
        get_config("fcot_lite", separable_rank=10)
    with pytest.raises(ConfigurationError, match="deformable"):
        get_config("fcot_lite", separable_rank=1, deformable=True)


@pytest.fixture(scope="module")
def full_net():
    return load_model("fcot_lite", str(WEIGHTS_DIR / FULL_WEIGHTS), crop_size=224)


@pytest.fixture(scope="module")
def real_crops(load_sequence):
    """(4, 3, 224, 224) float BGR crops around the target of two shared sequences, as the tracker cuts them."""
    crops = []
    for name in ("otb_Car4", "vot_book"):
        seq = load_sequence(name)
        for k in (0, 20):
            x, y, w, h = seq.groundtruth[k]
            crop = extract_crop(seq.image(k), (x + w / 2, y + h / 2), 3.5 * np.sqrt(w * h) / 224, 224)
            crops.append(torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float())
    return torch.stack(crops)


def test_rank_9_network_gives_the_full_networks_maps(full_net, real_crops):
    sep, errors = to_separable(full_net, 9)
    assert max(errors.values()) < 1e-5
    assert len(errors) == 1 + 3 + 3 + 3          # smooth_72, cls72 body, both regression heads
    with torch.no_grad():
        for a, b in zip(sep.features(real_crops), full_net.features(real_crops)):
            assert float((a - b).norm() / b.norm()) < 1e-4


def test_separable_file_round_trips_and_refuses_another_rank(full_net, real_crops, tmp_path):
    sep, _ = to_separable(full_net, 2)
    path = tmp_path / "sep.pt"
    save_model(path, sep, omit_prefixes=("backbone.",))
    loaded = load_model("fcot_lite", path, crop_size=224)
    assert loaded.config.separable_rank == 2
    with torch.no_grad():
        for a, b in zip(loaded.features(real_crops), sep.features(real_crops)):
            assert torch.equal(a, b)
    with pytest.raises(CheckpointError, match="separable_rank"):
        load_model("fcot_lite", path, separable_rank=0)
    with pytest.raises(ValueError, match="already separable"):
        to_separable(loaded, 1)


def test_built_separable_model_has_fewer_multiply_adds():
    from fcot_ros.tools.network_cost import flops_per_module
    full = FCOTModel(get_config("fcot_lite", crop_size=224), imagenet_backbone=False)
    sep = FCOTModel(get_config("fcot_lite", crop_size=224, separable_rank=1), imagenet_backbone=False)
    f, s = flops_per_module(full.features, 224), flops_per_module(sep.features, 224)
    # per 3x3 layer 64 -> 64: 9*64*64 = 36,864 multiply-adds per pixel, rank 1: 9*64 + 64*64 = 4,672
    assert s["cls72_head.body"] == pytest.approx(f["cls72_head.body"] * 4672 / 36864, rel=0.02)
    assert s["backbone"] == pytest.approx(f["backbone"], rel=1e-9)
