"""Tests for DSiam's layers (fcot_ros.ops.circulant, fcot_ros.ops.elefusion).

References are independent of the ops: a loop over circular shifts, dense circulant matrices with
``torch.linalg.solve`` (and autograd through them), and finite differences (gradcheck). The last
group evaluates the supplement's printed gradient equations literally and records which hold.
"""
import math

import pytest
import torch

from fcot_ros.ops import circ_conv, elefusion, fusion_weights, rlr

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed=0, dtype=F64, grad=False):
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype).requires_grad_(grad)


def _rel(a, b):
    return float((a - b).norm() / b.norm())


def _shift_loop(r, x):
    """y = sum_{m,n} r[..., m, n] * x shifted by (m, n): the definition, one shift at a time."""
    h, w = x.shape[-2:]
    y = 0
    for m in range(h):
        for n in range(w):
            y = y + r[..., m, n, None, None] * torch.roll(x, shifts=(m, n), dims=(-2, -1))
    return y


def _conv_matrix(x):
    """(..., H, W) -> (..., N, N) matrix M with M @ vec(r) = vec(circ_conv(r, x)), N = H * W."""
    h, w = x.shape[-2:]
    i = torch.arange(h).view(h, 1, 1, 1)
    j = torch.arange(w).view(1, w, 1, 1)
    m = torch.arange(h).view(1, 1, h, 1)
    n = torch.arange(w).view(1, 1, 1, w)
    rows = ((i - m) % h).expand(h, w, h, w).reshape(h * w, h * w)
    cols = ((j - n) % w).expand(h, w, h, w).reshape(h * w, h * w)
    return x[..., rows, cols]


def _dense_conv(r, x):
    """circ_conv through an explicit circulant matrix (autograd-differentiable reference)."""
    flat = (_conv_matrix(x) @ r.reshape(*r.shape[:-2], -1, 1)).squeeze(-1)
    return flat.reshape(*flat.shape[:-1], *x.shape[-2:])


def _dense_rlr(x, y, lam):
    """Solve the normal equations (C^T C + lam I) r = C^T y with C = _conv_matrix(x)."""
    c = _conv_matrix(x)
    n = c.shape[-1]
    lam = torch.as_tensor(lam, dtype=x.dtype)
    a = c.transpose(-1, -2) @ c + lam[..., None, None] * torch.eye(n, dtype=x.dtype)
    rhs = c.transpose(-1, -2) @ y.reshape(*y.shape[:-2], n, 1)
    return torch.linalg.solve(a, rhs).squeeze(-1).reshape(x.shape)


def _grads(fn, inputs, upstream):
    out = fn(*inputs)
    return torch.autograd.grad((out * upstream).sum(), inputs)


# ----------------------------------------------------------------------------------------- forward

@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_circ_conv_matches_shift_loop_with_broadcast_leading_dims(dtype):
    r = _randn(3, 5, 7, seed=1, dtype=dtype)
    x = _randn(2, 3, 5, 7, seed=2, dtype=dtype)
    y = circ_conv(r, x)
    assert y.shape == (2, 3, 5, 7) and y.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(y, _shift_loop(r, x), rtol=tol, atol=tol)
    torch.testing.assert_close(circ_conv(x, r), y, rtol=tol, atol=tol)   # convolution commutes
    delta = torch.zeros(5, 7, dtype=dtype)
    delta[0, 0] = 1
    torch.testing.assert_close(circ_conv(delta, x), x, rtol=tol, atol=tol)


