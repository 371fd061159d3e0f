"""The training actor: an FCOTModel and the recipe's losses in one module (what DDP wraps).

forward(batch) -> (loss, stats): batch as training.data.dataset.collate makes it (images (N, S, 3,
H, W) float BGR 0..255, boxes (N, S, 4) crop px); stats are detached per-iterate losses for logging.
"""
import torch
from torch import nn

from training.config import LossConfig, ModelConfig
from training.losses import gaussian_labels, lb_hinge, regression_loss, weighted_iterates


class FCOTActor(nn.Module):
    """An FCOTModel together with the recipe's model and loss settings: batch in, (loss, stats) out."""

    def __init__(self, model, model_cfg: ModelConfig, loss_cfg: LossConfig):
        super().__init__()
        self.model = model
        self.model_cfg = model_cfg
        self.loss_cfg = loss_cfg

    def forward(self, batch):
        """(loss, stats) of one batch (train/test images (N, S, 3, H, W), boxes (N, S, 4) crop pixels)."""
        m, mc = self.model, self.model_cfg
        out = m(batch["train_images"], batch["train_boxes"], batch["test_images"], num_iter=mc.num_iter,
                reg_num_iter=mc.reg_num_iter, branches=mc.branches, reg_solver=mc.reg_solver)
        return self.losses(out, batch["test_boxes"])

    def losses(self, out, boxes):
        """(loss, stats) of an FCOTOutput for test boxes (N, S, 4) crop px."""
        m, lc = self.model, self.loss_cfg
        stats, total = {}, torch.zeros((), device=boxes.device)
        for name, scores, sigma_factor in (("cls18", out.cls18_scores, lc.cls18_sigma_factor),
                                           ("cls72", out.cls72_scores, lc.cls72_sigma_factor)):
            if not scores:
                continue
            branch = m.branch(name)
            labels = gaussian_labels(boxes, branch.stride, branch.score_size, sigma_factor * branch.feature_size,
                                     branch.filter_size)
            losses = [lb_hinge(s, labels, lc.hinge_threshold) for s in scores]
            total = total + weighted_iterates(losses, getattr(lc, name))
            stats.update({f"{name}/iter{i}": v.detach() for i, v in enumerate(losses)})
        if out.reg_maps:
            losses = [regression_loss(r, boxes, m.reg.stride, lc.reg_radius) for r in out.reg_maps]
            total = total + weighted_iterates(losses, lc.reg)
            stats.update({f"reg/iter{i}": v.detach() for i, v in enumerate(losses)})
        stats["total"] = total.detach()
        return total, stats
