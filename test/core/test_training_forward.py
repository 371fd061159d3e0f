"""FCOTModel.forward, DiMP's training forward: per-iterate scores and regression maps of the test
frames, differentiable into every trainable parameter (checked against central finite differences),
and the branches' ``fit`` giving the tracker's filters through the same optimizer code."""
import pytest
import torch

from fcot_ros.models.config import get_config
from fcot_ros.models.fcot_model import FCOTModel

CROP = 64          # a tiny crop: 4x4 stride-16 maps, 16x16 stride-4 maps


def _tiny_model():
    torch.manual_seed(0)
    return FCOTModel(get_config("fcot_lite", crop_size=CROP, hand_init=False), imagenet_backbone=False).double()


def _batch(seed=1, n_train=2, n_test=1, s=2):
    g = torch.Generator().manual_seed(seed)
    train = torch.rand(n_train, s, 3, CROP, CROP, generator=g, dtype=torch.float64) * 255
    test = torch.rand(n_test, s, 3, CROP, CROP, generator=g, dtype=torch.float64) * 255
    centre = 24 + 16 * torch.rand(n_train, s, 2, generator=g, dtype=torch.float64)
    size = 14 + 10 * torch.rand(n_train, s, 2, generator=g, dtype=torch.float64)
    return train, torch.cat([centre - size / 2, size], dim=-1), test


def _objective(out, g):
    """A fixed random linear function of every output (all iterates, all branches)."""
    total = 0.0
    for maps in (out.cls18_scores, out.cls72_scores, out.reg_maps):
        for m in maps:
            total = total + (m * torch.randn(m.shape, generator=g, dtype=m.dtype)).sum()
    return total


def test_forward_shapes_and_iterates():
    net = _tiny_model()
    train, boxes, test = _batch(n_test=3)
    out = net(train, boxes, test, num_iter=3, reg_num_iter=2)
    assert len(out.cls18_scores) == 4 and len(out.cls72_scores) == 4 and len(out.reg_maps) == 3
    assert out.cls18_scores[0].shape == (3, 2, 5, 5) and out.cls72_scores[-1].shape == (3, 2, 17, 17)
    assert out.reg_maps[0].shape == (3, 2, 4, 16, 16) and bool((out.reg_maps[1] >= 0).all())
    only = net(train, boxes, test, num_iter=1, reg_num_iter=0, branches=("cls72",))
    assert not only.cls18_scores and not only.reg_maps and len(only.cls72_scores) == 2
    torch.testing.assert_close(only.cls72_scores[1], net(train, boxes, test, num_iter=1).cls72_scores[1])


@pytest.mark.slow
def test_backprop_reaches_every_parameter_and_matches_finite_differences():
    net = _tiny_model().train()
    train, boxes, test = _batch()

    def objective():
        return _objective(net(train, boxes, test, num_iter=2, reg_num_iter=2), torch.Generator().manual_seed(5))

    objective().backward()
    trainable = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    missing = [n for n, p in trainable if p.grad is None]
    assert not missing, f"no gradient reached {missing}"
    assert all(torch.isfinite(p.grad).all() for _, p in trainable)
    nonzero = sum(bool(p.grad.abs().sum() > 0) for _, p in trainable)
    assert nonzero >= 0.95 * len(trainable), f"{len(trainable) - nonzero} parameters have an all-zero gradient"

    probes = [("cls18.optimizer.log_step_length", (0,)), ("cls72.optimizer.filter_reg", (0,)),
              ("reg.optimizer.log_step_length", (0,)), ("cls72.optimizer.label_map_predictor.weight", (0, 3, 0, 0)),
              ("cls18.optimizer.target_mask_predictor.weight", (0, 12, 0, 0)),
              ("decoder.smooth_72.weight", (1, 2, 1, 1)), ("cls72.head.body.dcn1.weight", (0, 0, 1, 1)),
              ("reg.initializer.merge.weight", (0, 0, 0, 0)), ("reg.head.merge.weight", (3, 5, 0, 0)),
              ("backbone._blocks.3._project_conv.weight", (0, 0, 0, 0))]
    params = dict(net.named_parameters())
    eps = 1e-6
    for name, index in probes:
        p = params[name]
        analytic = float(p.grad[index])
        with torch.no_grad():
            original = float(p[index])
            p[index] = original + eps
            up = float(objective())
            p[index] = original - eps
            down = float(objective())
            p[index] = original
        numeric = (up - down) / (2 * eps)
        assert analytic == pytest.approx(numeric, rel=2e-4, abs=1e-6), (name, analytic, numeric)


def test_branch_fit_is_the_optimizer_the_tracker_uses():
    """fit(keep_iterates=False) under no_grad gives the same filter as the training path's last iterate."""
    net = _tiny_model().eval()
    train, boxes, _ = _batch()
    feats = net.backbone_features(train.flatten(0, 1))
    c16 = net.pyramid(feats)[0]
    f = net.cls18.features(c16, 2, 2)
    trained = net.cls18.fit(f, boxes, num_iter=3, keep_iterates=True)
    with torch.no_grad():
        tracked = net.cls18.fit(f, boxes, num_iter=3)
    assert len(trained.iterates) == 4 and not tracked.iterates
    torch.testing.assert_close(tracked.filter, trained.filter.detach(), rtol=0, atol=0)