def test_circ_conv_matches_dense_circulant_matrix():
    r, x = _randn(4, 6, seed=3), _randn(2, 4, 6, seed=4)
    torch.testing.assert_close(circ_conv(r, x), _dense_conv(r, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lam_shape", [(), (3,), (2, 1), (2, 3)])
def test_rlr_matches_dense_normal_equations(lam_shape):
    x, y = _randn(2, 3, 4, 6, seed=5), _randn(2, 3, 4, 6, seed=6)
    lam = 0.05 + torch.rand(lam_shape, generator=_gen(7), dtype=F64)
    r = rlr(x, y, lam)
    assert r.shape == x.shape
    torch.testing.assert_close(r, _dense_rlr(x, y, lam), rtol=1e-10, atol=1e-12)


def test_rlr_accepts_a_python_float_and_float32():
    x, y = _randn(3, 5, 5, seed=8), _randn(3, 5, 5, seed=9)
    ref = _dense_rlr(x, y, 0.2)
    torch.testing.assert_close(rlr(x, y, 0.2), ref, rtol=1e-10, atol=1e-12)
    r32 = rlr(x.float(), y.float(), torch.tensor(0.2))
    assert r32.dtype == torch.float32
    torch.testing.assert_close(r32.double(), ref, rtol=1e-4, atol=1e-5)


def test_rlr_inverts_circ_conv_when_lam_is_tiny():
    x, y = _randn(3, 8, 8, seed=10), _randn(3, 8, 8, seed=11)
    assert float(torch.fft.fft2(x).abs().min()) > 0.05          # x^ has no zeros: r * x = y is solvable
    r = rlr(x, y, 1e-12)
    torch.testing.assert_close(circ_conv(r, x), y, rtol=1e-7, atol=1e-7)
    r0 = _randn(3, 8, 8, seed=12)
    torch.testing.assert_close(rlr(x, circ_conv(r0, x), 1e-12), r0, rtol=1e-7, atol=1e-7)


def test_rlr_minimises_its_objective():
    x, y, lam = _randn(4, 5, seed=13), _randn(4, 5, seed=14), 0.3
    r = rlr(x, y, lam)

    def objective(t):
        return float((circ_conv(t, x) - y).square().sum() + lam * t.square().sum())

    best = objective(r)
    for k in range(20):
        assert objective(r + 1e-3 * _randn(4, 5, seed=100 + k)) > best


# ---------------------------------------------------------------------------------------- backward

def test_circ_conv_backward_matches_autograd_references():
    r, x = _randn(3, 8, 8, seed=15, grad=True), _randn(2, 3, 8, 8, seed=16, grad=True)
    g = _randn(2, 3, 8, 8, seed=17)
    ours = _grads(circ_conv, (r, x), g)
    dense = _grads(_dense_conv, (r, x), g)
    fft = _grads(lambda a, b: torch.fft.irfft2(torch.fft.rfft2(a) * torch.fft.rfft2(b), s=(8, 8)), (r, x), g)
    for got, want, want2 in zip(ours, dense, fft):
        assert got.shape == want.shape
        assert _rel(got, want) < 1e-6 and _rel(got, want2) < 1e-6


@pytest.mark.parametrize("shape, lam_shape", [((2, 3, 8, 8), (3,)), ((2, 3, 5, 6), ()), ((2, 3, 4, 7), (2, 1))])
def test_rlr_backward_matches_autograd_through_dense_solve(shape, lam_shape):
    x, y = _randn(*shape, seed=18, grad=True), _randn(*shape, seed=19, grad=True)
    lam = (0.1 + torch.rand(lam_shape, generator=_gen(20), dtype=F64)).requires_grad_()
    g = _randn(*shape, seed=21)
    ours = _grads(rlr, (x, y, lam), g)
    ref = _grads(_dense_rlr, (x, y, lam), g)
    for name, got, want in zip("x y lam".split(), ours, ref):
        assert got.shape == want.shape, name
        assert _rel(got, want) < 1e-6, name


def test_gradcheck_finite_differences():
    r, x = _randn(2, 1, 4, 5, seed=22, grad=True), _randn(3, 4, 5, seed=23, grad=True)
    assert torch.autograd.gradcheck(circ_conv, (r, x))
    assert torch.autograd.gradgradcheck(circ_conv, (r, x))              # the closed forms are differentiable too
    for h, w in ((4, 5), (3, 6)):                                    # odd and even last dim (Nyquist column)
        x, y = _randn(2, 3, h, w, seed=24, grad=True), _randn(2, 3, h, w, seed=25, grad=True)
        lam = torch.tensor([0.2, 0.7, 1.5], dtype=F64, requires_grad=True)
        assert torch.autograd.gradcheck(rlr, (x, y, lam))
    assert torch.autograd.gradgradcheck(rlr, (x, y, lam))
    scores = _randn(3, 2, 4, 4, seed=26, grad=True)
    weights = fusion_weights(_randn(3, 1, 4, 4, seed=27)).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda s, w: elefusion(s, w, atol=1e-3), (scores, weights))


def test_float32_gradients_match_float64():
    x, y, g = _randn(2, 6, 6, seed=28), _randn(2, 6, 6, seed=29), _randn(2, 6, 6, seed=30)
    lam = torch.tensor([0.5, 1.0], dtype=F64)
    ref = _grads(rlr, (x.requires_grad_(), y.requires_grad_(), lam.requires_grad_()), g)
    inputs32 = [t.detach().float().requires_grad_() for t in (x, y, lam)]
    for got, want in zip(_grads(rlr, inputs32, g.float()), ref):
        assert got.dtype == torch.float32 and _rel(got.double(), want) < 1e-4


# --------------------------------------------------------------------------------------- elefusion

@pytest.mark.parametrize("w_shape", [(3, 1, 1, 1), (3, 1, 5, 6), (3, 2, 5, 6)])
def test_elefusion_forward_and_backward_match_plain_expression(w_shape):
    scores = _randn(3, 2, 5, 6, seed=31, grad=True)
    logits = _randn(*w_shape, seed=32, grad=True)
    weights = fusion_weights(logits)
    torch.testing.assert_close(weights.sum(0), torch.ones(w_shape[1:], dtype=F64))
    g = _randn(2, 5, 6, seed=33)
    out = elefusion(scores, weights)
    ref = (weights * scores).sum(0)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    ours = torch.autograd.grad((out * g).sum(), (scores, weights, logits), retain_graph=True)
    plain = torch.autograd.grad((ref * g).sum(), (scores, weights, logits))
    for got, want in zip(ours, plain):
        assert got.shape == want.shape and _rel(got, want) < 1e-12
    torch.testing.assert_close(ours[0], weights.detach() * g)                     # eq. 27
    eq28 = scores.detach() * g                                                    # eq. 28, summed where broadcast
    for d in range(1, 4):
        if w_shape[d] == 1:
            eq28 = eq28.sum(dim=d, keepdim=True)
    torch.testing.assert_close(ours[1], eq28)


def test_fusion_weights_equal_logits_give_uniform_weights():
    torch.testing.assert_close(fusion_weights(torch.zeros(4, 1)), torch.full((4, 1), 0.25))


@pytest.mark.parametrize("weights, match", [
    (torch.full((2, 1, 1, 1), 0.6), "sum to 1"),
    (torch.tensor([[[[1.0]]], [[[float("nan")]]]]), "sum to 1"),
    (torch.full((3, 1, 1, 1), 0.5), "must be"),
    (torch.full((2, 1, 1), 0.5), "must be"),
    (torch.full((2, 1, 1, 1), 1, dtype=torch.int64), "floating"),
    (torch.full((2, 1, 1, 1), 0.5, dtype=F64), "dtype"),
])
def test_elefusion_rejects_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        elefusion(torch.zeros(2, 3, 4, 4), weights)


# -------------------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("r, x, match", [
    (torch.zeros(4, 4, dtype=torch.int64), torch.zeros(4, 4), "floating"),
    (torch.zeros(4, 4, dtype=torch.complex64), torch.zeros(4, 4), "floating"),
    (torch.zeros(4), torch.zeros(4, 4), "at least 2 dims"),
    (torch.zeros(4, 5), torch.zeros(4, 4), "same \\(H, W\\)"),
    (torch.zeros(2, 4, 4), torch.zeros(3, 4, 4), "do not broadcast"),
    (torch.zeros(4, 4, dtype=F64), torch.zeros(4, 4), "dtype"),
    ([[0.0]], torch.zeros(4, 4), "torch.Tensor"),
])
def test_circ_conv_rejects_bad_inputs(r, x, match):
    with pytest.raises(ValueError, match=match):
        circ_conv(r, x)


