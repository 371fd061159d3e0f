"""Building an FCOTModel by name, from a checkpoint or from the built-in weights.

A checkpoint rebuilds what it saved: the network widths and every optimizer setting come from the
file (models.config), and a setting the caller asks for explicitly that contradicts the file is
refused with a message naming the field.
"""
import logging

import torch

from fcot_ros.assembly.registry import model_spec
from fcot_ros.errors import BackendError, CheckpointError, ConfigurationError
from fcot_ros.models.config import SETTINGS_FREE_OF_WEIGHTS, ConfigError, config_to_dict, get_config
from fcot_ros.models.fcot_model import FCOTModel

log = logging.getLogger(__name__)


def resolve_device(device):
    """"cuda" when a GPU is visible and ``device`` is None / "auto", else ``device`` (checked)."""
    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} requested but no CUDA GPU is available")
    if not (str(device) == "cpu" or str(device).startswith("cuda")):
        raise ConfigurationError(f"device must be 'cpu', 'cuda[:N]' or empty (automatic), not {device!r}")
    return str(device)


def _config(name, settings, where):
    try:
        return get_config(name, **settings)
    except ConfigError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc


def load_model(model: str, weights=None, **config) -> FCOTModel:
    """FCOTModel ``model`` in eval mode, with ``weights`` (ours or the authors' fcot.pth) or built in.

    config: explicit model settings (NetworkConfig fields; cls18 / cls72 / reg as partial dicts,
    e.g. ``reg={"step_rule": "masked"}``). Without weights they override the model's defaults; with
    weights the checkpoint's settings are used and any explicit one that contradicts them is refused.
    """
    from fcot_ros.checkpoints import config_conflicts, describe_checkpoint, load_into_model
    spec = model_spec(model)
    if spec.kind != "fcot":
        raise ConfigurationError(f"{model} is not an FCOT model (no network to load)")
    if weights is None:
        if spec.needs_weights:
            raise CheckpointError(f"{model} needs weights: pass weights='path/to/fcot.pth' (the authors' released "
                                  "checkpoint) or one of ours; none can be downloaded automatically")
        return FCOTModel(_config(model, config, model), imagenet_backbone=True).eval()
    described = describe_checkpoint(weights)
    saved_model, saved = described["model"], described["settings"]
    if saved_model != model:
        raise CheckpointError(f"{weights} holds a {saved_model} checkpoint, not {model}")
    saved_config = _config(model, saved, str(weights))
    if config:
        requested = _config(model, {**saved, **_merged(saved, config)}, "requested settings")
        conflicts = config_conflicts(config_to_dict(saved_config), config_to_dict(requested), other="requested")
        if conflicts:
            raise CheckpointError(f"{weights} was saved with other settings than requested: " + "; ".join(conflicts))
    # a file without the backbone (a frozen ImageNet one) takes it from the installed weights
    free = {k: config[k] for k in SETTINGS_FREE_OF_WEIGHTS if k in config}
    if free:                                   # e.g. another crop size: the weights fit any
        saved_config = _config(model, {**saved, **free}, "requested settings")
    imagenet = "backbone." in described["omitted_prefixes"]
    if imagenet and saved_config.backbone != "efficientnet_lite0":
        raise CheckpointError(f"{weights} leaves out the {saved_config.backbone} backbone, for which no weights "
                              "install with this package")
    net = FCOTModel(saved_config, imagenet_backbone=imagenet)
    load_into_model(net, weights)
    log.info("model %s from %s", model, weights)
    return net.eval()


def _merged(saved, config):
    """``config`` with nested partial dicts completed from ``saved`` (so they replace, not reset)."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(saved.get(key), dict):
            out[key] = {**saved[key], **value}
        else:
            out[key] = value
    return out
