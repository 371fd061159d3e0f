"""The recipe's names for training sources (``data.sources[i].kind``) and ``load_source``.

Every source is read by the one dataset registry (``fcot_ros.datasets``); this module only maps the
recipe kinds onto its names (the train splits of LaSOT and TrackingNet have names of their own there,
since ``lasot`` / ``trackingnet`` are the test splits that ``fcot eval`` reads):

    got10k       GOT-10k train/val (official layout)        options: split, sequence_list
    lasot        LaSOT train split (official layout)        options: split_file
    trackingnet  TrackingNet TRAIN_0..TRAIN_11              options: chunks
    coco         COCO 2017 instances as static images       options: split, min_area
    folder       our sequence folders (index.tsv optional)  options: none
    rosbag       rosbag2 image topic + box file             options: topic, groundtruth, cache_dir
"""
from typing import Dict, List

from fcot_ros.datasets import Sequence, load, reader_options
from fcot_ros.errors import DatasetError

# recipe kind -> registry name (fcot_ros.datasets.READERS)
SOURCES: Dict[str, str] = {
    "got10k": "got10k",
    "lasot": "lasot_train",
    "trackingnet": "trackingnet_train",
    "coco": "coco",
    "folder": "folder",
    "rosbag": "rosbag",
}


def source_options(kind: str) -> List[str]:
    """Names of the options the reader of ``kind`` accepts (besides ``root``)."""
    if kind not in SOURCES:
        raise DatasetError(f"unknown training source {kind!r}; valid sources: {', '.join(SOURCES)}")
    return reader_options(SOURCES[kind])


def load_source(kind: str, root, **options) -> List[Sequence]:
    """Read the training sequences of source ``kind`` (a key of SOURCES) from ``root``.

    Unknown kinds and options are refused with a DatasetError listing the valid ones.
    """
    allowed = source_options(kind)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DatasetError(f"{kind}: unknown option(s) {', '.join(unknown)}; "
                           f"valid options: {', '.join(allowed) or 'none'}")
    return load(SOURCES[kind], root, **options)
