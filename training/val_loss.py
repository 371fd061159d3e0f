r"""The training loss of models on samples of the validation videos (the recipe's sources with
split "val"): a smooth measure of how well the offline-trained parts generalise to unseen videos,
beside the tracking benchmark (python -m training.validate), whose per-sequence results jump.

    python -m training.val_loss --config training/configs/fcot_lite_cpu.yaml --samples 64 \
        --weights none runs/x/checkpoint_ep0001.pt ...        # "none": the recipe's initial model
"""
import argparse
import dataclasses
import sys

import torch

from training.actor import FCOTActor
from training.config import load_recipe, resolve_path
from training.data.dataset import SampleDataset, collate, load_sources
from training.trainer import build_training_model


def validation_losses(recipe, weights, samples: int, seed: int = 1234, batch: int = 4):
    """{name: mean over the samples} of every logged loss term for the model of ``weights``."""
    data = dataclasses.replace(recipe.data, sources=tuple(dataclasses.replace(s, split="val")
                                                          for s in recipe.data.sources))
    from fcot_ros.assembly import load_model
    torch.manual_seed(recipe.run.seed)
    model = (build_training_model(recipe) if weights in (None, "none")
             else load_model(recipe.model.name, resolve_path(weights)))
    model.eval()
    dataset = SampleDataset(load_sources(data), dataclasses.replace(data, samples_per_epoch=samples),
                            model.config.crop_size, seed)
    actor = FCOTActor(model, recipe.model, recipe.loss)
    totals = {}
    with torch.no_grad():
        for start in range(0, samples, batch):
            _, stats = actor(collate([dataset[i] for i in range(start, min(start + batch, samples))]))
            for k, v in stats.items():
                totals[k] = totals.get(k, 0.0) + float(v) * (min(start + batch, samples) - start)
    return {k: v / samples for k, v in totals.items()}


def main(argv=None) -> int:
    """Command line: print a Markdown table of validation losses per weights file; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m training.val_loss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--weights", nargs="+", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    recipe = load_recipe(args.config, args.overrides)
    rows = {w: validation_losses(recipe, w, args.samples) for w in args.weights}
    keys = [k for k in next(iter(rows.values())) if k.endswith(("iter0", "total")) or k.split("iter")[-1] in ("1", "5")]
    print("| weights | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for w, r in rows.items():
        print(f"| {w} | " + " | ".join(f"{r[k]:.4f}" for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
