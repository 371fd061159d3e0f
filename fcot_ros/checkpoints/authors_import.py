"""Import of the authors' released FCOT checkpoint (``fcot.pth`` / ``FCOTNet_epXXXX.pth.tar``).

Their trainer ``torch.save``s a dict {epoch, actor_type, net_type='FCOTNet', net (state dict),
net_info, constructor (NetConstructor), optimizer, stats, settings} in the legacy (non-zip) format,
with pickled classes from ``ltr.*`` / ``dlframework.*`` (reference notes, section 4). We read it
without their code (see :mod:`fcot_ros.checkpoints.stub_unpickler`), rename every tensor of
``ckpt['net']`` through :data:`AUTHORS_KEY_TABLE`, and refuse anything that does not land exactly on
the model's layout. Nothing here imports the model: the caller passes its key -> shape layout and
loads the returned state dict itself (strict).
"""
import os

from fcot_ros.checkpoints.stub_unpickler import torch_load_with_stubs
from fcot_ros.checkpoints.validation import check_against_shapes, format_keys
from fcot_ros.errors import CheckpointError

# Authors' key prefix -> our key prefix (None = dropped). A rule matches a key equal to the prefix or
# starting with "prefix."; the longest matching prefix wins and the rest of the key is kept as is
# (conv ``weight``/``bias``, BatchNorm buffers incl. ``num_batches_tracked``, DCN ``weight``, ``bias``,
# ``conv_offset_mask.weight``/``.bias``). Their nn.Sequential heads index 0 conv, 1 GroupNorm,
# 2 ReLU, 3 DCN, 4 GroupNorm, 5 ReLU, 6 DCN; ours name the parameterised ones.
AUTHORS_KEY_TABLE = (
    # --- ResNet-50 backbone (torchvision names on both sides) -------------------------------------
    ("feature_extractor.conv1",                          "features.backbone.conv1"),
    ("feature_extractor.bn1",                            "features.backbone.bn1"),
    ("feature_extractor.layer1",                         "features.backbone.layer1"),
    ("feature_extractor.layer2",                         "features.backbone.layer2"),
    ("feature_extractor.layer3",                         "features.backbone.layer3"),
    ("feature_extractor.layer4",                         None),  # never computed (forward stops at layer3)
    ("feature_extractor.fc",                             None),  # never computed
    # --- FPN decoder ------------------------------------------------------------------------------
    ("pyramid_first_conv.res_conv",                      "features.decoder.lateral_18"),
    ("pyramid_36.res_conv",                              "features.decoder.lateral_36"),
    ("pyramid_72.res_conv",                              "features.decoder.lateral_72"),
    ("pyramid_72.pyramid_conv",                          "features.decoder.smooth_72"),
    # --- classifier_18: feature head, filter initializer, DiMP optimizer --------------------------
    ("classifier_18.feature_extractor.0",                "features.cls18_head.conv"),
    ("classifier_18.filter_initializer.filter_conv",     "features.cls18_initializer.filter_conv"),
    ("classifier_18.filter_optimizer.log_step_length",   "cls18_optimizer.log_step_length"),
    ("classifier_18.filter_optimizer.filter_reg",        "cls18_optimizer.filter_reg"),
    ("classifier_18.filter_optimizer.label_map_predictor.weight",
     "cls18_optimizer.label_map_predictor.weight"),
    ("classifier_18.filter_optimizer.target_mask_predictor.0.weight",
     "cls18_optimizer.target_mask_predictor.weight"),
    ("classifier_18.filter_optimizer.spatial_weight_predictor.weight",
     "cls18_optimizer.spatial_weight_predictor.weight"),
    # --- classifier_72 ----------------------------------------------------------------------------
    ("classifier_72.feature_extractor.0",                "features.cls72_head.body.conv1"),
    ("classifier_72.feature_extractor.1",                "features.cls72_head.body.gn1"),
    ("classifier_72.feature_extractor.3",                "features.cls72_head.body.dcn1"),
    ("classifier_72.feature_extractor.4",                "features.cls72_head.body.gn2"),
    ("classifier_72.feature_extractor.6",                "features.cls72_head.body.dcn2"),
    ("classifier_72.filter_initializer.filter_conv",     "features.cls72_initializer.filter_conv"),
    ("classifier_72.filter_optimizer.log_step_length",   "cls72_optimizer.log_step_length"),
    ("classifier_72.filter_optimizer.filter_reg",        "cls72_optimizer.filter_reg"),
    ("classifier_72.filter_optimizer.label_map_predictor.weight",
     "cls72_optimizer.label_map_predictor.weight"),
    ("classifier_72.filter_optimizer.target_mask_predictor.0.weight",
     "cls72_optimizer.target_mask_predictor.weight"),
    ("classifier_72.filter_optimizer.spatial_weight_predictor.weight",
     "cls72_optimizer.spatial_weight_predictor.weight"),
    # --- regressor_72: regression feature heads (36 and 72) and their 1x1 merge -------------------
    ("regressor_72.reg_head_36.0",                       "features.reg_features.head_36.conv1"),
    ("regressor_72.reg_head_36.1",                       "features.reg_features.head_36.gn1"),
    ("regressor_72.reg_head_36.3",                       "features.reg_features.head_36.dcn1"),
    ("regressor_72.reg_head_36.4",                       "features.reg_features.head_36.gn2"),
    ("regressor_72.reg_head_36.6",                       "features.reg_features.head_36.dcn2"),
    ("regressor_72.reg_head_72.0",                       "features.reg_features.head_72.conv1"),
    ("regressor_72.reg_head_72.1",                       "features.reg_features.head_72.gn1"),
    ("regressor_72.reg_head_72.3",                       "features.reg_features.head_72.dcn1"),
    ("regressor_72.reg_head_72.4",                       "features.reg_features.head_72.gn2"),
    ("regressor_72.reg_head_72.6",                       "features.reg_features.head_72.dcn2"),
    ("regressor_72.reg_head_merge",                      "features.reg_features.merge"),
    # --- regressor_72: RMG initial-filter generator (36 and 72) and its merge ---------------------
    ("regressor_72.reg_initializer_36.0",                "features.rmg_initializer.head_36.conv1"),
    ("regressor_72.reg_initializer_36.1",                "features.rmg_initializer.head_36.gn1"),
    ("regressor_72.reg_initializer_36.3",                "features.rmg_initializer.head_36.dcn1"),
    ("regressor_72.reg_initializer_36.4",                "features.rmg_initializer.head_36.gn2"),
    ("regressor_72.reg_initializer_36.6",                "features.rmg_initializer.head_36.dcn2"),
    ("regressor_72.reg_initializer_72.0",                "features.rmg_initializer.head_72.conv1"),
    ("regressor_72.reg_initializer_72.1",                "features.rmg_initializer.head_72.gn1"),
    ("regressor_72.reg_initializer_72.3",                "features.rmg_initializer.head_72.dcn1"),
    ("regressor_72.reg_initializer_72.4",                "features.rmg_initializer.head_72.gn2"),
    ("regressor_72.reg_initializer_72.6",                "features.rmg_initializer.head_72.dcn2"),
    ("regressor_72.reg_initializer_merge",               "features.rmg_initializer.merge"),
    # --- regressor_72: regression optimizer (learned step length and regularisation) ------------
    ("regressor_72.filter_optimizer.log_step_length",    "reg_optimizer.log_step_length"),
    ("regressor_72.filter_optimizer.filter_reg",         "reg_optimizer.filter_reg"),
)

