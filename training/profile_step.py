r"""Where a training step spends its time, and what the CPU levers buy: the recipe's step split into
data, backbone, heads + filter fits + losses (forward) and backward + optimizer, median over steps,
for variants of the recipe run side by side in this process (interleaved step by step, so that other
load hits every variant alike).

    python -m training.profile_step --config training/configs/fcot_lite_cpu.yaml --steps 6 \
        --variants recipe,backbone_grad,deformable,channels_last

Variants: recipe (as configured), backbone_grad (the backbone trained too: no no_grad shortcut),
deformable (deformable DCN offsets, grid_sample, instead of rigid ones), channels_last (the
feature network in channels-last memory format). Threads: --threads N (torch intra-op threads).
Prints a Markdown table of median ms per stage and samples/s, and the ratio to the first variant.
"""
import argparse
import statistics
import sys
import time

import torch

from training.actor import FCOTActor
from training.config import load_recipe
from training.data.dataset import SampleDataset, collate, load_sources
from training.trainer import _set_modes, build_optimizer, build_training_model, set_trainable

VARIANTS = ("recipe", "backbone_grad", "deformable", "channels_last")


def _variant(recipe, name):
    import dataclasses
    model_cfg = recipe.model
    if name == "backbone_grad":
        model_cfg = dataclasses.replace(model_cfg, train=tuple(model_cfg.train) + ("backbone",))
        groups = recipe.optim.param_groups + (type(recipe.optim.param_groups[0])(modules=("backbone",), lr=2e-5),)
        recipe = dataclasses.replace(recipe, optim=dataclasses.replace(recipe.optim, param_groups=groups))
    if name == "deformable":
        model_cfg = dataclasses.replace(model_cfg, settings={**model_cfg.settings, "deformable": True})
    recipe = dataclasses.replace(recipe, model=model_cfg)
    torch.manual_seed(0)
    model = build_training_model(recipe)
    set_trainable(model, recipe.model.train)
    if name == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    optimizer, _ = build_optimizer(model, recipe)
    _set_modes(model, recipe.model.freeze_bn)
    return recipe, model, optimizer, FCOTActor(model, recipe.model, recipe.loss)


def _timed_step(recipe, model, optimizer, actor, dataset, index, batch_size):
    marks = [time.perf_counter()]
    batch = collate([dataset[index + i] for i in range(batch_size)])
    marks.append(time.perf_counter())
    mc = recipe.model
    train = model.backbone_features(batch["train_images"].flatten(0, 1))
    test = model.backbone_features(batch["test_images"].flatten(0, 1))
    marks.append(time.perf_counter())
    out = model.forward_from_backbone(train, batch["train_boxes"], test, mc.num_iter, mc.reg_num_iter, mc.branches,
                                      mc.reg_solver)
    loss = actor.losses(out, batch["test_boxes"])[0]
    marks.append(time.perf_counter())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    marks.append(time.perf_counter())
    return [1000 * (b - a) for a, b in zip(marks, marks[1:])]


def main(argv=None) -> int:
    """Command line: time the step stages of each variant and print a Markdown table; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m training.profile_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--variants", default="recipe")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = load_recipe(args.config, args.overrides)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {VARIANTS}")
    runs = {n: _variant(recipe, n) for n in names}
    dataset = SampleDataset(load_sources(recipe.data), recipe.data, runs[names[0]][1].config.crop_size,
                            recipe.run.seed)
    b = recipe.run.batch_size
    times = {n: [] for n in names}
    for step in range(args.warmup + args.steps):
        for n in names:
            stage_ms = _timed_step(*runs[n], dataset, step * b, b)
            if step >= args.warmup:
                times[n].append(stage_ms)
    stages = ("data", "backbone", "heads + fits + losses", "backward + optimizer")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {b} sequences "
          f"(x {recipe.data.num_train_frames}+{recipe.data.num_test_frames} crops of "
          f"{runs[names[0]][1].config.crop_size} px), median of {args.steps} steps")
    print("| variant | " + " | ".join(f"{s} ms" for s in stages) + " | step ms | samples/s | vs first |")
    print("|---|" + "---:|" * (len(stages) + 3))
    first = None
    for n in names:
        per_stage = [statistics.median(t[i] for t in times[n]) for i in range(len(stages))]
        step_ms = statistics.median(sum(t) for t in times[n])
        rate = b / (step_ms / 1000)
        first = first or rate
        print(f"| {n} | " + " | ".join(f"{v:.0f}" for v in per_stage) + f" | {step_ms:.0f} | {rate:.2f} | "
              f"{rate / first:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
