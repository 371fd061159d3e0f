"""Gradients of the first optimizer step of a recipe, as the trainer computes them (DDP under
torchrun: the gradients after DDP's all-reduce, i.e. averaged over ranks). Rank 0 saves them.

    python -m torch.distributed.run --standalone --nproc_per_node=2 ddp_gradients.py RECIPE OUT [KEY=VALUE ...]
    python ddp_gradients.py RECIPE OUT [KEY=VALUE ...]                  # one process
"""
import sys

import torch

from training.actor import FCOTActor
from training.config import load_recipe
from training.data.dataset import SampleDataset, collate, load_sources
from training.distributed import RankBatches, setup, teardown
from training.trainer import _set_modes, build_training_model, set_trainable


def main(recipe_path, out, overrides):
    recipe = load_recipe(recipe_path, overrides)
    info = setup("cpu")
    torch.manual_seed(recipe.run.seed)
    model = build_training_model(recipe)
    set_trainable(model, recipe.model.train)
    actor = FCOTActor(model, recipe.model, recipe.loss)
    runner = actor
    if info.distributed:
        runner = torch.nn.parallel.DistributedDataParallel(actor)
    _set_modes(model, recipe.model.freeze_bn)
    dataset = SampleDataset(load_sources(recipe.data), recipe.data, model.config.crop_size, recipe.run.seed)
    indices = next(iter(RankBatches(recipe.data.samples_per_epoch, recipe.run.batch_size, info)))
    loss, _ = runner(collate([dataset[i] for i in indices]))
    loss.backward()
    if info.is_main:
        torch.save({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}, out)
    teardown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
