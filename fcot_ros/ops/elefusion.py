"""DSiam's Elefusion layer: element-wise weighted fusion of per-layer response maps.

Multi-layer DSiam (supplement, section 1.1, eq. 1) fuses the response maps ``S^l`` of its layers
(conv5 and conv4 of SiamFC) as ``S = sum_l Y^l (.) S^l`` with ``sum_l Y^l = 1``, the weights
``Y^l`` learnt in joint training. The backward is eqs. 27-28 of the supplement:
``dL/dS^l = Y^l (.) dL/dS`` and ``dL/dY^l = S^l (.) dL/dS`` (summed over the dims along which
``Y`` is broadcast).

Learn unconstrained logits and map them with ``fusion_weights`` (a softmax over the layer dim) so
that the weights sum to 1 by construction.
"""
import torch

from fcot_ros.ops.circulant import _sum_to

__all__ = ["elefusion", "fusion_weights"]


class _EleFusion(torch.autograd.Function):
    """Forward eq. 1, backward eqs. 27-28."""

    @staticmethod
    def forward(ctx, scores, weights):
        ctx.save_for_backward(scores, weights)
        return (weights * scores).sum(dim=0)

    @staticmethod
    def backward(ctx, grad_s):
        scores, weights = ctx.saved_tensors
        grad_scores = grad_weights = None
        if ctx.needs_input_grad[0]:
            grad_scores = (weights * grad_s).expand_as(scores)                # eq. 27
        if ctx.needs_input_grad[1]:
            grad_weights = _sum_to(scores * grad_s, weights.shape)             # eq. 28
        return grad_scores, grad_weights


def elefusion(scores, weights, atol=1e-5):
    """Fuse a stack of response maps with per-layer (per-element) weights that sum to 1.

    Args:
        scores: (L, ...) real floating stack of ``L`` response maps, e.g. (L, N, H, W).
        weights: (L, ...) the same number of dims as ``scores``, size ``L`` in dim 0 and each other
            dim equal to that of ``scores`` or 1: (L, 1, 1, 1) for one scalar per layer,
            (L, 1, H, W) for one map per layer, (L, N, H, W) for everything. Same dtype as ``scores``.
        atol: tolerance of the sum-to-one check ``|weights.sum(0) - 1| <= atol``.

    Returns:
        ``scores.shape[1:]`` tensor ``S = sum_l weights[l] * scores[l]`` (eq. 1), differentiable
        w.r.t. both inputs (eqs. 27-28; ``weights``' gradient has ``weights``' shape).

    Raises:
        ValueError: non-floating inputs, mismatched dtypes or shapes, or weights that do not sum to 1
            over dim 0 (use ``fusion_weights`` to get weights that do).
    """
    for name, t in (("scores", scores), ("weights", weights)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a real floating tensor, got {kind}")
    if scores.dtype != weights.dtype:
        raise ValueError(f"scores and weights must share a dtype, got {scores.dtype} and {weights.dtype}")
    if scores.dim() < 1 or scores.shape[0] < 1:
        raise ValueError(f"scores must be an (L, ...) stack with L >= 1, got shape {tuple(scores.shape)}")
    if (weights.dim() != scores.dim() or weights.shape[0] != scores.shape[0]
            or any(w not in (1, s) for w, s in zip(weights.shape[1:], scores.shape[1:]))):
        raise ValueError(f"weights of shape {tuple(weights.shape)} must be (L, ...) with L = {scores.shape[0]} and "
                         f"every other dim equal to that of scores {tuple(scores.shape)} or 1")
    total = weights.detach().sum(dim=0)
    if not bool(torch.isfinite(total).all()) or not bool(((total - 1).abs() <= atol).all()):
        worst = float((total - 1).abs().max())
        raise ValueError(f"fusion weights must sum to 1 over dim 0 (largest deviation {worst:.3g} > atol {atol:g}); "
                         "use fusion_weights(logits)")
    return _EleFusion.apply(scores, weights)


def fusion_weights(logits):
    """Fusion weights from learnable logits: a softmax over dim 0 (the layer dim).

    Args:
        logits: (L, ...) real tensor, e.g. (L, 1, 1, 1) or (L, 1, H, W).

    Returns:
        Tensor of ``logits``' shape, positive, summing to 1 over dim 0 (so ``elefusion`` accepts it);
        differentiable by autograd. Equal logits give equal weights ``1 / L``.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.dim() < 1:
        raise ValueError("logits must be a real floating tensor of shape (L, ...)")
    return torch.softmax(logits, dim=0)
