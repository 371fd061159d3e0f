"""Reading ``fcot_ros/1`` checkpoints (written before the model was split into branch target models).

Keys: ``features.backbone.*`` -> ``backbone.*``, ``features.cls18_head.*`` -> ``cls18.head.*``,
``cls18_optimizer.*`` -> ``cls18.optimizer.*``, ... (``LEGACY_KEY_TABLE``). Meta: the optimizer
settings of ``meta["optimizer_init"]`` ({cls18, cls72, reg} keyword dicts) join ``meta["config"]``
as its ``cls18`` / ``cls72`` / ``reg`` entries. Pure dict handling.
"""
from fcot_ros.errors import CheckpointError

LEGACY_KEY_TABLE = (
    ("features.backbone.", "backbone."),
    ("features.decoder.", "decoder."),
    ("features.cls18_head.", "cls18.head."),
    ("features.cls72_head.", "cls72.head."),
    ("features.reg_features.", "reg.head."),
    ("features.cls18_initializer.", "cls18.initializer."),
    ("features.cls72_initializer.", "cls72.initializer."),
    ("features.rmg_initializer.", "reg.initializer."),
    ("cls18_optimizer.", "cls18.optimizer."),
    ("cls72_optimizer.", "cls72.optimizer."),
    ("reg_optimizer.", "reg.optimizer."),
)


def migrate_key(key: str) -> str:
    """The current state-dict key of an ``fcot_ros/1`` key (LEGACY_KEY_TABLE); an unknown key raises CheckpointError."""
    for old, new in LEGACY_KEY_TABLE:
        if key.startswith(old):
            return new + key[len(old):]
    raise CheckpointError(f"fcot_ros/1 checkpoint key {key!r} is not one that format had")


def migrate_v1(state_dict: dict, meta: dict):
    """(state_dict, meta) of an ``fcot_ros/1`` file in the ``fcot_ros/2`` layout."""
    new_state = {migrate_key(k): v for k, v in state_dict.items()}
    new_meta = {k: v for k, v in meta.items() if k != "optimizer_init"}
    config = dict(meta.get("config") or {})
    for branch, settings in (meta.get("optimizer_init") or {}).items():
        config[branch] = dict(settings)
    if config:
        new_meta["config"] = config
    new_meta["migrated_from"] = "fcot_ros/1"
    return new_state, new_meta
