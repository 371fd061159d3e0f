"""Training checkpoints: one file that is at once an ordinary fcot_ros/2 model checkpoint (it loads
straight into ``build_tracker(weights=...)``) and the complete state of the run (optimizer, scheduler,
epoch, step, RNG states, the resolved recipe) for an exact resume.

    checkpoint_last.pt       written every ``run.checkpoint_every`` epochs and at the end
    checkpoint_ep0005.pt     the state after epoch 5 (epochs counted from 1)
"""
import random
from pathlib import Path

import numpy as np
import torch

from fcot_ros.checkpoints import save_checkpoint
from fcot_ros.checkpoints.native import load_checkpoint
from fcot_ros.errors import CheckpointError
from training.config import recipe_to_dict


def rng_state() -> dict:
    """Every random generator a run touches: torch (CPU and CUDA), numpy's global, Python's."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                      "has_gauss": int(has_gauss), "gauss": float(gauss)},
            "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    """Restore the random generators from a ``rng_state()`` dict (CUDA only when a GPU is visible)."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_training_checkpoint(path, model, optimizer, scheduler, epoch: int, step: int, recipe, **info) -> Path:
    """Write the model (fcot_ros/2: meta model + config + training provenance) and the run's state.

    epoch: epochs completed; step: optimizer steps completed in all. info: more provenance for meta.
    """
    meta = dict(model.describe())
    meta["model"] = model.config.name
    meta["training"] = {"epoch": int(epoch), "step": int(step), "recipe": recipe_to_dict(recipe), **info}
    extra = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": int(epoch),
             "step": int(step), "rng": rng_state()}
    save_checkpoint(path, model.state_dict(), meta, extra=extra)
    return Path(path)


def load_training_checkpoint(path) -> dict:
    """{state_dict, meta, optimizer, scheduler, epoch, step, rng} of a training checkpoint.

    Raises CheckpointError for a file that is not one (e.g. a plain model checkpoint: it can start a
    run through ``model.init_weights``, but not resume one)."""
    state_dict, meta, extra = load_checkpoint(path, with_extra=True)
    if not extra or "optimizer" not in extra:
        raise CheckpointError(f"{path} holds model weights but no training state; use it as model.init_weights "
                              "to start a new run from it")
    return {"state_dict": state_dict, "meta": meta, **extra}