@pytest.mark.parametrize("x, y, lam, match", [
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), 0.0, "positive and finite"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.tensor([1.0, -1.0, 1.0]), "positive and finite"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), float("inf"), "positive and finite"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.tensor(float("nan")), "positive and finite"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.ones(3, 1, 1), "leading dims"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.ones(2), "leading dims"),
    (torch.zeros(1, 4, 4), torch.zeros(1, 4, 4), torch.ones(3), "leading dims"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.ones(3, dtype=torch.int64), "lam must be"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), True, "lam must be"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 5), 1.0, "same shape"),
    (torch.zeros(3, 4, 4), torch.zeros(3, 4, 4, dtype=F64), 1.0, "dtype"),
    (torch.zeros(3, 4, 4, dtype=torch.int32), torch.zeros(3, 4, 4), 1.0, "floating"),
])
def test_rlr_rejects_bad_inputs(x, y, lam, match):
    with pytest.raises(ValueError, match=match):
        rlr(x, y, lam)


# ----------------------------------------------------- the supplement's printed equations, literally
# Notation of the supplement: X^ = fft2(X) (unnormalised), F the unitary DFT matrix (F(R) = sqrt(n) F R),
# C(R) = the matrix whose rows are shifts of R with Y = C(X)^T R (eq. 5). g = dL/dY (or dL/dR for RLR).

