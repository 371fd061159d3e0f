"""One entry point for both weight formats: ours (``fcot_ros/2``, ``fcot_ros/1``) and the authors' ``fcot.pth``.

Still pure dict handling: the model is only duck-typed (``state_dict()``, ``load_state_dict()``,
``config.name``, ``describe()`` -> {"config": nested dict}); nothing here imports the model code.

What a checkpoint was made for is ``model_overrides(path)`` -> (model name, config settings): ours
store the model's whole config; the authors' give the settings their constructor keywords fix (see
authors_import.config_from_constructor_kwds), the regression step rule they trained with included.
A model is rebuilt from those settings (assembly.load_model); ``load_into_model`` refuses a model
whose config contradicts them, naming every field that differs.
"""
import os

from fcot_ros.checkpoints.authors_import import _read_checkpoint, import_from_checkpoint_dict
from fcot_ros.checkpoints.native import load_checkpoint, save_checkpoint
from fcot_ros.checkpoints.validation import check_against_shapes
from fcot_ros.errors import CheckpointError

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
    omitted = tuple(meta.get("omitted_prefixes") or ())
    if omitted:          # those tensors come from elsewhere (e.g. the backbone's ImageNet weights)
        expected_shapes = {k: v for k, v in expected_shapes.items() if not k.startswith(omitted)}
    check_against_shapes(state_dict, expected_shapes, source=source)
    return state_dict, {"format": "fcot_ros", "meta": meta, "model": meta["model"],
                        "config": _our_config(meta), "omitted_prefixes": omitted}


def _our_config(meta):
    config = dict(meta.get("config") or {})
    config.pop("name", None)
    return config


def load_weights(path, expected_shapes):
    """``(state_dict, info)`` from either format, checked against ``expected_shapes`` ({key: shape}).

    info["format"] is "fcot_ros" or "authors"; info["config"] the settings the checkpoint fixes; for
    ours info also holds the file's ``meta`` and ``model``; for the authors' file see
    :func:`~fcot_ros.checkpoints.import_authors_checkpoint`.
    """
    fmt, payload = _open(path)
    return _weights_from(fmt, payload, expected_shapes, os.fspath(path))


def _settings_of(fmt, payload, source):
    """The config settings a checkpoint read by _open fixes (see model_overrides)."""
    if fmt == "authors":
        from fcot_ros.checkpoints.authors_import import config_from_constructor_kwds, constructor_kwds
        return config_from_constructor_kwds(constructor_kwds(payload[0]), source)
    return _our_config(payload[1])


def model_overrides(path):
    """``(model_name, config_settings)`` of the model a checkpoint was made for.

    Ours: (meta["model"], meta["config"] without its name): the whole config. The authors' file:
    ("fcot_r50", settings from their constructor keywords, e.g. norm_scale_coef 1.5 of the released
    stage-3 model, and reg step_rule "authors"). Pass them to ``models.get_config(name, **settings)``.
    """
    fmt, payload = _open(path)
    return (AUTHORS_MODEL if fmt == "authors" else payload[1]["model"]), _settings_of(fmt, payload, os.fspath(path))


def describe_checkpoint(path) -> dict:
    """{format, model, settings (see model_overrides), omitted_prefixes} of a checkpoint."""
    fmt, payload = _open(path)
    omitted = () if fmt == "authors" else tuple(payload[1].get("omitted_prefixes") or ())
    return {"format": fmt, "model": AUTHORS_MODEL if fmt == "authors" else payload[1]["model"],
            "settings": _settings_of(fmt, payload, os.fspath(path)), "omitted_prefixes": omitted}


def config_conflicts(saved: dict, actual: dict, prefix="", other="model"):
    """["field: checkpoint X, <other> Y", ...] for every setting of ``saved`` (nested, possibly partial)
    that ``actual`` (a model's whole config dict) holds with another value or lacks; the settings no
    checkpoint fixes (models.config.SETTINGS_FREE_OF_WEIGHTS: the crop size) never conflict."""
    from fcot_ros.models.config import SETTINGS_FREE_OF_WEIGHTS
    out = []
    for key, value in saved.items():
        name = f"{prefix}{key}"
        if not prefix and key in SETTINGS_FREE_OF_WEIGHTS:
            continue
        if key not in actual:
            out.append(f"{name}: checkpoint {value!r}, the {other} has no such setting")
        elif isinstance(value, dict) and isinstance(actual[key], dict):
            out.extend(config_conflicts(value, actual[key], prefix=f"{name}.", other=other))
        else:
            a, b = value, actual[key]
            if isinstance(a, list):
                a = tuple(a)
            if isinstance(b, list):
                b = tuple(b)
            if a != b:
                out.append(f"{name}: checkpoint {value!r}, {other} {actual[key]!r}")
    return out


def load_into_model(net, path):
    """Load ``path`` (either format) into ``net`` with strict=True; returns the info dict.

    Refuses (CheckpointError) a checkpoint made for another model, and a model whose config differs
    from the settings the checkpoint fixes (each field named): non-tensor settings such as the 72
    classifier's norm_scale_coef or the regression step rule would otherwise silently change what the
    weights compute. Build the model from :func:`model_overrides` (assembly.load_model does).
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
    describe = getattr(net, "describe", None)
    if callable(describe):     # settings first: they explain a shape mismatch better than the shapes
        conflicts = config_conflicts(_settings_of(fmt, payload, path), dict(describe().get("config") or {}))
        if conflicts:
            raise CheckpointError(f"{path} was saved from a model with other settings than this one: "
                                  + "; ".join(conflicts) + " (build the model from the checkpoint: "
                                  "fcot_ros.assembly.load_model)")
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    state_dict, info = _weights_from(fmt, payload, expected, path)
    if info.get("omitted_prefixes"):
        missing, unexpected = net.load_state_dict(state_dict, strict=False)
        assert not unexpected and all(k.startswith(info["omitted_prefixes"]) for k in missing)
    else:
        net.load_state_dict(state_dict, strict=True)
    return info


def save_model(path, net, omit_prefixes=(), **extra_meta):
    """Save ``net`` in our format with meta {model, config (from describe()), **extra_meta}.

    omit_prefixes: state-dict prefixes left out of the file (meta["omitted_prefixes"]), for tensors
    the loader takes from elsewhere, e.g. ("backbone.",) for a frozen backbone whose ImageNet
    weights install with the package; loading then requires every other tensor and no more.
    """
    describe = getattr(net, "describe", None)
    meta = dict(describe()) if callable(describe) else {}
    meta["model"] = getattr(getattr(net, "config", None), "name", None) or extra_meta.get("model")
    meta.update(extra_meta)
    omit = tuple(omit_prefixes)
    if omit:
        meta["omitted_prefixes"] = list(omit)
    save_checkpoint(path, {k: v for k, v in net.state_dict().items() if not k.startswith(omit)}, meta)
