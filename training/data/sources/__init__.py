"""Readers of training sequences, one module per layout; ``load_source(kind, root, **options)`` picks one.

    got10k       GOT-10k train/val (official layout)        options: split, sequence_list
    lasot        LaSOT train split (official layout)        options: split_file
    trackingnet  TrackingNet TRAIN_0..TRAIN_11              options: chunks
    coco         COCO 2017 instances as static images       options: split, min_area
    folder       our sequence folders (index.tsv optional)  options: none
    rosbag       rosbag2 image topic + box file             options: topic, groundtruth, cache_dir

Every reader returns a list of ``TrainSequence`` and raises ``DatasetError`` (an FCOTError) naming
the missing or malformed file when ``root`` does not match its layout.
"""
import inspect
from typing import Callable, Dict, List

from fcot_ros.evaluation.datasets.common import DatasetError
from training.data.sources import coco, folder, got10k, lasot, rosbag, trackingnet
from training.data.sources.frames import ImageFiles, read_image
from training.data.sources.sequence import TrainSequence, valid_boxes

SOURCES: Dict[str, Callable[..., List[TrainSequence]]] = {
    "got10k": got10k.load,
    "lasot": lasot.load,
    "trackingnet": trackingnet.load,
    "coco": coco.load,
    "folder": folder.load,
    "rosbag": rosbag.load,
}


def source_options(kind: str) -> List[str]:
    """Names of the options the reader ``kind`` accepts (besides ``root``)."""
    if kind not in SOURCES:
        raise DatasetError(f"unknown training source {kind!r}; valid sources: {', '.join(SOURCES)}")
    return [name for name in inspect.signature(SOURCES[kind]).parameters if name != "root"]


def load_source(kind: str, root, **options) -> List[TrainSequence]:
    """Read the training sequences of source ``kind`` (a key of SOURCES) from ``root``.

    Unknown kinds and options are refused with a DatasetError listing the valid ones.
    """
    allowed = source_options(kind)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DatasetError(f"{kind}: unknown option(s) {', '.join(unknown)}; "
                           f"valid options: {', '.join(allowed) or 'none'}")
    return SOURCES[kind](root, **options)


__all__ = ["SOURCES", "DatasetError", "ImageFiles", "TrainSequence", "load_source", "read_image",
           "source_options", "valid_boxes"]
