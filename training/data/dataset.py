"""The training set of one epoch: ``samples_per_epoch`` samples, each drawn afresh from the recipe's
sources with a random generator seeded by (seed, epoch, index) (epoch 0 every time when
``data.resample_every_epoch`` is false). A sample is therefore the same
whichever process, worker or rank draws it, so that resume and multi-process runs are exact.
"""
from typing import Dict, List

import numpy as np
import torch
from torch.utils.data import Dataset

from fcot_ros.errors import DatasetError
from training.config import DataConfig, resolve_path
from training.data.processing import Jitter, process_sample
from training.data.sampler import SampleSampler, WeightedSource
from training.data.sources import load_source
from training.data.splits import read_split, select_split


def load_sources(data: DataConfig) -> List[WeightedSource]:
    """The recipe's sources, read and split (module training.data.splits)."""
    validation = read_split(resolve_path(data.split_file)) if data.split_file else set()
    out = []
    for i, src in enumerate(data.sources):
        sequences = load_source(src.kind, resolve_path(src.root), **src.options)
        chosen = select_split(sequences, validation, src.split)
        if not chosen:
            raise DatasetError(f"data.sources[{i}] ({src.kind} at {src.root}, split {src.split}) has no sequence left")
        out.append(WeightedSource(f"{src.kind}:{src.root}", chosen, src.weight, src.static_images))
    return out


class SampleDataset(Dataset):
    """Item i of epoch e: dict of tensors train_images (Ntr, 3, S, S) float32 BGR 0..255,
    train_boxes (Ntr, 4) crop px, test_images (Nte, 3, S, S), test_boxes (Nte, 4)."""

    def __init__(self, sources: List[WeightedSource], data: DataConfig, crop_size: int, seed: int):
        self.data, self.crop_size, self.seed = data, crop_size, seed
        self.sampler = SampleSampler(sources, data.num_train_frames, data.num_test_frames, data.max_gap,
                                     data.gap_increase, data.min_visible_frames)
        self.epoch = 0

    def set_epoch(self, epoch: int):
        """Use epoch ``epoch``'s samples (part of every item's random seed)."""
        self.epoch = int(epoch)

    def __len__(self):
        return self.data.samples_per_epoch

    def rng(self, index: int) -> np.random.Generator:
        """The random generator of item ``index`` in this epoch, seeded by (seed, epoch, index)."""
        epoch = self.epoch if self.data.resample_every_epoch else 0
        return np.random.default_rng([self.seed, epoch, int(index)])

    def __getitem__(self, index) -> Dict[str, torch.Tensor]:
        rng = self.rng(index)
        spec = self.sampler.draw(rng)
        seq, d = spec.sequence, self.data
        frames = {i: seq.frame(i) for i in set(spec.train_ids) | set(spec.test_ids)}
        sample = process_sample(
            [frames[i] for i in spec.train_ids], seq.boxes[list(spec.train_ids)],
            [frames[i] for i in spec.test_ids], seq.boxes[list(spec.test_ids)], rng,
            crop_size=self.crop_size, search_area_factor=d.search_area_factor,
            train_jitter=Jitter(d.train_jitter.center, d.train_jitter.scale),
            test_jitter=Jitter(d.test_jitter.center, d.test_jitter.scale),
            grayscale_probability=d.grayscale_probability, brightness_jitter=d.brightness_jitter)
        return {
            "train_images": torch.from_numpy(sample["train_images"]).permute(0, 3, 1, 2).float(),
            "train_boxes": torch.from_numpy(sample["train_boxes"]),
            "test_images": torch.from_numpy(sample["test_images"]).permute(0, 3, 1, 2).float(),
            "test_boxes": torch.from_numpy(sample["test_boxes"]),
        }


def collate(items):
    """Samples -> batch with the sequence axis second: images (N, S, 3, H, W), boxes (N, S, 4)."""
    return {k: torch.stack([it[k] for it in items], dim=1) for k in items[0]}
