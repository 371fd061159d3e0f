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
    ("feature_extractor.conv1",                          "backbone.conv1"),
    ("feature_extractor.bn1",                            "backbone.bn1"),
    ("feature_extractor.layer1",                         "backbone.layer1"),
    ("feature_extractor.layer2",                         "backbone.layer2"),
    ("feature_extractor.layer3",                         "backbone.layer3"),
    ("feature_extractor.layer4",                         None),  # never computed (forward stops at layer3)
    ("feature_extractor.fc",                             None),  # never computed
    # --- FPN decoder ------------------------------------------------------------------------------
    ("pyramid_first_conv.res_conv",                      "decoder.lateral_18"),
    ("pyramid_36.res_conv",                              "decoder.lateral_36"),
    ("pyramid_72.res_conv",                              "decoder.lateral_72"),
    ("pyramid_72.pyramid_conv",                          "decoder.smooth_72"),
    # --- classifier_18: feature head, filter initializer, DiMP optimizer --------------------------
    ("classifier_18.feature_extractor.0",                "cls18.head.conv"),
    ("classifier_18.filter_initializer.filter_conv",     "cls18.initializer.filter_conv"),
    ("classifier_18.filter_optimizer.log_step_length",   "cls18.optimizer.log_step_length"),
    ("classifier_18.filter_optimizer.filter_reg",        "cls18.optimizer.filter_reg"),
    ("classifier_18.filter_optimizer.label_map_predictor.weight",
     "cls18.optimizer.label_map_predictor.weight"),
    ("classifier_18.filter_optimizer.target_mask_predictor.0.weight",
     "cls18.optimizer.target_mask_predictor.weight"),
    ("classifier_18.filter_optimizer.spatial_weight_predictor.weight",
     "cls18.optimizer.spatial_weight_predictor.weight"),
    # --- classifier_72 ----------------------------------------------------------------------------
    ("classifier_72.feature_extractor.0",                "cls72.head.body.conv1"),
    ("classifier_72.feature_extractor.1",                "cls72.head.body.gn1"),
    ("classifier_72.feature_extractor.3",                "cls72.head.body.dcn1"),
    ("classifier_72.feature_extractor.4",                "cls72.head.body.gn2"),
    ("classifier_72.feature_extractor.6",                "cls72.head.body.dcn2"),
    ("classifier_72.filter_initializer.filter_conv",     "cls72.initializer.filter_conv"),
    ("classifier_72.filter_optimizer.log_step_length",   "cls72.optimizer.log_step_length"),
    ("classifier_72.filter_optimizer.filter_reg",        "cls72.optimizer.filter_reg"),
    ("classifier_72.filter_optimizer.label_map_predictor.weight",
     "cls72.optimizer.label_map_predictor.weight"),
    ("classifier_72.filter_optimizer.target_mask_predictor.0.weight",
     "cls72.optimizer.target_mask_predictor.weight"),
    ("classifier_72.filter_optimizer.spatial_weight_predictor.weight",
     "cls72.optimizer.spatial_weight_predictor.weight"),
    # --- regressor_72: regression feature heads (36 and 72) and their 1x1 merge -------------------
    ("regressor_72.reg_head_36.0",                       "reg.head.head_36.conv1"),
    ("regressor_72.reg_head_36.1",                       "reg.head.head_36.gn1"),
    ("regressor_72.reg_head_36.3",                       "reg.head.head_36.dcn1"),
    ("regressor_72.reg_head_36.4",                       "reg.head.head_36.gn2"),
    ("regressor_72.reg_head_36.6",                       "reg.head.head_36.dcn2"),
    ("regressor_72.reg_head_72.0",                       "reg.head.head_72.conv1"),
    ("regressor_72.reg_head_72.1",                       "reg.head.head_72.gn1"),
    ("regressor_72.reg_head_72.3",                       "reg.head.head_72.dcn1"),
    ("regressor_72.reg_head_72.4",                       "reg.head.head_72.gn2"),
    ("regressor_72.reg_head_72.6",                       "reg.head.head_72.dcn2"),
    ("regressor_72.reg_head_merge",                      "reg.head.merge"),
    # --- regressor_72: RMG initial-filter generator (36 and 72) and its merge ---------------------
    ("regressor_72.reg_initializer_36.0",                "reg.initializer.head_36.conv1"),
    ("regressor_72.reg_initializer_36.1",                "reg.initializer.head_36.gn1"),
    ("regressor_72.reg_initializer_36.3",                "reg.initializer.head_36.dcn1"),
    ("regressor_72.reg_initializer_36.4",                "reg.initializer.head_36.gn2"),
    ("regressor_72.reg_initializer_36.6",                "reg.initializer.head_36.dcn2"),
    ("regressor_72.reg_initializer_72.0",                "reg.initializer.head_72.conv1"),
    ("regressor_72.reg_initializer_72.1",                "reg.initializer.head_72.gn1"),
    ("regressor_72.reg_initializer_72.3",                "reg.initializer.head_72.dcn1"),
    ("regressor_72.reg_initializer_72.4",                "reg.initializer.head_72.gn2"),
    ("regressor_72.reg_initializer_72.6",                "reg.initializer.head_72.dcn2"),
    ("regressor_72.reg_initializer_merge",               "reg.initializer.merge"),
    # --- regressor_72: regression optimizer (learned step length and regularisation) ------------
    ("regressor_72.filter_optimizer.log_step_length",    "reg.optimizer.log_step_length"),
    ("regressor_72.filter_optimizer.filter_reg",         "reg.optimizer.filter_reg"),
)

