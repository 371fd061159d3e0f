"""Checkpoints: our ``fcot_ros/1`` format and import of the authors' FCOT checkpoint.

Pure state-dict handling: nothing here imports the model, target-model or tracker code; callers pass
their model's ``{key: shape}`` layout (or the model itself to :func:`load_into_model`, duck-typed).
"""
from fcot_ros.checkpoints.authors_import import (
                                                 AUTHORS_KEY_TABLE,
                                                 AUTHORS_REG_STEP_RULE,
                                                 config_from_constructor_kwds,
                                                 import_authors_checkpoint,
                                                 import_from_checkpoint_dict,
                                                 map_authors_key,
                                                 map_authors_state_dict,
                                                 read_authors_checkpoint,
)
from fcot_ros.checkpoints.loading import (
                                                 config_conflicts,
                                                 describe_checkpoint,
                                                 detect_format,
                                                 load_into_model,
                                                 load_weights,
                                                 model_overrides,
                                                 save_model,
)
from fcot_ros.checkpoints.native import FORMAT, load_checkpoint, save_checkpoint
from fcot_ros.checkpoints.validation import check_against_shapes

__all__ = [
    "AUTHORS_KEY_TABLE", "AUTHORS_REG_STEP_RULE", "FORMAT", "check_against_shapes", "config_conflicts",
    "config_from_constructor_kwds", "describe_checkpoint", "detect_format",
    "import_authors_checkpoint", "import_from_checkpoint_dict", "load_checkpoint", "load_into_model", "load_weights",
    "map_authors_key", "map_authors_state_dict", "model_overrides", "read_authors_checkpoint",
    "save_checkpoint", "save_model",
]
