"""sha256 digests, the one home for hashing files and networks' weights.

Used by the ONNX export (metadata of each graph), the engine cache (manifest of each entry), and
training's model card (the shipped weights file). Hex strings of 64 characters.
"""
import hashlib


def file_sha256(path, chunk: int = 1 << 20) -> str:
    """sha256 of the bytes of the file at ``path``, read in blocks of ``chunk`` bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def state_dict_sha256(module) -> str:
    """Hash of every parameter and buffer of a torch ``nn.Module`` (names, dtypes, shapes, bytes) in a
    stable order: the identity of built-in weights, and of any weights once loaded, independent of
    the file format."""
    h = hashlib.sha256()
    sd = module.state_dict()
    for name in sorted(sd):
        t = sd[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        if t.numel():
            h.update(t.reshape(-1).numpy().tobytes())
    # non-persistent buffers (normalisation constants) are part of the graph too
    for name, buf in sorted(module.named_buffers()):
        if name not in sd:
            h.update(f"{name}|{buf.dtype}|{tuple(buf.shape)}\n".encode())
            h.update(buf.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()