# The regression step rule the authors' weights were trained with (reference notes, section 8).
AUTHORS_REG_STEP_RULE = "authors"

# Their constructor keywords (ckpt['constructor'].kwds) that set a structural setting of our
# fcot_r50 config, and the values ours supports for those that have no counterpart (anything else
# is refused: the network would not be theirs).
_KWDS_TO_CONFIG = {"clf_filter_size": ("cls_filter_size",), "reg_filter_size": ("reg_filter_size",),
                   "out_feature_dim": ("cls18_dim",), "norm_scale_coef": ("norm_scale_coef",)}
_KWDS_TO_CLASSIFIERS = {"num_dist_bins": "num_dist_bins", "bin_displacement": "bin_displacement",
                        "init_gauss_sigma": "init_gauss_sigma", "mask_init_factor": "mask_init_factor",
                        "optim_init_step": "init_step_length", "optim_init_reg": "init_filter_reg",
                        "optim_iter": "num_iter"}
_KWDS_SUPPORTED = {"classification_layer": ("layer3",), "feat_stride": (16,), "clf_feat_blocks": (0,),
                   "clf_feat_norm": (True,), "init_filter_norm": (False,), "final_conv": (True,),
                   "score_act": ("relu",), "target_mask_act": ("sigmoid",)}
# training switches and run-time options that do not change the network
_KWDS_IGNORED = ("backbone_pretrained", "detach_length", "act_param", "train_cls_72_and_reg_init",
                 "train_reg_optimizer", "train_cls_18")


def config_from_constructor_kwds(kwds, source="checkpoint"):
    """Our fcot_r50 config settings (NetworkConfig fields; cls18 / cls72 / reg as partial dicts) of
    the network the authors built with ``kwds``. Raises CheckpointError for a network ours cannot
    rebuild (another classification layer, extra feature blocks, ...) and for unknown keywords."""
    config = {"reg": {"step_rule": AUTHORS_REG_STEP_RULE}}
    classifier = {}
    problems = []
    for key, value in kwds.items():
        if key in _KWDS_TO_CONFIG:
            config[_KWDS_TO_CONFIG[key][0]] = float(value) if key == "norm_scale_coef" else int(value)
        elif key in _KWDS_TO_CLASSIFIERS:
            classifier[_KWDS_TO_CLASSIFIERS[key]] = value
            if key == "optim_init_reg":       # their regression optimizer starts from it too
                config["reg"]["init_filter_reg"] = value
        elif key in _KWDS_SUPPORTED:
            if value not in _KWDS_SUPPORTED[key]:
                problems.append(f"{key}={value!r} (supported: {_KWDS_SUPPORTED[key]})")
        elif key not in _KWDS_IGNORED:
            problems.append(f"unknown constructor keyword {key}={value!r}")
    if problems:
        raise CheckpointError(f"{source}: the authors' network was built with settings fcot_r50 cannot "
                              f"rebuild: {'; '.join(problems)}")
    if classifier:
        config["cls18"] = dict(classifier)
        config["cls72"] = dict(classifier)
    return config

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
        "config": config_from_constructor_kwds(kwds, source),
    }
    return state_dict, info
