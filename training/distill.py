r"""Distil fcot_lite into its separable form: the per-frame heads' 3x3 layers become rank-r separable
convolutions (models.separable; ~1/8 of the multiply-adds at rank 1), started at the truncated SVD of
the trained full layers and trained to give the full network's maps on training crops.

    python -m training.distill --rank 1 --minutes 60 --out runs/distill_r1 \
        [--teacher fcot_ros/data/weights/fcot_lite_full.pt] [--recipe training/configs/fcot_lite_cpu.yaml] \
        [--crop-size 224] [--search-area-factor 3.5] [--batch 2] [--lr 1e-3] [--resume runs/distill_r1/state.pt]

Teacher: a full network (separable_rank 0), frozen: fcot_lite_full.pt of the package unless --teacher
(the shipped fcot_lite.pt is itself the separable result of this command and a fine-tuning). Student: the same network
with the separable heads (everything else copied and frozen: backbone, laterals, cls18 head,
initializers, RMG, the online optimizers' parameters). What trains: decoder.smooth_72, the cls72
head's body, both regression heads and their merge (layers and GroupNorm affines).

Data: the recipe's sources and split (training videos only, never a validation video), sampled as
training samples (3 train + 3 test frames, jittered, the recipe's augmentation), cropped at the
tracker's crop (224 px of 3.5 target sizes: the ``default`` preset); every crop of a sample is used.
Loss per crop batch: sum over maps of weight * ||student - teacher||^2 / ||teacher||^2, for cls72 (the
classifier's L2-normalised features) and reg (the regression features), weight 1, the maps the
tracker reads every frame, and p72 (the decoder's stride-4 output), weight 0.1: the default preset
solves the regression filter exactly, so p72 reaches the tracker only through the two heads, which
train with it (the RMG initializer, which also reads p72, is not used by that preset). Adam at
--lr, then lr / 10 for the last quarter of the time budget.

Writes to --out: ``student.pt`` (our fcot_ros/2 format, without the frozen backbone, provenance in
meta: teacher hash, rank, steps, crops, minutes, losses), ``state.pt`` (student + Adam state + step +
RNG: ``--resume`` continues exactly), ``log.tsv`` (step, crops, seconds, the three losses, and the
relative errors on a fixed held-out set of crops of other samples, before and while training).
"""
import argparse
import csv
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fcot_ros.errors import FCOTError

log = logging.getLogger(__name__)

MAPS = ("p72", "cls72", "reg")
LOSS_WEIGHTS = {"p72": 0.1, "cls72": 1.0, "reg": 1.0}
TRAINED = ("decoder.smooth_72", "cls72.head.body", "reg.head")
DEFAULT_RECIPE = "training/configs/fcot_lite_cpu.yaml"


def maps_of(model, images):
    """{"p72", "cls72", "reg"} maps of (B, 3, S, S) BGR 0..255 crops: p72 (B, D, S/4, S/4) decoder
    output, cls72 (B, C72, S/4, S/4) classifier features, reg (B, CR, S/4, S/4) regression features."""
    feats = model.backbone_features(images)
    _, p36, p72 = model.pyramid(feats)
    return {"p72": p72, "cls72": model.cls72.head(p72), "reg": model.reg.head(p36, p72)}


def relative_errors(student_maps, teacher_maps):
    """{map: ||s - t||^2 / ||t||^2} (differentiable tensors) over the whole batch."""
    return {k: ((student_maps[k] - teacher_maps[k]) ** 2).sum() / (teacher_maps[k] ** 2).sum().clamp_min(1e-12)
            for k in MAPS}


class CropStream:
    """Training crops from the recipe's sources: sample i (seed, i) -> its 6 crops (N, 3, S, S) float32
    BGR 0..255 (3 train + 3 test frames, jittered and augmented as in training)."""

    def __init__(self, recipe, crop_size: int, search_area_factor: float, seed: int, split: str = "train"):
        from dataclasses import replace

        from training.data.dataset import SampleDataset, load_sources
        data = replace(recipe.data, search_area_factor=float(search_area_factor),
                       sources=tuple(replace(s, split=split) for s in recipe.data.sources))
        self.dataset = SampleDataset(load_sources(data), data, crop_size, seed)

    def sample(self, index: int) -> torch.Tensor:
        """The 6 crops of sample ``index``: (6, 3, S, S)."""
        item = self.dataset[index]
        return torch.cat([item["train_images"], item["test_images"]], dim=0)

    def batch(self, first: int, count: int) -> torch.Tensor:
        """Crops of samples first .. first+count-1, concatenated: (6 count, 3, S, S)."""
        return torch.cat([self.sample(first + k) for k in range(count)], dim=0)


