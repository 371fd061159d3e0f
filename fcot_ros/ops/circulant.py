"""DSiam's circulant layers: CirConv (circular convolution) and RLR (regularised linear regression).

Dynamic Siamese tracking (Guo et al., ICCV 2017) learns its transforms ``V`` and ``W`` with the RLR
layer and applies them with the CirConv layer (supplement, section 1.2, eqs. 2-3), per channel:

* ``circ_conv(r, x)``: ``y[..., i, j] = sum_{m,n} r[..., m, n] * x[..., (i-m) mod H, (j-n) mod W]``;
* ``rlr(x, y, lam)``: ``r = argmin_r ||circ_conv(r, x) - y||^2 + lam ||r||^2``.

Conventions: ``^`` is the unnormalised 2-D DFT over the last two dims (``torch.fft.fft2``), ``*``
complex conjugation, ``N = H * W``. Then ``circ_conv`` is ``y^ = r^ x^`` and, by Parseval, the RLR
solution is ``r^ = x^* y^ / D`` with ``D = |x^|^2 + lam`` (eq. 17, which the tests confirm against
the dense normal equations ``(C^T C + lam I) r = C^T y``, eq. 15). Both are computed with
``rfft2``/``irfft2``; the leading dims (batch, channels, ...) are independent problems.

Both layers are ``torch.autograd.Function``s whose backward is a closed form in the Fourier domain
(not autograd through the FFT). With ``g`` the incoming gradient and ``g^`` its DFT:

* CirConv: ``(dL/dx)^ = r^* g^`` and ``(dL/dr)^ = x^* g^`` (the adjoint of multiplying a spectrum
  by ``h`` is multiplying by ``h*``).
* RLR, ``y``: ``(dL/dy)^ = x^ g^ / D``.
* RLR, ``lam``: ``dL/dlam = <g, dr/dlam>`` with ``(dr/dlam)^ = -r^ / D = -x^* y^ / D^2``, summed
  over the spatial dims (and over the leading dims ``lam`` is broadcast along).
* RLR, ``x``: ``r^`` is not holomorphic in ``x^``. Its Wirtinger derivatives are
  ``A = dr^/dx^ = -(x^*)^2 y^ / D^2`` and ``B = dr^/d(x^*) = lam y^ / D^2``, and for real ``x``
  ``(dL/dx)^ = A* g^ + B g^*``.

How these relate to the supplement's printed equations (each fact is checked in
``test/core/test_dsiam_ops.py``; ``F`` there is the unitary DFT matrix, ``F x = x^ / sqrt(N)``):

* Eqs. 5-9 hold, with ``C(R)`` the transpose of the convolution matrix (rows are shifts of ``R``):
  ``C(R) = F diag(R^) F^H`` (eq. 8) and ``F^H dL/dx = diag(R^) F^H dL/dy`` (eq. 9).
* Eq. 10 drops a conjugate: the Hermitian transpose of ``diag(R^) F^H g`` is ``g^H F diag(R^*)``.
  Hence eqs. 11-12 (``dL/dx^ = R^ g^``) and the first line of eq. 14 (``dL/dr^ = X^ g^``) are
  wrong with the DFT of eq. 8; they hold when ``R^``, ``X^`` are conjugated (equivalently, when the
  gradients' "Fourier form" is the conjugate DFT ``F^H`` of eq. 9). Eq. 12 also holds literally if
  ``*`` were circular cross-correlation (``y^ = r^* x^``). Eq. 13 misses a hat
  (``dL/dx = F^-1(dL/dx^)``). The second line of eq. 14, ``dL/dr = F^-1(g^) = g``, drops the
  factor ``X^`` (it does not depend on ``x`` at all) and is wrong.
* Eq. 15 holds when ``C(X)`` is the system matrix of ``R -> R * X`` (``C(X) R = Y``); with eq. 5's
  ``C(X)`` (its transpose) it yields ``x^ y^ / D``, a different (cross-correlation) solution. With the
  system matrix, eqs. 22 and 25 hold; eqs. 17 and 26 hold as printed.
* Eq. 23 (``dL/dy^ = U X^* g^``, ``U = 1/D``) has the same conjugation slip as eq. 12: with the DFT,
  the factor is ``X^``, not ``X^*``.
* Eq. 19 is right; eq. 20's ``dR^/dX^ = dR^/da - i dR^/db = -2 (X^*)^2 Y^ U^2`` is twice the Wirtinger
  derivative ``A``, and the chain rule of eq. 16 ignores ``B``. So eq. 21,
  ``dL/dx = F diag(-2 U^2 (X^*)^2 Y^) F^H g``, disagrees with autograd; the correct form is
  ``dL/dx = F diag(A) F^H g + F diag(B^*) F g`` (half of eq. 21's diagonal, plus the missing term).

Inputs must be real floating tensors (float32 or float64), ``dim >= 2``; tested on CPU (no device-specific code).
The backward uses differentiable ops only, so double backward works too (gradgradcheck passes).
"""
import numbers

