"""Reading DiMP-50's released checkpoint (pytracking's ``dimp50.pth``) for the start of FCOT's
stage-1 training: the authors initialise FCOT's backbone and its 18 classifier from it (reference
section 3: 'classifier.*' maps to classifier_18).

The file is pytracking's trainer format, like FCOT's (legacy pickle, ``ltr.*`` classes stubbed). Its
``feature_extractor.*`` (ResNet-50) and ``classifier.*`` (DiMP's classifier: the same head,
initializer and optimizer as FCOT's classifier_18) tensors are renamed through the FCOT key table;
the IoU-Net (``bb_regressor.*``) and layer4 / fc are not used. Pure dict handling.
"""
import os

from fcot_ros.checkpoints.authors_import import map_authors_key
from fcot_ros.checkpoints.stub_unpickler import torch_load_with_stubs
from fcot_ros.checkpoints.validation import format_keys
from fcot_ros.errors import CheckpointError

USED_PREFIXES = ("feature_extractor.", "classifier.")


def import_dimp_checkpoint(path, expected_shapes):
    """(state_dict in our keys, the DiMP keys not used) of a DiMP checkpoint. Every tensor taken is
    checked against ``expected_shapes`` (fcot_r50's); the result covers backbone.* and cls18.* only."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"DiMP checkpoint not found: {path}")
    try:
        ckpt, _ = torch_load_with_stubs(path)
    except Exception as exc:
        raise CheckpointError(f"cannot read {path} as a PyTorch checkpoint: {type(exc).__name__}: {exc}") from exc
    net = ckpt.get("net") if isinstance(ckpt, dict) else None
    if not isinstance(net, dict) or not net:
        raise CheckpointError(f"{path} is not a pytracking checkpoint (no 'net' state dict)")
    if ckpt.get("net_type") not in (None, "DiMPnet"):
        raise CheckpointError(f"{path} is a {ckpt.get('net_type')!r} checkpoint, not DiMP's (DiMPnet)")
    out, unused, problems = {}, [], []
    for key, value in net.items():
        if not key.startswith(USED_PREFIXES):
            unused.append(key)
            continue
        authors_key = "classifier_18." + key[len("classifier."):] if key.startswith("classifier.") else key
        try:
            ours = map_authors_key(authors_key)
        except KeyError:
            problems.append(key)
            continue
        if ours is None:
            unused.append(key)
            continue
        if ours not in expected_shapes:
            problems.append(f"{key} -> {ours} (not in the model)")
        elif tuple(value.shape) != tuple(expected_shapes[ours]):
            problems.append(f"{key} has shape {tuple(value.shape)}, the model expects {tuple(expected_shapes[ours])}")
        else:
            out[ours] = value
    if problems:
        raise CheckpointError(f"{path}: DiMP tensors that do not fit fcot_r50: {format_keys(problems)}")
    if not any(k.startswith("cls18.") for k in out) or not any(k.startswith("backbone.") for k in out):
        raise CheckpointError(f"{path}: no DiMP backbone or classifier tensors found")
    return out, sorted(unused)
