r"""A compact training pack: the training part of sequence folders, downscaled and re-encoded to fit a
byte budget (default 48 MiB), plus the start weights with their backbone, so that a GPU machine
that has none of ../shared and no efficientnet-lite0 package can train (training/gpu_ratchet.py).

    python -m training.pack --out packs/fcot_lite --roots ../shared/data/sequences ../shared/data/train \
        --split training/splits/fcot_lite_val.txt [--budget-mib 48] [--frame-step 3] [--target-px 64]

What it writes (a ``folder`` training source, fcot_ros.datasets.folder):

    out/index.tsv                 name, video, dataset, licence, scale, frame_step of every sequence
    out/<name>/img/000001.jpg     every ``frame_step``-th frame of the sequence, scaled by ``scale``
    out/<name>/groundtruth.txt    its boxes in the scaled frame's pixels (NaN rows kept)
    out/init_fcot_lite.pt         the start weights with the backbone included (loads without the package)
    out/pack.json                 the parameters, counts, bytes and the sources' names

Only sequences whose video is outside the split file's validation list are packed: the pack never
holds a validation frame. Per sequence, ``scale = min(1, target_px / median sqrt(w h))``: the target
keeps at least ``target_px`` pixels of side where it had them (the tracker's 288-pixel crop spans
5 sqrt(w h), i.e. target side 57.6 px, so 64 px loses little), and the long image side is capped at
``max_side``. JPEG quality starts at ``quality`` and is lowered in steps of 5 (down to 40) until the
whole pack fits the budget.
"""
import argparse
import csv
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np

from fcot_ros.errors import FCOTError
from training.data.sources import load_source
from training.data.splits import read_split, select_split

MIB = 2 ** 20
INIT_NAME = "init_fcot_lite.pt"


def sequence_scale(boxes: np.ndarray, image_shape, target_px: float, max_side: int) -> float:
    """Downscale factor (<= 1) of one sequence: median target side to ``target_px``, long side <= ``max_side``.

    boxes: (N, 4) xywh image pixels (NaN rows ignored); image_shape: (H, W[, 3]) of its frames.
    """
    ok = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    side = float(np.median(np.sqrt(boxes[ok, 2] * boxes[ok, 3]))) if ok.any() else target_px
    scale = min(1.0, target_px / max(side, 1e-6), max_side / max(image_shape[0], image_shape[1]))
    return float(scale)


def encode_sequence(seq, scale: float, frame_step: int, quality: int) -> Dict[str, object]:
    """The JPEG bytes of every ``frame_step``-th frame of ``seq`` scaled by ``scale``, and the boxes.

    Returns {"jpegs": [bytes], "boxes": (M, 4) float64 xywh in scaled pixels}. Box corners scale with
    the image: a pixel-centre convention is kept to within scale * 0.5 px.
    """
    keep = np.arange(0, len(seq), frame_step)
    jpegs = []
    for i in keep:
        image = seq.frame(int(i))
        if scale < 1.0:
            h, w = image.shape[:2]
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise FCOTError(f"pack: could not encode frame {i} of {seq.name}")
        jpegs.append(data.tobytes())
    return {"jpegs": jpegs, "boxes": seq.boxes[keep] * scale}


def _write_sequence(folder: Path, encoded) -> int:
    (folder / "img").mkdir(parents=True, exist_ok=True)
    size = 0
    for k, data in enumerate(encoded["jpegs"], 1):
        (folder / "img" / f"{k:06d}.jpg").write_bytes(data)
        size += len(data)
    lines = ["NaN,NaN,NaN,NaN" if not np.isfinite(b).all() else ",".join(f"{v:.2f}" for v in b)
             for b in encoded["boxes"]]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return size


def write_init_weights(out: Path, weights=None) -> Path:
    """The start weights (default: the shipped fcot_lite) saved with every tensor, backbone included."""
    from fcot_ros.assembly import load_model, model_spec, resolve_weights
    from fcot_ros.checkpoints import save_model
    path = resolve_weights(model_spec("fcot_lite"), weights, "default")
    model = load_model("fcot_lite", path)
    target = out / INIT_NAME
    save_model(target, model, omit_prefixes=(), note=f"pack start weights from {Path(path).name}")
    return target