def held_out_errors(student, teacher, crops, chunk: int = 12) -> dict:
    """{map: relative error} of ``student`` against ``teacher`` on fixed ``crops`` (N, 3, S, S)."""
    num = {k: 0.0 for k in MAPS}
    den = {k: 0.0 for k in MAPS}
    with torch.no_grad():
        for i in range(0, crops.shape[0], chunk):
            s, t = maps_of(student, crops[i:i + chunk]), maps_of(teacher, crops[i:i + chunk])
            for k in MAPS:
                num[k] += float(((s[k] - t[k]) ** 2).sum())
                den[k] += float((t[k] ** 2).sum())
    return {k: num[k] / max(den[k], 1e-12) for k in MAPS}


def distill(out_dir, rank: int, minutes: float, teacher_weights=None, recipe_path=DEFAULT_RECIPE, crop_size=224,
            search_area_factor=3.5, batch=2, lr=1e-3, seed=0, threads=2, held_out_samples=8, resume=None,
            max_steps=None, log_every=50) -> dict:
    """Run the distillation (module docstring); returns {"student": path, "steps", "crops", "minutes",
    "held_out_before", "held_out_after"}."""
    from fcot_ros.assembly import load_model
    from fcot_ros.assembly.registry import FULL_WEIGHTS, WEIGHTS_DIR
    from fcot_ros.checkpoints import save_checkpoint, save_model
    from fcot_ros.checkpoints.native import load_checkpoint
    from fcot_ros.models.separable_conversion import to_separable
    from fcot_ros.runtime.digests import file_sha256
    from training.checkpoint import rng_state, set_rng_state
    from training.config import load_recipe, resolve_path
    from training.trainer import set_trainable

    torch.set_num_threads(int(threads))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    teacher_path = str(teacher_weights or WEIGHTS_DIR / FULL_WEIGHTS)
    teacher = load_model("fcot_lite", teacher_path, crop_size=crop_size).eval()
    if teacher.config.separable_rank:
        raise FCOTError(f"the teacher {teacher_path} is already separable: distil from a full network")
    student, svd_errors = to_separable(teacher, rank)
    trained = set_trainable(student, TRAINED)
    optimizer = torch.optim.Adam([p for p in student.parameters() if p.requires_grad], lr=lr)
    recipe = load_recipe(resolve_path(recipe_path))
    stream = CropStream(recipe, crop_size, search_area_factor, seed)
    fixed = CropStream(recipe, crop_size, search_area_factor, seed + 1_000_003).batch(0, held_out_samples)
    before = held_out_errors(student, teacher, fixed)          # the SVD start, before any resumed state
    step, crops_seen, seconds_before = 0, 0, 0.0
    if resume:
        state, meta, extra = load_checkpoint(resume, with_extra=True)
        if int(meta.get("rank", -1)) != int(rank):
            raise FCOTError(f"{resume} was a rank-{meta.get('rank')} run, not rank {rank}")
        student.load_state_dict(state, strict=True)
        optimizer.load_state_dict(extra["optimizer"])
        step, crops_seen, seconds_before = int(extra["step"]), int(extra["crops"]), float(extra["seconds"])
        set_rng_state(extra["rng"])
    log_path = out / "log.tsv"
    new_log = not (resume and log_path.exists())
    with open(log_path, "w" if new_log else "a", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        if new_log:
            writer.writerow(["step", "crops", "seconds", *[f"train_{k}" for k in MAPS],
                             *[f"held_out_{k}" for k in MAPS]])
            writer.writerow([0, 0, 0.0, "", "", "", *[f"{before[k]:.6f}" for k in MAPS]])
        start = time.monotonic()
        deadline = start + 60.0 * minutes
        student.train()
        running = {k: [] for k in MAPS}
        budget = 60.0 * minutes + seconds_before
        while time.monotonic() < deadline and (max_steps is None or step < max_steps):
            elapsed = seconds_before + time.monotonic() - start
            for group in optimizer.param_groups:
                group["lr"] = lr if elapsed < 0.75 * budget else lr / 10.0
            images = stream.batch(step * batch, batch)
            with torch.no_grad():
                target = maps_of(teacher, images)
            losses = relative_errors(maps_of(student, images), target)
            loss = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            crops_seen += images.shape[0]
            for k in MAPS:
                running[k].append(float(losses[k].detach()))
            if step % log_every == 0 or time.monotonic() >= deadline:
                held = held_out_errors(student.eval(), teacher, fixed)
                student.train()
                seconds = seconds_before + time.monotonic() - start
                writer.writerow([step, crops_seen, f"{seconds:.1f}", *[f"{np.mean(running[k]):.6f}" for k in MAPS],
                                 *[f"{held[k]:.6f}" for k in MAPS]])
                f.flush()
                log.info("step %d, %d crops, %.0f s: train %s, held-out %s", step, crops_seen, seconds,
                         {k: round(float(np.mean(running[k])), 5) for k in MAPS},
                         {k: round(held[k], 5) for k in MAPS})
                running = {k: [] for k in MAPS}
    student.eval()
    seconds = seconds_before + time.monotonic() - start
    after = held_out_errors(student, teacher, fixed)
    info = {"teacher": Path(teacher_path).name, "teacher_sha256": file_sha256(teacher_path), "rank": int(rank),
            "steps": step, "crops": crops_seen, "minutes": round(seconds / 60.0, 2), "crop_size": crop_size,
            "search_area_factor": search_area_factor, "lr": lr, "batch_samples": batch, "recipe": str(recipe_path),
            "trained": list(TRAINED), "loss_weights": LOSS_WEIGHTS,
            "svd_kernel_errors": {k: round(v, 5) for k, v in svd_errors.items()},
            "held_out_before": before, "held_out_after": after}
    save_model(out / "student.pt", student, omit_prefixes=("backbone.",), distillation=info)
    save_checkpoint(out / "state.pt", student.state_dict(), {"model": "fcot_lite", "rank": int(rank),
                                                            **student.describe()},
                    extra={"optimizer": optimizer.state_dict(), "step": step, "crops": crops_seen,
                           "seconds": seconds, "rng": rng_state()})
    log.info("%d trained tensors; %d steps, %d crops in %.1f min; held-out %s -> %s", len(trained), step,
             crops_seen, seconds / 60.0, before, after)
    return {"student": out / "student.pt", "steps": step, "crops": crops_seen, "minutes": seconds / 60.0,
            "held_out_before": before, "held_out_after": after}


def main(argv=None) -> int:
    """Command line (module docstring); 0 on success, 2 on a refused input."""
    parser = argparse.ArgumentParser(prog="python -m training.distill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rank", type=int, default=1, help="rank of the separable 3x3 layers (1..9)")
    parser.add_argument("--minutes", type=float, required=True, help="training time budget")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--teacher", default=None,
                        help="full fcot_lite weights (default: the package's fcot_lite_full.pt)")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe whose data section gives the crops")
    parser.add_argument("--crop-size", type=int, default=224)
    parser.add_argument("--search-area-factor", type=float, default=3.5)
    parser.add_argument("--batch", type=int, default=2, help="samples per step (6 crops each)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--held-out-samples", type=int, default=8)
    parser.add_argument("--log-every", type=int, default=50, help="steps between log rows (held-out errors)")
    parser.add_argument("--resume", default=None, help="state.pt of an earlier run to continue")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        result = distill(args.out, args.rank, args.minutes, args.teacher, args.recipe, args.crop_size,
                         args.search_area_factor, args.batch, args.lr, args.seed, args.threads,
                         args.held_out_samples, args.resume, args.max_steps, args.log_every)
    except (FCOTError, ValueError) as exc:
        print(f"training.distill: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result['student']}: {result['steps']} steps, {result['crops']} crops, {result['minutes']:.1f} min; "
          f"held-out relative error {result['held_out_before']} -> {result['held_out_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
