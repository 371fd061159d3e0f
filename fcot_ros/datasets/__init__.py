"""One dataset package for evaluation and training: readers of every layout, one sequence type,
one registry. No ROS, no torch.

Modules (one job each):
    sequence     ``Sequence``: name, frames (random access), (N, 4) xywh boxes with NaN for absent or
                 unknown, absence flags, per-frame confidence, video, tags, attributes
    frames       frame stores: ``ImageFiles`` (image files), ``FrameSlice`` (a segment), ``read_image``
    parsing      text tables, per-frame label files, name lists, image listing, layout checks
    registry     ``READERS`` (name -> Reader), ``load(name, root, sequences, **options)``
    otb, uav123, lasot, got10k, trackingnet, nfs, vot, coco, folder, rosbag: one reader per layout
Errors: ``fcot_ros.errors.DatasetError`` (an FCOTError and ValueError) naming the file at fault.
Users: ``fcot_ros.evaluation`` (OPE, ``fcot eval`` / ``fcot bench``), ``training`` (recipes' sources,
packs, validation) and the tools.
"""
from fcot_ros.datasets.frames import FrameSlice, ImageFiles, read_image
from fcot_ros.datasets.registry import READERS, Reader, human_name, load, reader_options, submission_format
from fcot_ros.datasets.sequence import Sequence, valid_boxes
from fcot_ros.errors import DatasetError

__all__ = ["READERS", "DatasetError", "FrameSlice", "ImageFiles", "Reader", "Sequence", "human_name", "load",
           "read_image", "reader_options", "submission_format", "valid_boxes"]
