"""A full-layer FCOTModel turned into its rank-r separable form (config ``separable_rank``).

Every tensor the two forms share is copied; each separable layer (decoder.smooth_72, the cls72 head's
three 3x3 layers, both regression heads' three) starts at the truncated SVD of the full layer it
replaces (models.separable.factorize_), rigid DCNs with their constant mask folded into the kernel.
The RMG initializer and the cls18 head keep their full layers (the RMG runs once per init).
"""
from dataclasses import replace
from typing import Dict, Tuple

import torch

from fcot_ros.models.separable import SeparableConv2d, effective_kernel, factorize_


def to_separable(model, rank: int) -> Tuple[object, Dict[str, float]]:
    """(separable FCOTModel of ``rank``, {layer path: relative Frobenius error of its factorization}).

    ``model``: an FCOTModel with full layers (separable_rank 0) and rigid DCNs. The result is in eval
    mode, on the CPU, with the same config but ``separable_rank=rank``.
    """
    from fcot_ros.models.fcot_model import FCOTModel
    if model.config.separable_rank:
        raise ValueError(f"the model is already separable (rank {model.config.separable_rank})")
    config = replace(model.config, separable_rank=int(rank))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        out = FCOTModel(config, imagenet_backbone=False)
    source = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    target = out.state_dict()
    separable = {name: m for name, m in out.named_modules() if isinstance(m, SeparableConv2d)}
    owned = tuple(f"{name}." for name in separable)
    shared = {}
    for key, value in target.items():
        if key.startswith(owned):
            continue
        if key not in source or source[key].shape != value.shape:
            raise ValueError(f"{key}: not in the full model, or of another shape")
        shared[key] = source[key]
    out.load_state_dict(shared, strict=False)
    errors = {}
    for name, layer in separable.items():
        weight, bias = effective_kernel(model.get_submodule(name))
        errors[name] = factorize_(layer, weight.cpu(), None if bias is None else bias.cpu())
    return out.eval(), errors
