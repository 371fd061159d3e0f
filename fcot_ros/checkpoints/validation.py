"""Checking a state dict against the key -> shape layout a model expects.

Pure dict handling: the caller passes ``{key: tuple(tensor.shape)}`` of its model's state dict, so
this module never needs the model code.
"""
import torch

from fcot_ros.errors import CheckpointError

_MAX_LISTED = 20  # keys named per problem in an error message


def format_keys(keys):
    """Sorted keys joined for an error message, at most 20 named."""
    keys = sorted(keys)
    shown = ", ".join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return shown + (f", ... (+{more} more)" if more > 0 else "")


def check_against_shapes(state_dict, expected_shapes, source="checkpoint"):
    """Raise CheckpointError unless ``state_dict`` has exactly the keys and shapes of ``expected_shapes``.

    state_dict: {key: tensor}; expected_shapes: {key: shape tuple}; source: names the file in messages.
    Every problem is listed in one message: keys missing from the file, keys the model does not have,
    tensors of the wrong shape, and values that are not tensors.
    """
    problems = []
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        problems.append(f"values that are not tensors: {format_keys(not_tensors)}")
    missing = set(expected_shapes) - set(state_dict)
    if missing:
        problems.append(f"{len(missing)} tensor(s) missing: {format_keys(missing)}")
    extra = set(state_dict) - set(expected_shapes)
    if extra:
        problems.append(f"{len(extra)} unexpected tensor(s) the model does not have: {format_keys(extra)}")
    shape_errors = [
        f"{k} has shape {tuple(v.shape)}, the model expects {tuple(expected_shapes[k])}"
        for k, v in state_dict.items()
        if k in expected_shapes and isinstance(v, torch.Tensor) and tuple(v.shape) != tuple(expected_shapes[k])
    ]
    if shape_errors:
        problems.append(f"{len(shape_errors)} tensor(s) of the wrong shape: "
                        + "; ".join(sorted(shape_errors)[:_MAX_LISTED]))
    if problems:
        raise CheckpointError(f"{source} does not match the network: " + " | ".join(problems))