H, W = 4, 5


def _unitary_dft():
    def one(n):
        k = torch.arange(n, dtype=F64)
        return torch.exp(-2j * math.pi * torch.outer(k, k) / n)
    return torch.kron(one(H), one(W)) / math.sqrt(H * W)


def _vec(t):
    return t.reshape(-1).to(torch.complex128)


def _unvec(v):
    return v.reshape(H, W)


def _ifft(spec):
    return torch.fft.ifft2(spec).real


def _ref_conv_grads(r, x, g):
    """dL/dr, dL/dx of L = <g, r * x> by autograd through the dense matrix."""
    r, x = r.clone().requires_grad_(), x.clone().requires_grad_()
    return _grads(_dense_conv, (r, x), g)


def test_supplement_eqs_8_and_9_hold():
    r, x, g = _randn(H, W, seed=40), _randn(H, W, seed=41), _randn(H, W, seed=42)
    f = _unitary_dft()
    c_r = _conv_matrix(r).T.to(torch.complex128)                       # rows are shifts of R (eq. 5)
    torch.testing.assert_close(c_r, f @ torch.diag(_vec(torch.fft.fft2(r))) @ f.conj().T)        # eq. 8
    _, grad_x = _ref_conv_grads(r, x, g)
    lhs = f.conj().T @ _vec(grad_x)
    torch.testing.assert_close(lhs, _vec(torch.fft.fft2(r)) * (f.conj().T @ _vec(g)))           # eq. 9


def test_supplement_eqs_12_to_14_need_conjugates():
    r, x, g = _randn(H, W, seed=43), _randn(H, W, seed=44), _randn(H, W, seed=45)
    r_hat, x_hat, g_hat = torch.fft.fft2(r), torch.fft.fft2(x), torch.fft.fft2(g)
    grad_r, grad_x = _ref_conv_grads(r, x, g)
    assert _rel(_ifft(r_hat * g_hat), grad_x) > 0.1                    # eqs. 12-13 as printed: wrong
    assert _rel(_ifft(r_hat.conj() * g_hat), grad_x) < 1e-12           # ... right with R^ conjugated
    assert _rel(_ifft(x_hat * g_hat), grad_r) > 0.1                    # eq. 14, first line: wrong
    assert _rel(_ifft(x_hat.conj() * g_hat), grad_r) < 1e-12           # ... right with X^ conjugated
    assert _rel(g, grad_r) > 0.1                                       # eq. 14, second line: wrong
    # eq. 12 holds literally if '*' is circular cross-correlation, y^ = r^* x^
    xr, xx = r.clone().requires_grad_(), x.clone().requires_grad_()
    corr = _ifft(torch.fft.fft2(xr).conj() * torch.fft.fft2(xx))
    grad_x_corr, = torch.autograd.grad((corr * g).sum(), xx)
    assert _rel(_ifft(r_hat * g_hat), grad_x_corr) < 1e-12


def _ref_rlr_grads(x, y, lam, g):
    x, y = x.clone().requires_grad_(), y.clone().requires_grad_()
    lam = torch.tensor(lam, dtype=F64, requires_grad=True)
    return _grads(_dense_rlr, (x, y, lam), g)


def test_supplement_eq_15_holds_with_the_system_matrix_not_eq_5s_c():
    x, y, lam = _randn(H, W, seed=46), _randn(H, W, seed=47), 0.3
    eq17 = _ifft(torch.fft.fft2(x).conj() * torch.fft.fft2(y) / (torch.fft.fft2(x).abs().square() + lam))
    for c, holds in ((_conv_matrix(x), True), (_conv_matrix(x).T, False)):   # R -> R * X, and eq. 5's C(X)
        eq15 = torch.linalg.solve(c.T @ c + lam * torch.eye(H * W, dtype=F64), c.T @ y.reshape(-1))
        assert (_rel(eq15.reshape(H, W), eq17) < 1e-10) == holds
    x_hat, y_hat = torch.fft.fft2(x), torch.fft.fft2(y)
    assert _rel(eq15.reshape(H, W), _ifft(x_hat * y_hat / (x_hat.abs().square() + lam))) < 1e-10   # eq. 5's C(X)
    assert _rel(rlr(x, y, lam), eq17) < 1e-12


