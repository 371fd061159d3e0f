"""The node's tracker from its parameters: built once at start-up, behind the image-size-change
policy, with torch's thread count set when the tracker's step runs torch work, and warmed up.

Weights that are missing or corrupt (the shipped file included) do not stop the node: it stays up,
says why on every track/init and in /diagnostics (ERROR), and tracks nothing.
"""
import time

import numpy as np

from fcot_ros import build_tracker
from fcot_ros.contract.size_policy import SizeChangePolicy
from fcot_ros.errors import CheckpointError, FCOTError


def make_tracker(params: dict, logger):
    """(SizeChangePolicy around the tracker, None) or (None, why no tracker could be built)."""
    try:
        tracker = build_tracker(model=params["model"], backend=params["backend"], weights=params["weights"] or None,
                                preset=params["preset"], device=params["device"] or None)
    except CheckpointError as e:
        unavailable = f"no tracker: {e}"
        logger.error(unavailable)
        return None, unavailable
    if params["torch_threads"] > 0 and tracker.uses_torch_threads:
        import torch
        torch.set_num_threads(params["torch_threads"])
    if params["image_size_change"] == "rescale" and not tracker.can_rescale:
        logger.warning(f"image_size_change=rescale needs a tracker that can rescale: {tracker.model_name} stops "
                       "tracking (state LOST) on an image size change")
    policy = SizeChangePolicy(tracker, params["image_size_change"])
    if params["warmup"]:
        warm_up(policy, logger)
    return policy, None


def warm_up(tracker, logger):
    """One initialize and two steps on a synthetic 320x240 image, so that the first real frame is
    not slowed by lazy initialisation; a failure is logged and ignored."""
    image = np.random.default_rng(0).integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    t0 = time.perf_counter()
    try:
        tracker.initialize(image, (130.0, 90.0, 60.0, 60.0))
        tracker.track(image)
        tracker.track(image)
    except FCOTError as e:
        logger.warning(f"warm-up failed (continuing): {e}")
        return
    logger.info(f"warm-up done in {time.perf_counter() - t0:.2f} s")