# The regression step rule the authors' weights were trained with (reference notes, section 8).
AUTHORS_REG_STEP_RULE = "authors"

_TABLE_BY_PREFIX = dict(AUTHORS_KEY_TABLE)


def map_authors_key(key):
    """Our key for the authors' ``key``; None if the table drops it. KeyError if no rule matches."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):  # longest prefix first
        prefix = ".".join(parts[:n])
        if prefix in _TABLE_BY_PREFIX:
            target = _TABLE_BY_PREFIX[prefix]
            if target is None:
                return None
            return ".".join([target] + parts[n:])
    raise KeyError(key)


def map_authors_state_dict(net, expected_shapes, source="checkpoint"):
    """Rename the authors' state dict ``net`` to our keys and check it against ``expected_shapes``.

    Returns ``(state_dict, dropped_keys)``. Raises CheckpointError naming every authors' key that no
    rule knows, every pair of keys landing on the same place, and (via the shape check) every tensor
    missing, unknown to the model, or of the wrong shape.
    """
    out, dropped, unknown, collisions = {}, [], [], []
    for key, value in net.items():
        if not isinstance(key, str):
            unknown.append(repr(key))
            continue
        try:
            ours = map_authors_key(key)
        except KeyError:
            unknown.append(key)
            continue
        if ours is None:
            dropped.append(key)
        elif ours in out:
            collisions.append(f"{key} -> {ours}")
        else:
            out[ours] = value
    if unknown:
        raise CheckpointError(f"{source}: {len(unknown)} tensor(s) with keys the FCOT import table does "
                              f"not know (extra/unknown): {format_keys(unknown)}")
    if collisions:
        raise CheckpointError(f"{source}: several tensors map to the same key: {format_keys(collisions)}")
    check_against_shapes(out, expected_shapes, source=f"{source} (authors' keys renamed to ours)")
    return out, dropped


def read_authors_checkpoint(path):
    """The raw checkpoint dict of the authors' file at ``path`` (``ltr.*`` objects stubbed).

    Raises the same CheckpointErrors as :func:`_read_checkpoint`.
    """
    return _read_checkpoint(path)[0]


def _read_checkpoint(path):
    """``(ckpt, stubbed_class_names)`` of the authors' file at ``path``.

    Raises CheckpointError if the file is missing, unreadable, truncated/corrupt, or not an FCOT
    trainer checkpoint (a dict whose ``net`` is a state dict, with ``net_type`` FCOTNet if present).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        ckpt, stubbed = torch_load_with_stubs(path)
    except Exception as exc:  # torch/pickle raise many types on truncated or foreign bytes
        raise CheckpointError(f"cannot read {path} as a PyTorch checkpoint (truncated or corrupt?): "
                              f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(ckpt, dict) or "net" not in ckpt:
        raise CheckpointError(f"{path} is not an FCOT checkpoint: expected a dict with a 'net' state dict "
                              f"(the authors' trainer format), found {type(ckpt).__name__}"
                              + (f" with keys {sorted(map(str, ckpt))[:10]}" if isinstance(ckpt, dict) else ""))
    net_type = ckpt.get("net_type")
    if net_type is not None and net_type != "FCOTNet":
        raise CheckpointError(f"{path} is a {net_type!r} checkpoint, not an FCOT (FCOTNet) one")
    if not isinstance(ckpt["net"], dict) or not ckpt["net"]:
        raise CheckpointError(f"{path} is not an FCOT checkpoint: its 'net' entry is not a non-empty state dict")
    return ckpt, stubbed


def constructor_kwds(ckpt):
    """The keyword arguments the authors' network was built with (``ckpt['constructor'].kwds``), or {}."""
    kwds = getattr(ckpt.get("constructor"), "kwds", None)
    return dict(kwds) if isinstance(kwds, dict) else {}


def import_authors_checkpoint(path, expected_shapes):
    """Read the authors' FCOT checkpoint and return ``(state_dict_in_our_keys, info)``.

    expected_shapes: ``{key: tuple(shape)}`` of our model's state dict (fcot_r50). The state dict is
    complete and exact for it (load it with strict=True); tensors may share storage with the file's
    (e.g. stride-0 views), ``load_state_dict`` copies them. info holds ``epoch``, ``net_type``,
    ``constructor_kwds`` (``norm_scale_coef`` etc., also ``norm_scale_coef`` at top level),
    ``dropped_keys`` (layer4/fc), ``stubbed_classes``, ``reg_step_rule`` ("authors") and ``format``.
    """
    path = os.fspath(path)
    ckpt, stubbed = _read_checkpoint(path)
    return import_from_checkpoint_dict(ckpt, expected_shapes, source=path, stubbed=stubbed)


def import_from_checkpoint_dict(ckpt, expected_shapes, source="checkpoint", stubbed=()):
    """:func:`import_authors_checkpoint` for a checkpoint dict already read by :func:`read_authors_checkpoint`."""
    state_dict, dropped = map_authors_state_dict(ckpt["net"], expected_shapes, source=source)
    kwds = constructor_kwds(ckpt)
    info = {
        "format": "authors",
        "epoch": ckpt.get("epoch"),
        "net_type": ckpt.get("net_type"),
        "constructor_kwds": kwds,
        "norm_scale_coef": kwds.get("norm_scale_coef"),
        "dropped_keys": sorted(dropped),
        "stubbed_classes": sorted(stubbed),
        "reg_step_rule": AUTHORS_REG_STEP_RULE,
    }
    return state_dict, info
