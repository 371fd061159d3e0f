"""Training dsiam_lite on short clips, unrolled (the supplement's section 1.3), from a recipe file:

    python -m training --config training/configs/dsiam_lite_cpu.yaml

Each step draws ``batch`` clips; per clip the tracker is unrolled over its T frames: V and W learned
from frame t-1 (RLR, as the tracker does it) transform frame t's template and search features, and
the fused response S_t meets the +1 / -1 label map J_t in a logistic loss, balanced between the
two classes (SiamFC's), averaged over t = 2..T and the clips. Gradients reach the adjust
convolutions, the response heads, the fusion weight maps and the two lambdas through the RLR and
CirConv layers (fcot_ros.ops.circulant's closed forms). The trunk stays frozen.

``clip_length: 2`` with ``use_v: false, use_w: false`` is plain SiamFC pair training (the
"without joint training" stage); the joint stage starts from its output (``model.init``).

Recipe (YAML): description; model {init: checkpoint or null, settings: DSiamConfig fields, train:
parts}; data {roots, split_file, clip_length, max_gap, shift, radius}; unroll {use_v, use_w,
own_estimate};
optim {lr, momentum, weight_decay, steps, batch, grad_clip}; run {out_dir, seed, threads,
time_limit_s, log_every}.
"""
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from fcot_ros.errors import FCOTError

log = logging.getLogger(__name__)

PARTS = {"adjust": ("features.adjust.",), "response": ("response_scale", "response_bias"),
         "fusion": ("fusion_logits",), "lambdas": ("log_lambda_v", "log_lambda_w")}
RECIPE_KEYS = {"description", "model", "data", "unroll", "optim", "run"}


class RecipeError(FCOTError, ValueError):
    """A dsiam recipe that cannot run."""


def load_dsiam_recipe(path, overrides=()) -> dict:
    """The recipe at ``path`` with ``key.sub=value`` overrides applied (values parsed as YAML)."""
    try:
        recipe = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc}") from exc
    if not isinstance(recipe, dict) or (recipe.get("model") or {}).get("name") != "dsiam_lite":
        raise RecipeError(f"{path} is not a dsiam_lite recipe (model.name: dsiam_lite)")
    unknown = sorted(set(recipe) - RECIPE_KEYS)
    if unknown:
        raise RecipeError(f"{path}: unknown section(s) {unknown}; known: {sorted(RECIPE_KEYS)}")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise RecipeError(f"override {item!r} is not KEY=VALUE")
        *heads, last = key.split(".")
        node = recipe
        for h in heads:
            node = node.setdefault(h, {})
        node[last] = yaml.safe_load(value)
    parts = (recipe["model"].get("train") or list(PARTS))
    bad = sorted(set(parts) - set(PARTS))
    if bad:
        raise RecipeError(f"model.train: unknown part(s) {bad}; known: {sorted(PARTS)}")
    return recipe


def balanced_logistic_loss(logits, labels):
    """Mean of log(1 + exp(-y s)) over the positives and over the negatives, averaged (SiamFC):
    logits, labels (..., R, R) with labels +1 / -1."""
    pos = (labels > 0).to(logits.dtype)
    neg = 1.0 - pos
    per = F.softplus(-labels * logits)
    return 0.5 * (per * pos).sum() / pos.sum().clamp_min(1) + 0.5 * (per * neg).sum() / neg.sum().clamp_min(1)


def peak_shift(logits, stride: int):
    """(dx, dy) crop pixels from the crop centre of the arg-max cell of ``logits`` (R, R)."""
    r = logits.shape[-1]
    row, col = divmod(int(torch.argmax(logits.detach())), r)
    return ((col - (r - 1) / 2.0) * stride, (row - (r - 1) / 2.0) * stride)


def unrolled_loss(model, clip, use_v: bool, use_w: bool, device="cpu", own_estimate: bool = True):
    """(mean loss over frames 2..T, per-frame losses) of one Clip, the tracker unrolled over it.

    own_estimate: O_{t-1} and G_{t-1} (what V and W learn from) sit where the unrolled tracker's
    response S_{t-1} peaked, as in the supplement's recurrent network (S_t gives O_t); False puts
    them at the ground truth. O_1 is always the ground truth (the operator's box)."""
    from fcot_ros.runtime.base import crops_to_tensor
    searches = model.features(crops_to_tensor(clip.searches, device))           # per level (T, C, H, W)
    first = model.template_window([z[0] for z in searches], clip.shifts[0])      # f(O_1) from Z_1
    labels = torch.from_numpy(clip.labels).to(device)
    losses, where = [], clip.shifts[0]
    for t in range(1, clip.searches.shape[0]):
        v, w = model.learn_transforms([z[t - 1] for z in searches], first, where, clip.sizes[t - 1], use_v, use_w)
        s = model.score([f[None] for f in first], [z[t:t + 1] for z in searches], v, w)[0, 0]
        losses.append(balanced_logistic_loss(s, labels[t]))
        where = peak_shift(s, min(model.config.strides)) if own_estimate else clip.shifts[t]
    per = torch.stack(losses)
    return per.mean(), per.detach()


