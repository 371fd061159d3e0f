"""The one table of dataset readers: name -> ``Reader``; ``load(name, root, sequences, **options)``.

Evaluation (``fcot eval --dataset <name>``) and training (a recipe's ``data.sources[i].kind``, through
``training.data.dataset.KINDS``) both read through it. A reader is a function
``reader(root, [sequences=None,] **options) -> List[Sequence]`` that raises DatasetError naming the
file at fault; ``sequences`` (a list of names) is passed on when the reader takes it, else the
sequences it returned are filtered by name.
"""
import inspect
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from fcot_ros.datasets import coco, folder, got10k, lasot, nfs, otb, rosbag, trackingnet, uav123, vot
from fcot_ros.datasets.parsing import select
from fcot_ros.datasets.sequence import Sequence
from fcot_ros.errors import DatasetError


@dataclass(frozen=True)
class Reader:
    """One entry of the registry.

    load:       the reader function (module doc).
    title:      human name for reports ("OTB-100", "GOT-10k val").
    submission: "got10k" / "trackingnet" for test sets scored by a server (zip of results), else None.
    ope:        False when one-pass evaluation makes no sense (COCO: single still images).
    fixed:      options bound for this name (e.g. uav123_10fps = the uav123 reader with version="10fps").
    """

    load: Callable[..., List[Sequence]]
    title: str
    submission: Optional[str] = None
    ope: bool = True
    fixed: Dict[str, object] = field(default_factory=dict)


READERS: Dict[str, Reader] = {
    "otb": Reader(otb.load, "OTB-100"),
    "uav123": Reader(uav123.load, "UAV123", fixed={"version": "30fps"}),
    "uav123_10fps": Reader(uav123.load, "UAV123@10fps", fixed={"version": "10fps"}),
    "lasot": Reader(lasot.load_test, "LaSOT test"),
    "lasot_train": Reader(lasot.load_train, "LaSOT train"),
    "got10k": Reader(got10k.load, "GOT-10k train/val"),
    "got10k_val": Reader(got10k.load_val, "GOT-10k val"),
    "got10k_test": Reader(got10k.load_test, "GOT-10k test", submission="got10k"),
    "trackingnet": Reader(trackingnet.load_test, "TrackingNet test", submission="trackingnet"),
    "trackingnet_train": Reader(trackingnet.load_train, "TrackingNet train"),
    "nfs": Reader(nfs.load, "NfS 30 fps"),
    "vot": Reader(vot.load, "VOT (axis-aligned, OPE)"),
    "coco": Reader(coco.load, "COCO 2017 instances", ope=False),
    "folder": Reader(folder.load, "sequence folders"),
    "rosbag": Reader(rosbag.load, "rosbag2 recordings"),
}


def reader(name: str) -> Reader:
    """The registry entry ``name``; DatasetError listing the names otherwise."""
    if name not in READERS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(READERS)}")
    return READERS[name]


def _parameters(name: str) -> List[str]:
    entry = reader(name)
    return [p for p in inspect.signature(entry.load).parameters if p != "root"]


def reader_options(name: str) -> List[str]:
    """Names of the options reader ``name`` accepts (besides ``root`` and ``sequences``), in order."""
    fixed = reader(name).fixed
    return [p for p in _parameters(name) if p != "sequences" and p not in fixed]


def load(name: str, root, sequences=None, **options) -> List[Sequence]:
    """Read dataset ``name`` from ``root``; ``sequences`` keeps only those names (DatasetError for an
    unknown one). Unknown options are refused with a DatasetError listing the valid ones."""
    entry = reader(name)
    allowed = reader_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DatasetError(f"{name}: unknown option(s) {', '.join(unknown)}; "
                           f"valid options: {', '.join(allowed) or 'none'}")
    if "sequences" in _parameters(name):
        return entry.load(root, sequences=sequences, **entry.fixed, **options)
    found = entry.load(root, **entry.fixed, **options)
    if sequences is None:
        return found
    keep = set(select([s.name for s in found], sequences, f"{name} root {root}"))
    return [s for s in found if s.name in keep]


def human_name(name: str) -> str:
    """Title of dataset ``name`` for reports (the name itself when unknown)."""
    return READERS[name].title if name in READERS else name


def submission_format(name: str) -> Optional[str]:
    """"got10k" / "trackingnet" for test sets scored by a server, else None."""
    return READERS[name].submission if name in READERS else None
