"""COCO 2017 object instances as one-frame training sequences, read with pycocotools.

    root/annotations/instances_train2017.json   (instances_val2017.json for split="val2017")
    root/train2017/000000000009.jpg ...

Every non-crowd instance is a static-image sequence (``is_static_image`` True, one frame): training
makes a template/search pair from it by augmentation. COCO's ``bbox`` is [x, y, w, h] in float,
0-based pixels with (x, y) the top-left corner, which is our xywh already (kept as is). Instances
whose box has w or h < 1 px, or a box area w * h (px^2) below ``min_area``, are skipped. ``video``
is the image's file stem, so all instances of one image stay in one split. Images are not opened
at load time. Attributes: category, category_id, image_id, annotation_id, image_size (w, h).
"""
import contextlib
import io
import json
from pathlib import Path
from typing import List

import numpy as np

from fcot_ros.datasets.frames import ImageFiles
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

SPLITS = ("train2017", "val2017")


def _expected(split: str) -> str:
    return f"root/annotations/instances_{split}.json and root/{split}/*.jpg"


def _read_annotations(path: Path):
    try:
        from pycocotools.coco import COCO
    except ImportError as exc:
        raise DatasetError("COCO: the pycocotools package is needed (pip install pycocotools)") from exc
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"COCO: {path} is not valid JSON ({exc})") from exc
    except (KeyError, TypeError, AssertionError) as exc:
        raise DatasetError(f"COCO: {path} is not a COCO instances file ({exc!r})") from exc


def load(root, split: str = "train2017", min_area: float = 0.0) -> List[Sequence]:
    """One Sequence per kept non-crowd instance of ``split``, in annotation id order."""
    if split not in SPLITS:
        raise DatasetError(f"COCO: split must be one of {', '.join(SPLITS)}, got {split!r}")
    try:
        min_area = float(min_area)
    except (TypeError, ValueError):
        raise DatasetError(f"COCO: min_area must be a number of px^2, got {min_area!r}") from None
    if not min_area >= 0:
        raise DatasetError(f"COCO: min_area must be >= 0, got {min_area}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"COCO: root {root} is not a directory; expected {_expected(split)}")
    annotation_file = root / "annotations" / f"instances_{split}.json"
    if not annotation_file.is_file():
        raise DatasetError(f"COCO: {annotation_file} not found; expected {_expected(split)}")
    image_dir = root / split
    if not image_dir.is_dir():
        raise DatasetError(f"COCO: image folder {image_dir} not found; expected {_expected(split)}")
    coco = _read_annotations(annotation_file)
    categories = {cid: str(cat.get("name", cid)) for cid, cat in coco.cats.items()}
    folder = str(image_dir)
    out = []
    for ann_id in sorted(coco.anns):
        ann = coco.anns[ann_id]
        if ann.get("iscrowd", 0):
            continue
        try:
            box = np.asarray(ann["bbox"], dtype=np.float64).reshape(1, 4)
            image = coco.imgs[ann["image_id"]]
            file_name = image["file_name"]
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"COCO: {annotation_file}: annotation {ann_id} is malformed ({exc!r})") from exc
        w, h = box[0, 2], box[0, 3]
        if not (np.isfinite(box).all() and w >= 1 and h >= 1) or w * h < min_area:
            continue
        stem = Path(file_name).stem
        out.append(Sequence(
            name=f"{stem}_{ann_id}", dataset="coco", boxes=box, frames=ImageFiles(folder, [file_name]),
            video=stem, is_static_image=True,
            attributes={"category": categories.get(ann.get("category_id"), str(ann.get("category_id"))),
                        "category_id": ann.get("category_id"), "image_id": ann["image_id"],
                        "annotation_id": ann_id,
                        "image_size": (image.get("width"), image.get("height"))}))
    if not out:
        raise DatasetError(f"COCO: {annotation_file} has no usable non-crowd instance")
    return out
