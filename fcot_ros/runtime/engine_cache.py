"""On-disk cache of exported ONNX graphs and built TensorRT engines.

Layout: ``<root>/<kind>/<key>/`` holding the artefacts and a ``manifest.json`` that records the key's
fields and the sha256 of every artefact. An entry is used only when the manifest exists, its fields
equal the expected ones and every file's hash matches; anything else (missing, truncated, edited,
stale) is deleted and rebuilt. A per-entry lock file serialises concurrent builders (several nodes
starting at once).

Root: the ``cache_dir`` passed in (assembly.RuntimeOptions: ``$FCOT_CACHE_DIR``), else
``$XDG_CACHE_HOME/fcot_ros``, else ``~/.cache/fcot_ros``.
"""
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from fcot_ros.runtime.digests import file_sha256

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"


def cache_root(cache_dir=None) -> Path:
    """The cache's root folder: ``cache_dir`` if given, else $XDG_CACHE_HOME/fcot_ros or ~/.cache/fcot_ros."""
    if cache_dir is not None:
        return Path(cache_dir)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fcot_ros"


def slug(text: str) -> str:
    """File-name-safe form of a key part (GPU names contain spaces, versions contain '+')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def entry_dir(kind: str, fields: dict, cache_dir=None) -> Path:
    """Directory of the entry for ``fields``: readable prefix + a hash of every field."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    readable = "-".join(slug(fields[k]) for k in ("model",) if k in fields)
    return cache_root(cache_dir) / kind / f"{readable}-{digest}"


def validate(directory: Path, fields: dict, files) -> str:
    """'' when the entry is complete and intact, else the reason it is not."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return "no manifest"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({exc})"
    if data.get("fields") != json.loads(json.dumps(fields)):
        return "stale (built for other weights/versions)"
    hashes = data.get("files", {})
    for name in files:
        path = directory / name
        if not path.is_file():
            return f"{name} missing"
        if hashes.get(name) != file_sha256(path):
            return f"{name} corrupt (sha256 mismatch)"
    return ""


def write_manifest(directory: Path, fields: dict, files) -> None:
    """Write the entry's manifest.json (key fields, sha256 of each of ``files``) atomically: temp file, rename."""
    data = {"fields": fields, "files": {name: file_sha256(directory / name) for name in files}}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, directory / MANIFEST)


def clear(directory: Path) -> None:
    """Remove everything in an entry except its lock file."""
    for child in directory.iterdir() if directory.is_dir() else ():
        if child.name == ".lock":
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(directory: Path):
    """Exclusive lock on an entry (no-op where fcntl is missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(directory / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


KEEP_PER_MODEL = 3
PRUNE_MIN_AGE_S = 24 * 3600  # an entry used (or built) within this time is never pruned


def _try_lock(directory: Path):
    """Open handle holding a non-blocking exclusive lock on ``directory``, or None if it is busy."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: never prune
        return None
    try:
        handle = open(directory / ".lock", "a+")
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _last_used(directory: Path) -> float:
    manifest = directory / MANIFEST
    return manifest.stat().st_mtime if manifest.exists() else (directory / ".lock").stat().st_mtime \
        if (directory / ".lock").exists() else directory.stat().st_mtime


def prune(kind: str, model: str, keep_dir: Path, cache_dir=None, keep: int = KEEP_PER_MODEL,
          min_age_s: float = PRUNE_MIN_AGE_S) -> None:
    """Delete old entries of ``model`` (other weights or versions) so that a changing checkpoint does not
    fill the disk: beyond the ``keep`` most recently used ones, and only those unused for ``min_age_s``
    (another process may be using them) and not locked by a builder."""
    root = cache_root(cache_dir) / kind
    prefix = slug(model) + "-"
    entries = [d for d in root.iterdir() if d.is_dir() and d.name.startswith(prefix) and d != keep_dir] \
        if root.is_dir() else []
    entries.sort(key=_last_used, reverse=True)
    now = time.time()
    for old in entries[max(0, keep - 1):]:
        if now - _last_used(old) < min_age_s:
            continue
        handle = _try_lock(old)
        if handle is None:
            continue
        try:
            log.info("fcot_ros: removing old %s cache entry %s", kind, old)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            handle.close()


def get_or_build(kind: str, fields: dict, files, build, cache_dir=None) -> Path:
    """Directory holding ``files`` for ``fields``; ``build(directory)`` (re)creates them when the entry is
    absent, stale or corrupt. Returns the entry directory."""
    directory = entry_dir(kind, fields, cache_dir)
    with locked(directory):
        reason = validate(directory, fields, files)
        if not reason:
            log.debug("fcot_ros: %s cache hit %s", kind, directory)
            try:
                os.utime(directory / MANIFEST)  # last use, for pruning
            except OSError:
                pass
            return directory
        if reason != "no manifest" or any(p.name != ".lock" for p in directory.iterdir()):
            log.warning("fcot_ros: %s cache entry %s is unusable (%s); rebuilding it", kind, directory, reason)
        else:
            log.info("fcot_ros: building %s cache entry %s (first use)", kind, directory)
        clear(directory)
        build(directory)
        write_manifest(directory, fields, files)
    if "model" in fields:
        prune(kind, fields["model"], directory, cache_dir)
    return directory
