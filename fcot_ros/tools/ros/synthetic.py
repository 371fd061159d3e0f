"""A generated camera clip with ground truth, for the demo and the benchmark (no data files needed).

A textured target (a "vehicle" patch with stripes and a number plate) drives a smooth loop over a
textured ground, while the camera pans slowly and the target's size changes by +-20%. Deterministic
for a given seed. Generated frames carry no third-party licence.
"""
import cv2
import numpy as np


def _texture(rng, h, w, octaves=(8, 32, 128)):
    """Smooth multi-scale noise in [0, 1]."""
    out = np.zeros((h, w), np.float32)
    for i, cell in enumerate(octaves):
        small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
        out += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) / (2 ** i)
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _ground(rng, h, w):
    t = _texture(rng, h, w)
    base = np.array([70, 110, 95], np.float32)          # BGR greenish-grey ground
    img = base[None, None, :] * (0.55 + 0.9 * t[..., None])
    # a few "road markings" so that the camera pan is visible
    for x in range(0, w, 160):
        cv2.line(img, (x, 0), (x + 60, h), (200, 200, 200), 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def _target(rng, h=80, w=120):
    body = np.empty((h, w, 3), np.uint8)
    body[:] = (40, 40, 190)                              # red-ish car
    for y in range(6, h, 14):
        body[y:y + 4, 4:w - 4] = (20, 160, 230)          # stripes
    cv2.rectangle(body, (w // 3, h - 22), (2 * w // 3, h - 8), (240, 240, 240), -1)  # plate
    cv2.putText(body, "F07", (w // 3 + 4, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.rectangle(body, (0, 0), (w - 1, h - 1), (10, 10, 10), 3)
    noise = (rng.standard_normal(body.shape) * 8).astype(np.int16)
    return np.clip(body.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def make_clip(n_frames: int = 300, size=(640, 480), seed: int = 0):
    """Return (frames, boxes): n_frames HxWx3 uint8 BGR images and an (n, 4) array of x, y, w, h."""
    w, h = size
    rng = np.random.default_rng(seed)
    margin = 200
    ground = _ground(rng, h + 2 * margin, w + 2 * margin)
    target = _target(rng)
    th, tw = target.shape[:2]
    frames, boxes = [], []
    for i in range(n_frames):
        t = 2 * np.pi * i / max(n_frames, 1)
        # camera pan (background shift) and target path in image coordinates
        pan_x = int(margin + 120 * np.sin(t))
        pan_y = int(margin + 60 * np.sin(2 * t))
        frame = ground[pan_y:pan_y + h, pan_x:pan_x + w].copy()
        scale = 1.0 + 0.2 * np.sin(3 * t)
        bw, bh = int(round(tw * scale)), int(round(th * scale))
        cx = w / 2 + 0.3 * w * np.sin(t)
        cy = h / 2 + 0.25 * h * np.sin(2 * t + 0.5)
        x0, y0 = int(round(cx - bw / 2)), int(round(cy - bh / 2))
        frame[y0:y0 + bh, x0:x0 + bw] = cv2.resize(target, (bw, bh), interpolation=cv2.INTER_AREA)
        frames.append(frame)
        boxes.append((x0, y0, bw, bh))
    return frames, np.asarray(boxes, dtype=float)


def write_clip(folder, n_frames: int = 300, size=(640, 480), seed: int = 0, quality: int = 90):
    """Write img/000001.jpg... and groundtruth.txt (the shared sequences' layout) into ``folder``."""
    from pathlib import Path
    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    frames, boxes = make_clip(n_frames, size, seed)
    for i, f in enumerate(frames, 1):
        cv2.imwrite(str(folder / "img" / f"{i:06d}.jpg"), f, [cv2.IMWRITE_JPEG_QUALITY, quality])
    (folder / "groundtruth.txt").write_text(
        "".join(f"{x:.0f},{y:.0f},{bw:.0f},{bh:.0f}\n" for x, y, bw, bh in boxes))
    return folder
