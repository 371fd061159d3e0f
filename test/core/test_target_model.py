"""Online target-model prediction: closed-form gradients vs autograd, Gauss-Newton step
length vs the exact line minimiser, radial bases vs the explicit bin expansion."""
import math

import pytest
import torch
import torch.nn.functional as F
from reference_filter_ops import conv_per_sequence

from fcot_ros.target_model.classifier_optimizer import ClassifierOptimizer
from fcot_ros.target_model.filter_ops import apply_feat_transpose, apply_filter
from fcot_ros.target_model.radial_basis import bin_memberships, interpolate_bins
from fcot_ros.target_model.regression_optimizer import RegressionOptimizer


def _problem(n=3, s=2, c=5, size=12, stride=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    feat = torch.randn(n, s, c, size, size, generator=g, dtype=torch.float64)
    centre = torch.rand(n, s, 2, generator=g, dtype=torch.float64) * (size * stride * 0.6) + size * stride * 0.2
    wh = torch.rand(n, s, 2, generator=g, dtype=torch.float64) * stride * 3 + stride
    boxes = torch.cat([centre - wh / 2, wh], dim=-1)
    weights = torch.rand(n, s, generator=g, dtype=torch.float64) + 0.1
    return feat, boxes, weights / weights.sum(0, keepdim=True), g


def _randomise_loss_parameters(opt, g):
    """Move y, m, v away from their initial values so that every term of the residual matters."""
    with torch.no_grad():
        for p in (opt.label_map_predictor.weight, opt.target_mask_predictor.weight,
                  opt.spatial_weight_predictor.weight):
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))


@pytest.mark.parametrize("n,nf,k,h,w", [(3, 1, 4, 12, 9), (3, 4, 3, 7, 11), (3, 2, 5, 6, 6), (3, 1, 2, 5, 8),
                                         (3, 1, 1, 4, 3), (19, 1, 4, 9, 9), (17, 4, 3, 8, 6)])
