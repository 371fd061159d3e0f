"""Sequences for one-pass evaluation, read through the one dataset registry (``fcot_ros.datasets``).

``load_dataset(name, root, sequences, **options)`` is ``fcot_ros.datasets.load`` plus what OPE needs:
every sequence must have a valid first box (the tracker starts from it), datasets of still images
(COCO) are refused, and folder datasets come in name order (the order of OPE reports and benches).
"""
from typing import List

from fcot_ros.datasets import READERS, Sequence, load
from fcot_ros.errors import DatasetError

# the names ``fcot eval --dataset`` accepts
OPE_DATASETS = tuple(name for name, entry in READERS.items() if entry.ope)


def load_dataset(name: str, root, sequences=None, **options) -> List[Sequence]:
    """Read dataset ``name`` from ``root`` for OPE; ``sequences`` restricts to those names.

    ``options`` go to the reader (rosbag: topic, groundtruth; vot: polygon; see ``reader_options``).
    """
    if name in READERS and not READERS[name].ope:
        raise DatasetError(f"dataset {name!r} holds still images: one-pass evaluation needs videos "
                           f"(choose one of {', '.join(OPE_DATASETS)})")
    found = load(name, root, sequences, **options)
    if name == "folder":
        found = sorted(found, key=lambda s: s.name)
    for seq in found:
        seq.init_box                     # DatasetError when the first frame has no valid box
    return found
