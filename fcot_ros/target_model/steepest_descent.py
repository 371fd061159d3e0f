"""The steepest-descent loop with the Gauss-Newton step length, shared by every online optimizer.

For a residual r(f) with Jacobian J and the objective L(f) = 1/2 ||r||^2 + lambda/2 ||f||^2, one
iteration is

    g = J^T r + lambda f,   alpha = ||g||^2 / (||J g||^2 + lambda ||g||^2),   f <- f - beta * alpha * g

with beta = exp(log_step_length), a learned scalar (DiMP; FCOT eqs. 4-5 and 10-12). The optimizers
differ only in the residual and in which cells enter ||J g||^2; each supplies a function that maps a
filter to (g, J g restricted to its cells) and this module does the rest. Plain differentiable torch
ops: training back-propagates through the iterates.

Shapes: filters (S, F, C, k, k) (S sequences, F filters per sequence); J g (N, S, F, Ho, Wo).
"""
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import torch

# the smallest denominator of the step length (a zero gradient gives alpha = 0, not 0 / 0)
MIN_STEP_DENOMINATOR = 1e-8


def gauss_newton_step_length(grad, jac_grad, reg_weight):
    """alpha (S,) = ||g||^2 / (||J g||^2 + lambda ||g||^2) per sequence.

    grad (S, F, C, k, k); jac_grad (N, S, F, Ho, Wo): J g on the cells the step rule counts;
    reg_weight: lambda (a scalar tensor).
    """
    num = (grad * grad).sum(dim=(1, 2, 3, 4))
    den = (jac_grad * jac_grad).sum(dim=(0, 2, 3, 4)) + reg_weight * num
    return num / den.clamp(min=MIN_STEP_DENOMINATOR)


@dataclass
class DescentResult:
    """Outcome of ``steepest_descent``: the final filter, every iterate (the start first, so
    ``len(iterates) == num_iter + 1``) and, when asked, the objective at every iterate."""

    filter: torch.Tensor
    iterates: List[torch.Tensor] = field(default_factory=list)
    losses: List[torch.Tensor] = field(default_factory=list)


def steepest_descent(start: torch.Tensor,
                     gradient_and_jacobian: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]],
                     reg_weight: torch.Tensor, log_step_length: torch.Tensor, num_iter: int,
                     objective: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
                     keep_iterates: bool = True) -> DescentResult:
    """Run ``num_iter`` Gauss-Newton steepest-descent steps from ``start`` (S, F, C, k, k).

    gradient_and_jacobian(f) -> (g (S, F, C, k, k), J g (N, S, F, Ho, Wo)): the closed-form gradient
    of the objective at f, and the Jacobian of the residual applied to g on the cells whose
    squares the step length counts. objective(f) -> (S,): evaluated at every iterate when given.
    keep_iterates=False keeps only the final filter (the tracker: no autograd graph, less memory).
    """
    if num_iter < 0:
        raise ValueError(f"num_iter must be >= 0, not {num_iter}")
    step = torch.exp(log_step_length)
    filt = start
    result = DescentResult(filter=start, iterates=[start] if keep_iterates else [])
    for _ in range(num_iter):
        if objective is not None:
            result.losses.append(objective(filt))
        grad, jac_grad = gradient_and_jacobian(filt)
        alpha = gauss_newton_step_length(grad, jac_grad, reg_weight)
        filt = filt - (step * alpha).view(-1, 1, 1, 1, 1) * grad
        if keep_iterates:
            result.iterates.append(filt)
    if objective is not None:
        result.losses.append(objective(filt))
    result.filter = filt
    return result