def trainable(model, parts):
    """The parameters of the named parts (PARTS); the rest is frozen (requires_grad False)."""
    prefixes = tuple(p for part in parts for p in PARTS[part])
    params = []
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(prefixes))
        if p.requires_grad:
            params.append(p)
    return params


def sequences_for_training(data: dict):
    """The training videos: every root's folder sequences outside the split file's validation videos."""
    from training.config import resolve_path
    from training.data.sources import load_source
    from training.data.splits import read_split, select_split
    videos = read_split(resolve_path(data["split_file"])) if data.get("split_file") else set()
    seqs = []
    for root in data.get("roots") or []:
        seqs += select_split(load_source("folder", resolve_path(root)), videos, "train")
    if not seqs:
        raise RecipeError("data.roots give no training sequence")
    return seqs


def train_dsiam(recipe: dict, out_dir=None):
    """Run ``recipe``; returns {"checkpoint", "steps", "loss_first", "loss_last", "seconds"}."""
    from fcot_ros.assembly.dsiam_loading import load_dsiam_model, save_dsiam
    from training.config import resolve_path
    from training.dsiam_clips import ClipSampler
    model_cfg, data, unroll = recipe["model"], recipe.get("data") or {}, recipe.get("unroll") or {}
    optim, run = recipe.get("optim") or {}, recipe.get("run") or {}
    seed = int(run.get("seed", 0))
    torch.manual_seed(seed)
    if run.get("threads"):
        torch.set_num_threads(int(run["threads"]))
    init = model_cfg.get("init")
    model = load_dsiam_model(str(resolve_path(init)) if init else None, **(model_cfg.get("settings") or {}))
    model.train()
    params = trainable(model, model_cfg.get("train") or list(PARTS))
    opt = torch.optim.SGD(params, lr=float(optim.get("lr", 1e-2)), momentum=float(optim.get("momentum", 0.9)),
                          weight_decay=float(optim.get("weight_decay", 5e-4)))
    sampler = ClipSampler(sequences_for_training(data), model.config, length=int(data.get("clip_length", 10)),
                          max_gap=int(data.get("max_gap", 3)), shift=float(data.get("shift", 8.0)),
                          radius=float(data.get("radius", 16.0)))
    rng = np.random.default_rng(seed)
    steps, batch = int(optim.get("steps", 100)), int(optim.get("batch", 2))
    limit = float(run.get("time_limit_s", 0) or 0)
    use_v, use_w = bool(unroll.get("use_v", True)), bool(unroll.get("use_w", True))
    own = bool(unroll.get("own_estimate", True))
    out = Path(out_dir or resolve_path(run.get("out_dir", "runs/dsiam_lite")))
    out.mkdir(parents=True, exist_ok=True)
    history, t0, step = [], time.monotonic(), 0
    log_every = int(run.get("log_every", 10))
    for step in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(batch):
            loss, _ = unrolled_loss(model, sampler.draw(rng), use_v, use_w, own_estimate=own)
            (loss / batch).backward()
            total += float(loss.detach()) / batch
        if not math.isfinite(total):
            raise FCOTError(f"loss is {total} at step {step}")
        if optim.get("grad_clip"):
            torch.nn.utils.clip_grad_norm_(params, float(optim["grad_clip"]))
        opt.step()
        history.append(total)
        if step % log_every == 0 or step == 1:
            log.info("step %d/%d loss %.4f (mean of last %d: %.4f) %.0f s", step, steps, total, log_every,
                     float(np.mean(history[-log_every:])), time.monotonic() - t0)
        if limit and time.monotonic() - t0 > limit:
            log.info("time limit %.0f s reached at step %d", limit, step)
            break
    seconds = time.monotonic() - t0
    k = max(1, min(len(history) // 5, 20))
    summary = {"steps": step, "seconds": round(seconds, 1), "loss_first": float(np.mean(history[:k])),
               "loss_last": float(np.mean(history[-k:])), "use_v": use_v, "use_w": use_w,
               "clip_length": sampler.length, "lambda_v": torch.exp(model.log_lambda_v).tolist(),
               "lambda_w": torch.exp(model.log_lambda_w).tolist()}
    checkpoint = out / "checkpoint_last.pt"
    save_dsiam(checkpoint, model.eval(), training={**summary, "recipe": recipe.get("description", "")[:2000],
                                                   "init": init or None})
    (out / "history.json").write_text(json.dumps({"loss": history, **summary}, indent=1))
    return {"checkpoint": checkpoint, **summary}