def build_pack(out, roots: List[str], split_file=None, budget_mib: float = 48.0, frame_step: int = 3,
               target_px: float = 64.0, max_side: int = 640, quality: int = 85, weights=None,
               log=print) -> dict:
    """Write the pack to ``out`` (replaced if it exists); returns the manifest (also out/pack.json)."""
    out = Path(out)
    validation = read_split(split_file) if split_file else set()
    sequences = []
    for root in roots:
        found = load_source("folder", root)
        sequences += [(root, s) for s in select_split(found, validation, "train")]
    if not sequences:
        raise FCOTError(f"pack: no training sequence under {roots}")
    names = [s.name for _, s in sequences]
    if len(set(names)) != len(names):
        raise FCOTError("pack: two roots hold sequences of the same name")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    init = write_init_weights(out, weights)
    budget = budget_mib * MIB - init.stat().st_size - 64 * 1024       # index, boxes, manifest
    scales = {s.name: sequence_scale(s.boxes, s.frame(0).shape, target_px, max_side) for _, s in sequences}
    q = quality
    while True:
        encoded = {s.name: encode_sequence(s, scales[s.name], frame_step, q) for _, s in sequences}
        total = sum(len(j) for e in encoded.values() for j in e["jpegs"])
        log(f"pack: quality {q}: {total / MIB:.1f} MiB of JPEG for a budget of {budget / MIB:.1f} MiB")
        if total <= budget or q <= 40:
            break
        q -= 5
    if total > budget:
        raise FCOTError(f"pack: {total / MIB:.1f} MiB even at JPEG quality {q}; raise --frame-step or lower "
                        "--target-px")
    rows = []
    for root, seq in sequences:
        _write_sequence(out / seq.name, encoded[seq.name])
        rows.append({"name": seq.name, "video": seq.video, "dataset": seq.attributes.get("dataset", ""),
                     "licence": seq.attributes.get("licence", ""), "scale": f"{scales[seq.name]:.4f}",
                     "frame_step": str(frame_step), "source_root": str(root)})
    with open(out / "index.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    manifest = {"sequences": len(rows), "videos": len({r["video"] for r in rows}),
                "frames": sum(len(e["jpegs"]) for e in encoded.values()), "jpeg_bytes": total,
                "total_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
                "frame_step": frame_step, "target_px": target_px, "max_side": max_side, "jpeg_quality": q,
                "budget_mib": budget_mib, "roots": [str(r) for r in roots],
                "split_file": str(split_file) if split_file else None, "init_weights": INIT_NAME,
                "validation_videos_excluded": sorted(validation)}
    (out / "pack.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv=None) -> int:
    """Command line: build the training pack and print its size; 0 on success, 2 on an error."""
    parser = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="packs/fcot_lite")
    parser.add_argument("--roots", nargs="+", default=["../shared/data/sequences", "../shared/data/train"])
    parser.add_argument("--split", default="training/splits/fcot_lite_val.txt",
                        help="validation videos to leave out ('' packs everything)")
    parser.add_argument("--budget-mib", type=float, default=48.0)
    parser.add_argument("--frame-step", type=int, default=3)
    parser.add_argument("--target-px", type=float, default=64.0)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--weights", default=None, help="start weights (default: the shipped fcot_lite)")
    args = parser.parse_args(argv)
    try:
        manifest = build_pack(args.out, args.roots, args.split or None, args.budget_mib, args.frame_step,
                              args.target_px, args.max_side, args.quality, args.weights)
    except FCOTError as exc:
        print(f"python -m training.pack: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {manifest['sequences']} sequences ({manifest['videos']} videos), {manifest['frames']} "
          f"frames, {manifest['total_bytes'] / MIB:.1f} MiB, JPEG quality {manifest['jpeg_quality']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