def test_supplement_eqs_19_20_are_not_the_whole_wirtinger_derivative():
    # one frequency: R^ = (a - ib) Y^ / (a^2 + b^2 + lam), central differences in a and b
    a, b, y_hat, lam, eps = 0.7, -0.4, complex(0.3, 1.1), 0.5, 1e-6
    x_hat = complex(a, b)

    def r_hat(aa, bb):
        return complex(aa, -bb) * y_hat / (aa * aa + bb * bb + lam)

    d_a = (r_hat(a + eps, b) - r_hat(a - eps, b)) / (2 * eps)
    d_b = (r_hat(a, b + eps) - r_hat(a, b - eps)) / (2 * eps)
    den = a * a + b * b + lam
    assert abs(d_a - (-2 * a * complex(a, -b) * y_hat / den ** 2 + y_hat / den)) < 1e-8         # eq. 19
    assert abs(d_b - (-2 * b * complex(a, -b) * y_hat / den ** 2 - 1j * y_hat / den)) < 1e-8    # eq. 19
    eq20 = -2 * x_hat.conjugate() ** 2 * y_hat / den ** 2
    assert abs((d_a - 1j * d_b) - eq20) < 1e-8                          # eq. 20 = 2 dR^/dX^ (Wirtinger)
    wirtinger_conj = (d_a + 1j * d_b) / 2                               # dR^/d(X^*): dropped by eq. 16
    assert abs(wirtinger_conj - lam * y_hat / den ** 2) < 1e-8 and abs(wirtinger_conj) > 0.1


def test_supplement_eq_21_disagrees_with_autograd_and_the_corrected_form_agrees():
    x, y, g, lam = _randn(H, W, seed=48), _randn(H, W, seed=49), _randn(H, W, seed=50), 0.4
    grad_x, _, _ = _ref_rlr_grads(x, y, lam, g)
    x_hat, y_hat = _vec(torch.fft.fft2(x)), _vec(torch.fft.fft2(y))
    u = 1 / (x_hat.abs().square() + lam)
    f = _unitary_dft()
    for ff in (f, f.conj()):                                            # either sign convention of the DFT
        eq21 = ff @ torch.diag(-2 * u ** 2 * x_hat.conj() ** 2 * y_hat) @ ff.conj().T @ _vec(g)
        assert _rel(_unvec(eq21.real), grad_x) > 0.1
    a = -u ** 2 * x_hat.conj() ** 2 * y_hat                             # dR^/dX^
    b = lam * u ** 2 * y_hat                                            # dR^/d(X^*)
    fixed = f @ torch.diag(a) @ f.conj().T @ _vec(g) + f @ torch.diag(b.conj()) @ f @ _vec(g)
    assert float(fixed.imag.abs().max()) < 1e-12
    assert _rel(_unvec(fixed.real), grad_x) < 1e-12


def test_supplement_eqs_22_to_26():
    x, y, g, lam = _randn(H, W, seed=51), _randn(H, W, seed=52), _randn(H, W, seed=53), 0.4
    _, grad_y, grad_lam = _ref_rlr_grads(x, y, lam, g)
    c = _conv_matrix(x)                                                 # the system matrix (see eq. 15 test)
    a = c.T @ c + lam * torch.eye(H * W, dtype=F64)
    eq22 = torch.linalg.solve(a, c.T).T @ g.reshape(-1)
    assert _rel(eq22.reshape(H, W), grad_y) < 1e-10                     # eq. 22 holds
    x_hat, y_hat, g_hat = torch.fft.fft2(x), torch.fft.fft2(y), torch.fft.fft2(g)
    u = 1 / (x_hat.abs().square() + lam)
    assert _rel(_ifft(u * x_hat.conj() * g_hat), grad_y) > 0.1         # eq. 23 as printed: wrong
    assert _rel(_ifft(u * x_hat * g_hat), grad_y) < 1e-12              # ... right with X^ unconjugated
    r = rlr(x, y, lam).reshape(-1)
    eq25a = -torch.linalg.solve(a, r)
    eq25b = -torch.linalg.solve(a, torch.linalg.solve(a, c.T @ y.reshape(-1)))
    torch.testing.assert_close(eq25a, eq25b)
    assert abs(float(eq25a @ g.reshape(-1)) - float(grad_lam)) < 1e-10 * abs(float(grad_lam))   # eq. 25
    eq26 = (_ifft(-u ** 2 * x_hat.conj() * y_hat) * g).sum()
    assert abs(float(eq26) - float(grad_lam)) < 1e-10 * abs(float(grad_lam))                     # eq. 26
