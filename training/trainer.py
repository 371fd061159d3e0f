"""The training loop: model and optimizer from the recipe, DDP when launched by torchrun, AMP on
GPUs, checkpoints that resume exactly, TensorBoard scalars and a progress bar, export at the end.

    result = train(load_recipe("training/configs/fcot_lite_cpu.yaml"), resume=None)

Frozen modules get requires_grad=False; a backbone without trainable parameters runs under no_grad
(FCOTModel.backbone_features). ``model.freeze_bn`` keeps every BatchNorm in eval mode.
"""
import logging
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch
from torch import nn

from fcot_ros.errors import CheckpointError
from training.actor import FCOTActor
from training.checkpoint import load_training_checkpoint, save_training_checkpoint, set_rng_state
from training.config import Recipe, RecipeError, resolve_path, write_recipe
from training.data.dataset import SampleDataset, collate, load_sources
from training.distributed import RankBatches, setup, teardown

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Outcome of a training run: folder, last checkpoint, steps, epochs, logged history, speed, exports."""

    out_dir: Path
    checkpoint: Optional[Path]
    steps: int
    epochs: int
    history: List[Dict[str, float]] = field(default_factory=list)     # per logged step (rank 0)
    samples_per_second: float = float("nan")
    exports: Dict[str, Path] = field(default_factory=dict)


# ------------------------------------------------------------------ model and optimizer
def build_training_model(recipe: Recipe, init_state=None):
    """FCOTModel of the recipe: from ``model.init_weights`` (settings checked against it) or built new."""
    from fcot_ros.assembly import load_model
    from fcot_ros.models.config import get_config
    from fcot_ros.models.fcot_model import FCOTModel
    mc = recipe.model
    if mc.init_weights:
        model = load_model(mc.name, resolve_path(mc.init_weights), **mc.settings)
    else:
        model = FCOTModel(get_config(mc.name, **mc.settings), imagenet_backbone=init_state is None)
    if init_state is not None:
        from fcot_ros.checkpoints.validation import check_against_shapes
        check_against_shapes(init_state, {k: tuple(v.shape) for k, v in model.state_dict().items()},
                             "the checkpoint to resume")
        model.load_state_dict(init_state, strict=True)
    elif mc.init_dimp:
        from fcot_ros.checkpoints.dimp_import import import_dimp_checkpoint
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        taken, _ = import_dimp_checkpoint(resolve_path(mc.init_dimp), shapes)
        model.load_state_dict(taken, strict=False)
        log.info("backbone and cls18 from %s (%d tensors)", mc.init_dimp, len(taken))
    return model


def revive_zero_initializers(model, trained_prefixes) -> list:
    """Modules that train but start at exactly zero in front of a ReLU never receive a gradient
    (ReLU'(0) = 0): fcot_lite's hand initialisation zeroes the RMG merge (no generator before
    training). Give such a merge the authors' initialisation (the average of its two inputs)."""
    from fcot_ros.models.heads import average_merge_
    revived = []
    merge = model.reg.initializer.merge
    if _matches("reg.initializer.merge.weight", trained_prefixes) and not bool(merge.weight.any()):
        average_merge_(merge)
        revived.append("reg.initializer.merge")
    return revived


def _matches(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def set_trainable(model: nn.Module, prefixes) -> List[str]:
    """requires_grad True exactly for parameters under ``prefixes``; returns the trained names.
    A rigid DCN's offset branch never trains (it must stay zero)."""
    trained = []
    for name, p in model.named_parameters():
        rigid_offsets = ".conv_offset_mask." in f".{name}" and not getattr(
            model.get_submodule(name.rsplit(".conv_offset_mask.", 1)[0]), "deformable", True)
        p.requires_grad_(_matches(name, prefixes) and not rigid_offsets)
        if p.requires_grad:
            trained.append(name)
    unused = [p for p in prefixes if not any(_matches(n, [p]) for n, _ in model.named_parameters())]
    if unused:
        raise RecipeError(f"model.train names no parameter under {unused}")
    return trained


def build_optimizer(model: nn.Module, recipe: Recipe):
    """Adam with the recipe's parameter groups (every trained parameter in exactly one) and MultiStepLR."""
    groups, claimed = [], {}
    for i, group in enumerate(recipe.optim.param_groups):
        params = []
        for name, p in model.named_parameters():
            if p.requires_grad and _matches(name, group.modules):
                if name in claimed:
                    raise RecipeError(f"parameter {name} is in optim.param_groups[{claimed[name]}] and [{i}]")
                claimed[name] = i
                params.append(p)
        if params:
            groups.append({"params": params, "lr": group.lr, "name": ",".join(group.modules)})
    orphans = [n for n, p in model.named_parameters() if p.requires_grad and n not in claimed]
    if orphans:
        raise RecipeError(f"trained parameters in no optim.param_groups entry: {orphans[:5]}"
                          + (f" (+{len(orphans) - 5})" if len(orphans) > 5 else ""))
    o = recipe.optim
    optimizer = torch.optim.Adam(groups, betas=o.betas, weight_decay=o.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(o.milestones), gamma=o.gamma)
    return optimizer, scheduler


def _set_modes(model: nn.Module, freeze_bn: bool):
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


def _threads(recipe: Recipe, device):
    if device.type == "cpu":
        from fcot_ros.runtime.onnx_runtime import physical_cores
        torch.set_num_threads(recipe.run.threads or physical_cores())


# ------------------------------------------------------------------ the loop
def train(recipe: Recipe, resume=None, out_dir=None) -> TrainResult:
    """Run (or resume) the recipe; returns a TrainResult (rank 0 has the history and exports)."""
    info = setup(recipe.run.device)
    try:
        return _train(recipe, info, resume, out_dir)
    finally:
        teardown()


def _train(recipe: Recipe, info, resume, out_dir) -> TrainResult:
    out = resolve_path(out_dir or recipe.run.out_dir)
    state = load_training_checkpoint(resume) if resume else None
    torch.manual_seed(recipe.run.seed)           # the same initial model on every rank
    _threads(recipe, info.device)
    model = build_training_model(recipe, init_state=state["state_dict"] if state else None).to(info.device)
    trained = set_trainable(model, recipe.model.train)
    if state is None:
        for name in revive_zero_initializers(model, recipe.model.train):
            log.info("%s started at zero behind a ReLU (no gradient): given the authors' initialisation", name)
    optimizer, scheduler = build_optimizer(model, recipe)
    epoch, step = 0, 0
    if state:
        try:
            optimizer.load_state_dict(state["optimizer"])
        except ValueError as exc:                # a recipe with other parameter groups than the run's
            raise CheckpointError(f"{resume}: its optimizer state does not fit the recipe's parameter groups "
                                  f"({exc}); resume with the run's recipe (its config.yaml)") from exc
        scheduler.load_state_dict(state["scheduler"])
        epoch, step = state["epoch"], state["step"]
        set_rng_state(state["rng"])
    actor = FCOTActor(model, recipe.model, recipe.loss).to(info.device)
    runner = actor
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel
        runner = DistributedDataParallel(actor, device_ids=[info.device.index] if info.device.type == "cuda" else None)

    dataset = SampleDataset(load_sources(recipe.data), recipe.data, model.config.crop_size, recipe.run.seed)
    B, W = recipe.run.batch_size, info.world_size
    steps_per_epoch = recipe.data.samples_per_epoch // (B * W)
    if steps_per_epoch == 0:
        raise RecipeError(f"data.samples_per_epoch {recipe.data.samples_per_epoch} < one global batch ({B} x {W})")
    writer = None
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_recipe(recipe, out / "config.yaml")
        (out / "trained_parameters.txt").write_text("\n".join(trained) + "\n")
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(str(out / "tensorboard"))
        log.info("training %d parameter tensors (%d values) of %s; %d steps of %d x %d sequences per epoch",
                 len(trained), sum(p.numel() for p in model.parameters() if p.requires_grad), model.config.name,
                 steps_per_epoch, B, W)

    use_amp = recipe.run.amp and info.device.type == "cuda"
    result = TrainResult(out, None, step, epoch)
    samples_done, time_spent = 0, 0.0
    max_steps = recipe.run.max_steps or math.inf
    deadline = time.monotonic() + 60.0 * recipe.run.max_minutes if recipe.run.max_minutes > 0 else math.inf
    checkpoint = None
    stop = step >= max_steps
    interrupted = _StopRequest()
    while epoch < recipe.optim.epochs and not stop:
        dataset.set_epoch(epoch)
        start = step - epoch * steps_per_epoch
        loader = torch.utils.data.DataLoader(
            dataset, batch_sampler=RankBatches(recipe.data.samples_per_epoch, B, info, start=start),
            collate_fn=collate, num_workers=recipe.data.workers, pin_memory=info.device.type == "cuda")
        _set_modes(model, recipe.model.freeze_bn)
        bar = _progress(recipe, info, len(loader), epoch)
        t_last = time.perf_counter()
        for batch in loader:
            batch = {k: v.to(info.device, non_blocking=True) for k, v in batch.items()}
            with torch.autocast(device_type=info.device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss, stats = runner(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.optim.grad_clip:
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                               recipe.optim.grad_clip)
            optimizer.step()
            step += 1
            now = time.perf_counter()
            samples_done += B * W
            time_spent += now - t_last
            t_last = now
            rate = samples_done / time_spent
            if info.is_main:
                row = {k: float(v) for k, v in stats.items()}
                row.update(step=step, epoch=epoch, samples_per_second=rate)
                if step % recipe.run.log_every == 0 or step == 1:
                    _log_scalars(writer, row, optimizer, step)
                    result.history.append(row)
                if bar is not None:
                    bar.set_postfix(loss=f"{row['total']:.4f}", samples_s=f"{rate:.2f}")
                    bar.update(1)
            if step >= max_steps or interrupted.requested or _past(deadline, info):
                stop = True
                break
        if bar is not None:
            bar.close()
        if stop and step - epoch * steps_per_epoch < steps_per_epoch:
            break                                 # stopped inside the epoch: it is not complete
        epoch += 1
        scheduler.step()
        if info.is_main and (epoch % recipe.run.checkpoint_every == 0 or epoch == recipe.optim.epochs):
            checkpoint = save_training_checkpoint(out / f"checkpoint_ep{epoch:04d}.pt", model, optimizer, scheduler,
                                                  epoch, step, recipe)
    interrupted.restore()
    if interrupted.requested:
        log.info("stopped by signal after step %d; resume with --resume %s", step, out / "checkpoint_last.pt")
    elif deadline != math.inf and epoch < recipe.optim.epochs and step < max_steps:
        log.info("time budget of %.2f min spent after step %d; resume with --resume %s",
                 recipe.run.max_minutes, step, out / "checkpoint_last.pt")
    if info.is_main:
        checkpoint = save_training_checkpoint(out / "checkpoint_last.pt", model, optimizer, scheduler, epoch, step,
                                              recipe, samples_per_second=samples_done / time_spent
                                              if time_spent else None)
        if writer is not None:
            writer.close()
        if recipe.run.export:
            from training.export import export_trained
            result.exports = export_trained(model.cpu(), out / "export", weights=checkpoint)
    result.checkpoint, result.steps, result.epochs = checkpoint, step, epoch
    result.samples_per_second = samples_done / time_spent if time_spent else float("nan")
    return result


def _past(deadline: float, info) -> bool:
    """True once the wall-time budget is spent; under DDP rank 0 decides for all ranks (one broadcast
    per step), so that every rank stops after the same step."""
    if deadline == math.inf:
        return False
    late = time.monotonic() >= deadline
    if not info.distributed:
        return late
    import torch.distributed as dist
    flag = torch.tensor([1.0 if late else 0.0], device=info.device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


class _StopRequest:
    """SIGINT / SIGTERM during a run: finish the current step, write checkpoint_last.pt, return
    (``--resume`` continues exactly). A second signal acts as usual."""

    def __init__(self):
        self.requested = False
        self._previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:          # not the main thread: no handler
                pass

    def _handle(self, signum, frame):
        self.requested = True
        self.restore()

    def restore(self):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}


def _progress(recipe, info, total, epoch):
    if not (info.is_main and recipe.run.progress and total):
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=f"epoch {epoch + 1}/{recipe.optim.epochs}", unit="step", leave=False)


def _log_scalars(writer, row, optimizer, step):
    if writer is None:
        return
    for key, value in row.items():
        if key not in ("step", "epoch"):
            writer.add_scalar(f"loss/{key}" if "/" in key or key == "total" else key, value, step)
    for group in optimizer.param_groups:
        writer.add_scalar(f"lr/{group['name']}", group["lr"], step)
