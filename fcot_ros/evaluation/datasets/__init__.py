"""Dataset readers, one module per benchmark layout; ``load_dataset(name, root)`` picks one.

Every reader returns a list of ``fcot_ros.evaluation.sequence.Sequence`` and raises
``DatasetError`` (an FCOTError) with the expected layout when ``root`` does not match it.
"""
import importlib

from fcot_ros.evaluation.datasets.common import DatasetError

# dataset name -> (module, function, human name, submission format or None)
DATASETS = {
    "otb": ("otb", "load", "OTB-100", None),
    "uav123": ("uav123", "load", "UAV123", None),
    "uav123_10fps": ("uav123", "load_10fps", "UAV123@10fps", None),
    "lasot": ("lasot", "load", "LaSOT test", None),
    "got10k_val": ("got10k", "load_val", "GOT-10k val", None),
    "got10k_test": ("got10k", "load_test", "GOT-10k test", "got10k"),
    "trackingnet": ("trackingnet", "load", "TrackingNet test", "trackingnet"),
    "nfs": ("nfs", "load", "NfS 30 fps", None),
    "vot": ("vot", "load", "VOT (axis-aligned, OPE)", None),
    "folder": ("folder", "load", "sequence folders", None),
    "rosbag": ("rosbag", "load", "rosbag2 recordings", None),
}


def load_dataset(name: str, root, sequences=None, **options):
    """Read dataset ``name`` (a key of DATASETS) from ``root``; ``sequences`` restricts to those names.

    ``options`` go to the reader (rosbag: topic, groundtruth; vot: polygon).
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    module_name, function, _, _ = DATASETS[name]
    module = importlib.import_module(f"fcot_ros.evaluation.datasets.{module_name}")
    return getattr(module, function)(root, sequences, **options)


def human_name(name: str) -> str:
    return DATASETS[name][2] if name in DATASETS else name


def submission_format(name: str):
    """"got10k" / "trackingnet" for test sets scored by a server, else None."""
    return DATASETS[name][3] if name in DATASETS else None


__all__ = ["DATASETS", "DatasetError", "load_dataset", "human_name", "submission_format"]