import torch

__all__ = ["circ_conv", "rlr"]


def _sum_to(grad, shape):
    """Sum ``grad`` over the dims that broadcasting added to or expanded from ``shape``."""
    shape = tuple(shape)
    extra = grad.dim() - len(shape)
    if extra > 0:
        grad = grad.sum(dim=tuple(range(extra)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    return grad


def _check_real(name, t):
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a real floating tensor (float32/float64), got {t.dtype}")
    if t.dim() < 2:
        raise ValueError(f"{name} must have at least 2 dims (..., H, W), got shape {tuple(t.shape)}")


class _CircConv(torch.autograd.Function):
    """CirConv layer: forward ``y^ = r^ x^``, backward eqs. 12/14 with the conjugates put right."""

    @staticmethod
    def forward(ctx, r, x):
        size = x.shape[-2:]
        ctx.save_for_backward(r, x)
        return torch.fft.irfft2(torch.fft.rfft2(r) * torch.fft.rfft2(x), s=size)

    @staticmethod
    def backward(ctx, grad_y):
        r, x = ctx.saved_tensors
        size = x.shape[-2:]
        g_hat = torch.fft.rfft2(grad_y)                                        # (..., H, W//2+1)
        grad_r = grad_x = None
        if ctx.needs_input_grad[0]:
            grad_r = _sum_to(torch.fft.irfft2(torch.fft.rfft2(x).conj() * g_hat, s=size), r.shape)
        if ctx.needs_input_grad[1]:
            grad_x = _sum_to(torch.fft.irfft2(torch.fft.rfft2(r).conj() * g_hat, s=size), x.shape)
        return grad_r, grad_x


def circ_conv(r, x):
    """2-D circular convolution over the last two dims (the supplement's CirConv layer, eq. 2).

    Args:
        r: (..., H, W) real filter (DSiam's ``V`` or ``W``).
        x: (..., H, W) real signal; its leading dims broadcast against those of ``r``.

    Returns:
        (B..., H, W) with ``B`` the broadcast leading shape:
        ``y[..., i, j] = sum_{m,n} r[..., m, n] * x[..., (i-m) mod H, (j-n) mod W]``.
        Differentiable w.r.t. ``r`` and ``x`` (closed-form Fourier backward).

    Raises:
        ValueError: non-tensor or non-real-floating inputs, different dtypes, different (H, W),
            or leading dims that do not broadcast.
    """
    _check_real("r", r)
    _check_real("x", x)
    if r.dtype != x.dtype:
        raise ValueError(f"r and x must share a dtype, got {r.dtype} and {x.dtype}")
    if r.shape[-2:] != x.shape[-2:]:
        raise ValueError(f"r and x must have the same (H, W), got {tuple(r.shape[-2:])} and {tuple(x.shape[-2:])}")
    try:
        torch.broadcast_shapes(r.shape[:-2], x.shape[:-2])
    except RuntimeError as exc:
        raise ValueError(f"leading dims of r {tuple(r.shape)} and x {tuple(x.shape)} do not broadcast") from exc
    return _CircConv.apply(r, x)


class _RLR(torch.autograd.Function):
    """RLR layer: forward eq. 17, backward ``A* g^ + B g^*`` (x), ``x^ g^ / D`` (y), eq. 26 (lam)."""

    @staticmethod
    def forward(ctx, x, y, lam):
        size = x.shape[-2:]
        lam_f = lam[..., None, None]                                           # broadcasts over frequencies
        x_hat, y_hat = torch.fft.rfft2(x), torch.fft.rfft2(y)
        denom = x_hat.real.square() + x_hat.imag.square() + lam_f              # D, real, > 0
        ctx.save_for_backward(x, y, lam)
        return torch.fft.irfft2(x_hat.conj() * y_hat / denom, s=size)

    @staticmethod
    def backward(ctx, grad_r):
        x, y, lam = ctx.saved_tensors
        size = x.shape[-2:]
        lam_f = lam[..., None, None]
        x_hat, y_hat = torch.fft.rfft2(x), torch.fft.rfft2(y)
        denom = x_hat.real.square() + x_hat.imag.square() + lam_f
        g_hat = torch.fft.rfft2(grad_r)
        grad_x = grad_y = grad_lam = None
        if ctx.needs_input_grad[0]:
            a_conj = -(x_hat.square() * y_hat.conj()) / denom.square()         # A* = -(x^)^2 (y^)* / D^2
            b = lam_f * y_hat / denom.square()                                 # B = lam y^ / D^2
            grad_x = torch.fft.irfft2(a_conj * g_hat + b * g_hat.conj(), s=size)
        if ctx.needs_input_grad[1]:
            grad_y = torch.fft.irfft2(x_hat * g_hat / denom, s=size)
        if ctx.needs_input_grad[2]:
            dr_dlam = torch.fft.irfft2(-(x_hat.conj() * y_hat) / denom.square(), s=size)
            grad_lam = _sum_to((grad_r * dr_dlam).sum(dim=(-2, -1)), lam.shape)
        return grad_x, grad_y, grad_lam


def rlr(x, y, lam):
    """Regularised linear regression in the Fourier domain (the supplement's RLR layer, eqs. 3/15/17).

    Solves, independently for every leading index,
    ``r = argmin_r ||circ_conv(r, x) - y||^2 + lam ||r||^2``, i.e. ``r^ = x^* y^ / (|x^|^2 + lam)``.

    Args:
        x: (..., H, W) real signal (e.g. DSiam's ``f(O_1)`` when learning ``V``).
        y: (..., H, W) real target, the same shape and dtype as ``x``.
        lam: regulariser, > 0 and finite. A Python number or a real floating tensor whose shape
            broadcasts to the LEADING dims ``x.shape[:-2]`` without enlarging them (the trailing
            ``H, W`` dims are added internally): ``()`` for one value, ``(C,)`` for one per channel
            of an ``(N, C, H, W)`` input, ``(N, 1)`` for one per sample. A ``(C, 1, 1)`` tensor is
            rejected, not reinterpreted. A tensor ``lam`` is cast to ``x``'s dtype.

    Returns:
        (..., H, W) real ``r``, the shape of ``x``. Differentiable w.r.t. ``x``, ``y`` and ``lam``
        (closed-form Fourier backward); ``lam``'s gradient has ``lam``'s shape.

    Raises:
        ValueError: non-real-floating inputs, ``x``/``y`` shape or dtype mismatch, ``lam`` not
            positive and finite everywhere, or ``lam``'s shape not broadcastable to ``x.shape[:-2]``.
    """
    _check_real("x", x)
    _check_real("y", y)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.dtype != y.dtype:
        raise ValueError(f"x and y must share a dtype, got {x.dtype} and {y.dtype}")
    if isinstance(lam, numbers.Real) and not isinstance(lam, bool):
        lam = torch.tensor(float(lam), dtype=x.dtype, device=x.device)
    if not isinstance(lam, torch.Tensor) or not lam.is_floating_point():
        kind = lam.dtype if isinstance(lam, torch.Tensor) else type(lam).__name__
        raise ValueError(f"lam must be a real number or a real floating tensor, got {kind}")
    lead = x.shape[:-2]
    try:
        ok = torch.broadcast_shapes(lam.shape, lead) == lead
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"lam of shape {tuple(lam.shape)} must broadcast to the leading dims {tuple(lead)} of x "
                         "(e.g. () or (C,) for x of shape (N, C, H, W)); do not add trailing (1, 1) dims")
    if not bool(torch.isfinite(lam).all()) or not bool((lam > 0).all()):
        raise ValueError("lam must be positive and finite everywhere")
    return _RLR.apply(x, y, lam.to(dtype=x.dtype, device=x.device))
