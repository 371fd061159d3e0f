"""UAV123 (30 fps) and UAV123@10fps in their official layouts.

UAV123:       ``<root>/data_seq/UAV123/<folder>/000001.jpg`` + ``<root>/anno/UAV123/<name>.txt``
UAV123@10fps: ``<root>/data_seq/UAV123_10fps/<folder>/000001.jpg`` + ``<root>/anno/UAV123_10fps/<name>.txt``
(``data_seq/<folder>`` and ``anno/<name>.txt`` directly under root are accepted too.)
Boxes are x, y, w, h; NaN rows mean the target is fully occluded or out of view (not scored).
Attributes come from ``anno/<version>/att/<name>.txt`` (12 flags) when present.

Several sequences are cut from one long video; SUBSEQUENCES gives their frame ranges in the folder
(first and last frame, inclusive, as in the dataset's configSeqs.m). Every other sequence uses the
folder of the same name from frame 1 for as many frames as it has boxes.
"""


from fcot_ros.datasets.parsing import frame_number, list_images, read_flags, read_numbers, require_dir, select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import ConfigurationError, DatasetError

# name: (30 fps first, 30 fps last, 10 fps first, 10 fps last); the folder is the name without "_<k>"
_TABLE = """
bird1_1 1 253 1 85
bird1_2 775 1477 259 493
bird1_3 1573 2437 525 813
car1_1 1 751 1 251
car1_2 751 1627 251 543
car1_3 1627 2629 543 877
car6_1 1 487 1 163
car6_2 487 1807 163 603
car6_3 1807 2953 603 985
car6_4 2953 3925 985 1309
car6_5 3925 4861 1309 1621
car8_1 1 1357 1 453
car8_2 1357 2575 453 859
car16_1 1 415 1 139
car16_2 415 1993 139 665
group1_1 1 1333 1 445
group1_2 1333 2515 445 839
group1_3 2515 3925 839 1309
group1_4 3925 4873 1309 1625
group2_1 1 907 1 303
group2_2 907 1771 303 591
group2_3 1771 2683 591 895
group3_1 1 1567 1 523
group3_2 1567 2827 523 943
group3_3 2827 4369 943 1457
group3_4 4369 5527 1457 1843
person2_1 1 1189 1 397
person2_2 1189 2623 397 875
person4_1 1 1501 1 501
person4_2 1501 2743 501 915
person5_1 1 877 1 293
person5_2 877 2101 293 701
person7_1 1 1249 1 417
person7_2 1249 2065 417 689
person8_1 1 1075 1 359
person8_2 1075 1525 359 509
person12_1 1 601 1 201
person12_2 601 1621 201 541
person14_1 1 847 1 283
person14_2 847 1813 283 605
person14_3 1813 2923 605 975
person17_1 1 1501 1 501
person17_2 1501 2347 501 783
person19_1 1 1243 1 415
person19_2 1243 2791 415 931
person19_3 2791 4357 931 1453
truck4_1 1 577 1 193
truck4_2 577 1261 193 421
uav1_1 1 1555 1 519
uav1_2 1555 2377 519 793
uav1_3 2473 3469 825 1157
"""
SUBSEQUENCES = {}
for _line in _TABLE.strip().splitlines():
    _name, *_numbers = _line.split()
    _a, _b, _c, _d = map(int, _numbers)
    SUBSEQUENCES[_name] = {"30fps": (_a, _b), "10fps": (_c, _d)}

ATTRIBUTES = ("SV", "ARC", "LR", "FM", "FOC", "POC", "OV", "BC", "IV", "VC", "CM", "SOB")
VERSIONS = {"30fps": "UAV123", "10fps": "UAV123_10fps"}


def folder_of(name: str) -> str:
    """Video folder of a sequence: ``person12_1`` -> ``person12`` for table entries, else the name."""
    return name.rsplit("_", 1)[0] if name in SUBSEQUENCES else name


def _first_dir(candidates, what, expected):
    for path in candidates:
        if path.is_dir():
            return path
    raise DatasetError(f"{what}: none of {', '.join(str(c) for c in candidates)} exists; expected {expected}")


def load(root, sequences=None, version: str = "30fps"):
    """UAV123 sequences under ``root``; ``version`` is "30fps" or "10fps"."""
    if version not in VERSIONS:
        raise ConfigurationError(f"UAV123 version must be one of {tuple(VERSIONS)}")
    sub = VERSIONS[version]
    label = "UAV123" if version == "30fps" else "UAV123@10fps"
    expected = f"<root>/data_seq/{sub}/<video>/000001.jpg and <root>/anno/{sub}/<sequence>.txt"
    root = require_dir(root, f"{label} root", expected)
    anno_dir = _first_dir([root / "anno" / sub, root / "anno"], f"{label} root {root}", expected)
    data_dir = _first_dir([root / "data_seq" / sub, root / "data_seq"], f"{label} root {root}", expected)
    names = sorted(p.stem for p in anno_dir.glob("*.txt"))
    if not names:
        raise DatasetError(f"{label} root {root}: no annotation files in {anno_dir}; expected {expected}")
    out = []
    for name in select(names, sequences, f"{label} root {root}"):
        boxes = read_numbers(anno_dir / f"{name}.txt", columns=4)
        folder = data_dir / folder_of(name)
        if not folder.is_dir():
            raise DatasetError(f"{label} {name}: frame folder {folder} is missing")
        first, last = SUBSEQUENCES.get(name, {}).get(version, (1, len(boxes)))
        if last - first + 1 != len(boxes):
            raise DatasetError(f"{label} {name}: {len(boxes)} boxes but the table gives frames {first}-{last}")
        by_number = {frame_number(p): p for p in list_images(folder)}
        missing = [n for n in range(first, last + 1) if n not in by_number]
        if missing:
            raise DatasetError(f"{label} {name}: frames {missing[0]}..{missing[-1]} missing in {folder}")
        attributes = ()
        att_file = anno_dir / "att" / f"{name}.txt"
        if att_file.is_file():
            flags = read_flags(att_file)
            attributes = tuple(a for a, f in zip(ATTRIBUTES, flags) if f)
        out.append(Sequence(name=name, dataset="uav123" if version == "30fps" else "uav123_10fps",
                            frames=[str(by_number[n]) for n in range(first, last + 1)],
                            boxes=boxes, tags=attributes))
    return out