def test_filter_ops_match_grouped_convolution(n, nf, k, h, w):
    """The GEMM + shifted-sum correlation equals a grouped conv2d; its transpose equals the
    autograd gradient of that conv2d w.r.t. the filter (odd and even filter sizes, non-square maps,
    more images than one chunk of the kernels)."""
    g = torch.Generator().manual_seed(k * 10 + nf)
    feat = torch.randn(n, 2, 5, h, w, generator=g, dtype=torch.float64)
    filt = torch.randn(2, nf, 5, k, k, generator=g, dtype=torch.float64, requires_grad=True)
    reference = conv_per_sequence(feat, filt)
    torch.testing.assert_close(apply_filter(feat, filt), reference, rtol=1e-12, atol=1e-12)
    residual = torch.randn(reference.shape, generator=g, dtype=torch.float64)
    (auto,) = torch.autograd.grad((reference * residual).sum(), filt)
    torch.testing.assert_close(apply_feat_transpose(feat, residual, k), auto, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("radius", [0, 2])
def test_regression_windows_equal_the_whole_map(radius):
    """The masked rule on windows around each centre gives the whole map's loss, gradient, step
    length and iterates, including centres at the map border (zero features outside)."""
    feat, boxes, weights, g = _problem(n=4, s=2, size=20, stride=4, seed=13)
    boxes[0, 0, :2] = torch.tensor([-6.0, 70.0], dtype=torch.float64)     # centre cell clamped to the edge
    boxes[1, 1, :2] = torch.tensor([74.0, -2.0], dtype=torch.float64)
    windowed = RegressionOptimizer(feat_stride=4, label_radius=radius).double()
    whole = RegressionOptimizer(feat_stride=4, label_radius=radius, windowed=False).double()
    assert windowed.window_size((20, 20)) == 2 * radius + 3 and whole.window_size((20, 20)) is None
    filt = 0.05 * torch.randn(2, 4, 5, 3, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(windowed.loss(filt, feat, boxes, weights), whole.loss(filt, feat, boxes, weights),
                               rtol=1e-12, atol=1e-12)
    for a, b in zip(windowed.gradient_and_step(filt, feat, boxes, weights),
                    whole.gradient_and_step(filt, feat, boxes, weights)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    final_w = windowed(filt, feat, boxes, weights, num_iter=4).filter
    final_f = whole(filt, feat, boxes, weights, num_iter=4).filter
    torch.testing.assert_close(final_w, final_f, rtol=1e-10, atol=1e-12)
    # a memory that keeps only the windows (cut_windows) gives the same with grid_size
    windows = windowed.cut_windows(feat, boxes)
    assert windows.shape[-2:] == (2 * radius + 3, 2 * radius + 3)
    final_c = windowed(filt, windows, boxes, weights, num_iter=4, grid_size=(20, 20)).filter
    torch.testing.assert_close(final_c, final_f, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(windowed.solve(windows, boxes, weights, grid_size=(20, 20)),
                               whole.solve(feat, boxes, weights), rtol=1e-10, atol=1e-12)
    authors = RegressionOptimizer(feat_stride=4, label_radius=radius, step_rule="authors").double()
    with pytest.raises(ValueError, match="whole maps"):
        authors(filt, windows, boxes, weights, num_iter=1, grid_size=(20, 20))


def test_feat_transpose_is_the_filter_gradient():
    feat, _, _, g = _problem()
    for nf, k in ((1, 4), (4, 3)):
        filt = torch.randn(2, nf, 5, k, k, dtype=torch.float64, generator=g, requires_grad=True)
        out = apply_filter(feat, filt)
        residual = torch.randn(out.shape, dtype=torch.float64, generator=g)
        (auto,) = torch.autograd.grad((out * residual).sum(), filt)
        torch.testing.assert_close(apply_feat_transpose(feat, residual, k), auto, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("use_weights", [False, True])
def test_classifier_gradient_matches_autograd(use_weights):
    feat, boxes, weights, g = _problem()
    opt = ClassifierOptimizer(feat_stride=16).double()
    _randomise_loss_parameters(opt, g)
    sw = weights if use_weights else None
    filt = (0.1 * torch.randn(2, 1, 5, 4, 4, generator=g, dtype=torch.float64)).requires_grad_()
    (auto,) = torch.autograd.grad(opt.loss(filt, feat, boxes, sw).sum(), filt)
    closed, _ = opt.gradient_and_step(filt.detach(), feat, boxes, sw)
    torch.testing.assert_close(closed, auto, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("radius", [0, 2])
def test_regression_gradient_matches_autograd(radius):
    feat, boxes, weights, g = _problem(size=20, stride=4)
    opt = RegressionOptimizer(feat_stride=4, label_radius=radius).double()
    filt = (0.1 * torch.randn(2, 4, 5, 3, 3, generator=g, dtype=torch.float64)).requires_grad_()
    (auto,) = torch.autograd.grad(opt.loss(filt, feat, boxes, weights).sum(), filt)
    closed, _ = opt.gradient_and_step(filt.detach(), feat, boxes, weights)
    torch.testing.assert_close(closed, auto, rtol=1e-9, atol=1e-11)


def _exact_line_minimiser(loss_fn, filt, grad):
    """Minimiser of the quadratic a -> L(f - a g), from three exact evaluations per sequence."""
    l0, l1, l2 = (loss_fn(filt - a * grad) for a in (0.0, 1.0, 2.0))
    curvature = l2 - 2 * l1 + l0          # = 2 * (second-order coefficient)
    slope = l1 - l0 - curvature / 2       # first-order coefficient
    return -slope / curvature


def test_classifier_gauss_newton_step_is_exact_line_minimiser_on_quadratic():
    feat, boxes, weights, g = _problem(seed=3)
    opt = ClassifierOptimizer(feat_stride=16).double()
    with torch.no_grad():  # mask m = sigmoid(40) = 1 everywhere: the residual is linear, L quadratic
        opt.target_mask_predictor.weight.fill_(40.0)
    filt = 0.1 * torch.randn(2, 1, 5, 4, 4, generator=g, dtype=torch.float64)
    grad, alpha = opt.gradient_and_step(filt, feat, boxes, weights)
    exact = _exact_line_minimiser(lambda f: opt.loss(f, feat, boxes, weights), filt, grad)
    torch.testing.assert_close(alpha, exact, rtol=1e-8, atol=0)


def test_regression_step_rules():
    feat, boxes, weights, g = _problem(size=24, stride=4, seed=5)
    filt = 0.05 * torch.randn(2, 4, 5, 3, 3, generator=g, dtype=torch.float64)
    masked = RegressionOptimizer(feat_stride=4, step_rule="masked").double()
    grad, alpha = masked.gradient_and_step(filt, feat, boxes, weights)
    exact = _exact_line_minimiser(lambda f: masked.loss(f, feat, boxes, weights), filt, grad)
    torch.testing.assert_close(alpha, exact, rtol=1e-8, atol=0)
    # the authors' rule puts the whole map into ||J g||^2: far shorter steps (reference section 8)
    authors = RegressionOptimizer(feat_stride=4, step_rule="authors").double()
    _, alpha_authors = authors.gradient_and_step(filt, feat, boxes, weights)
    assert torch.all(alpha_authors < 0.05 * alpha)


def test_steepest_descent_decreases_the_loss():
    feat, boxes, weights, g = _problem(seed=7)
    opt = ClassifierOptimizer(feat_stride=16).double()
    _randomise_loss_parameters(opt, g)
    filt = 0.1 * torch.randn(2, 1, 5, 4, 4, generator=g, dtype=torch.float64)
    result = opt(filt, feat, boxes, weights, num_iter=6, compute_losses=True)
    iterates, losses = result.iterates, result.losses
    assert len(iterates) == 7 and len(losses) == 7
    values = torch.stack(losses)
    assert torch.all(values[-1] < 0.5 * values[0])


def test_optimizer_is_differentiable_through_iterates():
    """Training back-propagates through the iterates into the learned loss parameters and features."""
    feat, boxes, weights, g = _problem(n=2, s=1, c=3, size=8, seed=11)
    feat = feat.requires_grad_()
    opt = ClassifierOptimizer(feat_stride=16).double()
    filt0 = 0.1 * torch.randn(1, 1, 3, 4, 4, generator=g, dtype=torch.float64)
    final = opt(filt0, feat, boxes, weights, num_iter=3).filter
    test_feat = torch.randn(1, 1, 3, 8, 8, generator=g, dtype=torch.float64)
    apply_filter(test_feat, final).pow(2).sum().backward()
    for p in (opt.log_step_length, opt.filter_reg, opt.label_map_predictor.weight,
              opt.target_mask_predictor.weight, opt.spatial_weight_predictor.weight):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
    assert feat.grad.abs().sum() > 0

    def final_filter(step_log):
        return torch.func.functional_call(opt, {"log_step_length": step_log},
                                          (filt0, feat.detach(), boxes, weights), {"num_iter": 2}).filter

    torch.autograd.gradcheck(final_filter, (torch.tensor([math.log(0.9)], dtype=torch.float64,
                                                         requires_grad=True),))


def test_radial_interpolation_equals_explicit_bins():
    g = torch.Generator().manual_seed(2)
    for bins, disp in ((100, 0.1), (20, 0.4)):
        weights = torch.randn(bins, generator=g, dtype=torch.float64)
        dist = torch.rand(500, generator=g, dtype=torch.float64) * bins * disp * 1.3  # beyond the last bin too
        explicit = bin_memberships(dist, bins, disp) @ weights
        torch.testing.assert_close(interpolate_bins(weights, dist, disp), explicit, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("radius", [0, 2])
def test_regression_exact_solve(radius):
    """solve() is the minimiser of the regression loss: the autograd gradient of L vanishes there,
    and it equals a least-squares fit on a design matrix built cell by cell with plain loops."""
    feat, boxes, weights, g = _problem(n=5, s=2, c=3, size=16, stride=4, seed=17)
    boxes[2, 1, :2] = torch.tensor([-5.0, 58.0], dtype=torch.float64)     # centre at the map border
    opt = RegressionOptimizer(feat_stride=4, label_radius=radius, init_filter_reg=0.3).double()
    solution = opt.solve(feat, boxes, weights)
    filt = solution.clone().requires_grad_()
    (grad,) = torch.autograd.grad(opt.loss(filt, feat, boxes, weights).sum(), filt)
    assert grad.abs().max() < 1e-9
    lam = float(opt.reg_weight.detach())
    n, s, c, size = feat.shape[0], feat.shape[1], feat.shape[2], feat.shape[-1]
    padded = F.pad(feat, (1, 1, 1, 1))
    for j in range(s):
        rows, targets = [], []
        for i in range(n):
            x0, y0, bw, bh = (float(v) / 4 for v in boxes[i, j])
            cx = min(max(int(torch.floor(torch.tensor(x0 + bw / 2))), 0), size - 1)
            cy = min(max(int(torch.floor(torch.tensor(y0 + bh / 2))), 0), size - 1)
            root_w = math.sqrt(float(weights[i, j]))
            for row in range(cy - radius, cy + radius + 1):
                for col in range(cx - radius, cx + radius + 1):
                    if not (0 <= row < size and 0 <= col < size):
                        continue
                    rows.append(root_w * padded[i, j, :, row:row + 3, col:col + 3].reshape(-1))
                    targets.append(root_w * torch.tensor([col - x0, x0 + bw - col, row - y0, y0 + bh - row],
                                                         dtype=torch.float64))
        # ridge as an augmented least-squares problem: [X; sqrt(lam) I] f = [y; 0]
        design = torch.cat([torch.stack(rows), math.sqrt(lam) * torch.eye(c * 9, dtype=torch.float64)])
        rhs = torch.cat([torch.stack(targets), torch.zeros(c * 9, 4, dtype=torch.float64)])
        expected = torch.linalg.lstsq(design, rhs).solution.T.reshape(4, c, 3, 3)
        torch.testing.assert_close(solution[j], expected, rtol=1e-8, atol=1e-10)
