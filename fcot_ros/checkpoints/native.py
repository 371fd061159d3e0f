"""Our own checkpoint format, ``fcot_ros/2`` (and reading of the older ``fcot_ros/1``).

A ``torch.save``d dict ``{"format": "fcot_ros/2", "meta": {...}, "state_dict": {key: tensor}}`` made
of plain types only, so it loads with ``torch.load(..., weights_only=True)``: reading a file never
runs code. ``meta`` holds at least ``model`` (the model name, e.g. "fcot_lite"); by convention also
``config`` (the model's whole NetworkConfig as a nested dict, optimizer settings included: what the
model is rebuilt from) and whatever provenance the writer adds (training epoch, recipe, ...).

``fcot_ros/1`` files (state-dict keys ``features.*`` / ``cls18_optimizer.*``, optimizer settings in
``meta["optimizer_init"]``) are read through ``checkpoints.legacy`` into the ``fcot_ros/2`` layout.
"""
import os
import tempfile
import zipfile

import torch

from fcot_ros.errors import CheckpointError

FORMAT = "fcot_ros/2"
LEGACY_FORMATS = ("fcot_ros/1",)
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _check_plain(value, where):
    """Raise CheckpointError unless ``value`` is built from dict/list/tuple and str/int/float/bool/None."""
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckpointError(f"checkpoint meta key {where}[{key!r}] is not a string")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise CheckpointError(f"checkpoint meta {where} is a {type(value).__name__}; only plain types "
                          "(dict, list, tuple, str, int, float, bool, None) can be stored")


def save_checkpoint(path, state_dict, meta, extra=None):
    """Write ``state_dict`` and ``meta`` to ``path`` in the ``fcot_ros/2`` format (atomically).

    state_dict: {str: tensor} (e.g. ``model.state_dict()``; tensors are moved to the CPU);
    meta: plain-typed dict with at least ``model``. extra: optional dict stored under "extra" (e.g.
    a training run's optimizer state; tensors allowed, it must load with ``weights_only=True``);
    readers of the weights ignore it. Raises CheckpointError on bad input or I/O errors.
    """
    path = os.fspath(path)
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), str):
        raise CheckpointError("checkpoint meta must be a dict with the model name under 'model'")
    _check_plain(meta, "meta")
    tensors = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"state_dict entry {key!r} is not a str -> tensor pair")
        tensors[key] = value.detach().cpu()
    payload = {"format": FORMAT, "meta": meta, "state_dict": tensors}
    if extra is not None:
        payload["extra"] = extra
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".fcot_ckpt_", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise CheckpointError(f"cannot write a checkpoint into {directory}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
    except Exception as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise CheckpointError(f"cannot write checkpoint {path}: {exc}") from exc


def load_checkpoint(path, with_extra=False):
    """``(state_dict, meta)`` of an ``fcot_ros/2`` file (or an ``fcot_ros/1`` one, migrated), read on
    the CPU with ``weights_only=True``. with_extra: return ``(state_dict, meta, extra)`` (extra: the
    dict saved with ``save_checkpoint(..., extra=)``, or None).

    Raises CheckpointError if the file is missing, truncated/corrupt (CRC-32 of every member checked), not a
    torch file, or a torch file in another format (e.g. the authors' checkpoint: use ``import_authors_checkpoint``).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not an fcot_ros checkpoint (not a torch zip archive; truncated, "
                              "corrupt, or in the authors' legacy format)")
    with zipfile.ZipFile(path) as archive:          # torch.load does not check the members' CRC-32
        damaged = archive.testzip()
    if damaged:
        raise CheckpointError(f"{path} is corrupt: {damaged} fails its CRC-32 check")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read {path} as an fcot_ros checkpoint (corrupt, truncated, or holding "
                              f"non-plain objects): {type(exc).__name__}: {exc}") from exc
    fmt = payload.get("format") if isinstance(payload, dict) else None
    if fmt not in (FORMAT,) + LEGACY_FORMATS:
        if isinstance(fmt, str) and fmt.startswith("fcot_ros/"):
            raise CheckpointError(f"{path} is in checkpoint format {fmt!r}; this version reads "
                                  f"{', '.join((FORMAT,) + LEGACY_FORMATS)}")
        raise CheckpointError(f"{path} is not an fcot_ros checkpoint (no format tag {FORMAT!r})")
    state_dict, meta = payload.get("state_dict"), payload.get("meta")
    if not isinstance(state_dict, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
        raise CheckpointError(f"{path}: 'state_dict' is not a dict of tensors")
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), str):
        raise CheckpointError(f"{path}: 'meta' lacks the model name")
    if fmt in LEGACY_FORMATS:
        from fcot_ros.checkpoints.legacy import migrate_v1
        state_dict, meta = migrate_v1(state_dict, meta)
    if with_extra:
        return state_dict, meta, payload.get("extra")
    return state_dict, meta
