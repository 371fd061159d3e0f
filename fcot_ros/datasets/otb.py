"""OTB-100 (OTB2015) in its official layout: ``<root>/<Seq>/img/0001.jpg`` and
``<root>/<Seq>/groundtruth_rect.txt`` (x, y, w, h per line; ',' or tab or space separated).

Special cases handled (facts of the official release):
- Two targets annotated in one folder: ``groundtruth_rect.1.txt`` / ``.2.txt`` give the sequences
  ``Jogging.1``, ``Jogging.2``, ``Skating2.1``, ``Skating2.2``; Human4 has only ``.2`` -> ``Human4.2``.
- Annotation shorter than the folder: frames are matched from the first annotated frame for as many
  frames as there are boxes (Diving 1-215, Football1 1-74, Freeman3 1-460, Freeman4 1-283).
- Annotation starting at an offset: David is annotated from frame 300 (300-770); BlurCar1 (247),
  BlurCar3 (3) and BlurCar4 (18) have no frames before their first annotated one.
- Tiger1: the first 5 frames and boxes are left out (tracking starts at frame 6), as the OTB toolkit does.
- Board uses 5-digit file names (00001.jpg); file names are parsed, not assumed.
"""
import re
from pathlib import Path

from fcot_ros.datasets.parsing import frame_number, list_images, read_boxes, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError

# sequence folder -> first frame number of its annotation (when not the first image in img/)
FIRST_FRAME = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}
# sequence folder -> frames (and boxes) dropped at the start
INIT_OMIT = {"Tiger1": 5}
EXPECTED = "<root>/<Sequence>/img/0001.jpg and <root>/<Sequence>/groundtruth_rect.txt (OTB-100)"
_MULTI = re.compile(r"^groundtruth_rect\.(\d+)\.txt$")


def _annotations(folder: Path):
    """[(sequence name, annotation path)] of one OTB folder."""
    multi = sorted((int(m.group(1)), p) for p in folder.iterdir()
                   if (m := _MULTI.match(p.name)) and p.stat().st_size > 0)
    if multi:
        return [(f"{folder.name}.{index}", path) for index, path in multi]
    single = folder / "groundtruth_rect.txt"
    return [(folder.name, single)] if single.is_file() else []


def _build(folder: Path, name: str, anno_path: Path) -> Sequence:
    boxes = read_boxes(anno_path)
    images = list_images(folder / "img")
    numbers = [frame_number(p) for p in images]
    first = FIRST_FRAME.get(folder.name, numbers[0] if numbers else 1)
    by_number = dict(zip(numbers, images))
    wanted = range(first, first + len(boxes))
    missing = [n for n in wanted if n not in by_number]
    if missing:
        raise DatasetError(f"OTB {name}: {len(boxes)} boxes from frame {first} but frames "
                           f"{missing[0]}..{missing[-1]} are missing in {folder / 'img'}")
    frames = [str(by_number[n]) for n in wanted]
    omit = INIT_OMIT.get(folder.name, 0)
    return Sequence(name=name, dataset="otb", frames=frames[omit:], boxes=boxes[omit:])


def load(root, sequences=None):
    """All OTB sequences under ``root`` (any subset of the 100 that is present), sorted by name."""
    root = require_dir(root, "OTB-100 root", EXPECTED)
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not (folder / "img").is_dir():
            continue
        for name, anno in _annotations(folder):
            found[name] = (folder, anno)
    if not found:
        raise DatasetError(f"OTB-100 root {root}: no sequence folder found; expected {EXPECTED}")
    names = select(sorted(found), sequences, f"OTB-100 root {root}")
    return [_build(found[n][0], n, found[n][1]) for n in names]
