"""One entry point for both weight formats: ours (``fcot_ros/1``) and the authors' ``fcot.pth``.

Still pure dict handling: the model is only duck-typed (``state_dict()``, ``load_state_dict()``,
``config.name``, ``config.norm_scale_coef``, ``reg_optimizer.step_rule``, ``describe()``); nothing
here imports the model code.
"""
import logging
import os

from fcot_ros.checkpoints.authors_import import (AUTHORS_REG_STEP_RULE, _read_checkpoint,
                                                 constructor_kwds, import_from_checkpoint_dict)
from fcot_ros.checkpoints.native import load_checkpoint, save_checkpoint
from fcot_ros.checkpoints.validation import check_against_shapes
from fcot_ros.errors import CheckpointError

log = logging.getLogger("fcot_ros")

AUTHORS_MODEL = "fcot_r50"  # the only network the authors' checkpoint fits


def _open(path):
    """Read ``path`` once: ``("fcot_ros", (state_dict, meta))`` or ``("authors", (ckpt, stubbed))``.

    Ours is tried first. Raises CheckpointError if the file is missing or is neither.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        return "fcot_ros", load_checkpoint(path)
    except CheckpointError as ours:
        try:
            return "authors", _read_checkpoint(path)
        except CheckpointError as theirs:
            raise CheckpointError(f"{path} is neither an fcot_ros checkpoint ({ours}) nor the authors' "
                                  f"FCOT checkpoint ({theirs})") from theirs


def detect_format(path):
    """``"fcot_ros"`` or ``"authors"`` for the checkpoint at ``path`` (ours is tried first).

    Raises CheckpointError if the file is missing or is neither (truncated, corrupt, foreign).
    """
    return _open(path)[0]


def _weights_from(fmt, payload, expected_shapes, source):
    if fmt == "authors":
        ckpt, stubbed = payload
        return import_from_checkpoint_dict(ckpt, expected_shapes, source=source, stubbed=stubbed)
    state_dict, meta = payload
    check_against_shapes(state_dict, expected_shapes, source=source)
    return state_dict, {"format": "fcot_ros", "meta": meta, "model": meta["model"]}


def load_weights(path, expected_shapes):
    """``(state_dict, info)`` from either format, checked against ``expected_shapes`` ({key: shape}).

    info["format"] is "fcot_ros" or "authors"; for ours info also holds the file's ``meta`` and
    ``model``; for the authors' file see :func:`~fcot_ros.checkpoints.import_authors_checkpoint`.
    """
    fmt, payload = _open(path)
    return _weights_from(fmt, payload, expected_shapes, os.fspath(path))


def model_overrides(path):
    """``(model_name, config_overrides)`` to build the network a checkpoint was made for.

    The authors' file gives ("fcot_r50", {"norm_scale_coef": <their value>}) (1.5 for the released
    stage-3 model, while our fcot_r50 default is 2.0); ours gives (meta["model"], meta["config"]
    without its name). Pass the overrides to ``build_model(name, imagenet_backbone=False, **overrides)``.
    """
    fmt, payload = _open(path)
    if fmt == "authors":
        kwds = constructor_kwds(payload[0])
        overrides = {"norm_scale_coef": float(kwds["norm_scale_coef"])} if "norm_scale_coef" in kwds else {}
        return AUTHORS_MODEL, overrides
    meta = payload[1]
    config = dict(meta.get("config") or {})
    config.pop("name", None)
    return meta["model"], config


def load_into_model(net, path):
    """Load ``path`` (either format) into ``net`` with strict=True; returns the info dict.

    Refuses (CheckpointError) a checkpoint made for another model, and an authors' checkpoint whose
    ``norm_scale_coef`` differs from the model's (it is not a tensor, so it would silently change the
    72 classifier features): build the model with :func:`model_overrides` first. Warns if the model's
    regression step rule is not the one the checkpoint was trained with.
    """
    path = os.fspath(path)
    config = getattr(net, "config", None)
    name = getattr(config, "name", None)
    fmt, payload = _open(path)
    if fmt == "authors" and name not in (None, AUTHORS_MODEL):
        raise CheckpointError(f"{path} is the authors' FCOT checkpoint, which fits model "
                              f"{AUTHORS_MODEL!r}, not {name!r}")
    if fmt == "fcot_ros" and name is not None and payload[1]["model"] != name:
        raise CheckpointError(f"{path} holds weights for model {payload[1]['model']!r}, not {name!r}")
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    state_dict, info = _weights_from(fmt, payload, expected, path)
    if fmt == "authors":
        theirs = info.get("norm_scale_coef")
        ours = getattr(config, "norm_scale_coef", None)
        if theirs is not None and ours is not None and float(theirs) != float(ours):
            raise CheckpointError(
                f"{path} was trained with norm_scale_coef={theirs} but the model was built with {ours}; "
                f"build it with build_model({AUTHORS_MODEL!r}, imagenet_backbone=False, "
                f"norm_scale_coef={theirs}) (see fcot_ros.checkpoints.model_overrides)")
        wanted_rule = AUTHORS_REG_STEP_RULE
    else:
        wanted_rule = ((info["meta"].get("optimizer_init") or {}).get("reg") or {}).get("step_rule")
    rule = getattr(getattr(net, "reg_optimizer", None), "step_rule", None)
    if wanted_rule is not None and rule is not None and rule != wanted_rule:
        log.warning("fcot_ros: %s expects regression step_rule %r, the model uses %r",
                    path, wanted_rule, rule)
    net.load_state_dict(state_dict, strict=True)
    return info


def save_model(path, net, **extra_meta):
    """Save ``net`` in our format with meta {model, config, optimizer_init (from describe()), **extra_meta}."""
    describe = getattr(net, "describe", None)
    meta = dict(describe()) if callable(describe) else {}
    meta["model"] = getattr(getattr(net, "config", None), "name", None) or extra_meta.get("model")
    meta.update(extra_meta)
    save_checkpoint(path, net.state_dict(), meta)
