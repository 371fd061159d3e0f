"""Which frames make a training sample: DiMP's causal sampling of train and test frames, and still
images turned into pairs (the paper's COCO), drawn with an explicit random generator.

A sample is one sequence and the frame indices of its ``num_train`` train frames (the first one is
the newest: the RMG initial filter comes from it) and ``num_test`` test frames, all visible:

    base  = a visible frame in [num_train - 1, N - num_test)
    train = [base] + (num_train - 1) visible frames in [base - gap, base)
    test  = num_test visible frames in (base, base + gap]         gap = max_gap, then + gap_increase
                                                                  after every failed draw
(drawn with replacement, as DiMP). A still image gives the same frame num_train + num_test times;
the jitter of the processing makes the crops differ.
"""
from dataclasses import dataclass
from typing import List, Tuple
from typing import Sequence as SequenceType

import numpy as np

from fcot_ros.datasets import Sequence
from fcot_ros.errors import DatasetError

MAX_DRAWS = 100      # sequences tried before a source is declared unusable


@dataclass(frozen=True)
class SampleSpec:
    """One training sample: a sequence and the indices of its train frames (newest first) and test frames."""

    sequence: Sequence
    train_ids: Tuple[int, ...]
    test_ids: Tuple[int, ...]


@dataclass
class WeightedSource:
    """Sequences of one recipe source, its sampling weight, and whether its frames are used as stills."""

    name: str
    sequences: List[Sequence]
    weight: float
    static_images: bool = False


def _visible_in(visible: np.ndarray, low: int, high: int) -> np.ndarray:
    low, high = max(low, 0), min(high, len(visible))
    if high <= low:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(visible[low:high]) + low


class SampleSampler:
    """draw(rng) -> SampleSpec from weighted sources (see the module doc)."""

    def __init__(self, sources: SequenceType[WeightedSource], num_train: int = 3, num_test: int = 3, max_gap: int = 30,
                 gap_increase: int = 5, min_visible: int = 2):
        self.num_train, self.num_test = num_train, num_test
        self.max_gap, self.gap_increase = max_gap, gap_increase
        self.sources, self._stills, self._videos = [], [], []
        for source in sources:
            if source.static_images:
                stills = [(seq, int(i)) for seq in source.sequences for i in np.flatnonzero(seq.visible)]
                usable = stills
            else:
                usable = [seq for seq in source.sequences
                          if seq.is_static_image or int(seq.visible.sum()) >= min_visible]
                stills = None
            if not usable:
                raise DatasetError(f"training source {source.name} has no usable sequence "
                                   f"(needs >= {min_visible} visible frames)")
            self.sources.append(source)
            self._stills.append(stills)
            self._videos.append(usable)
        weights = np.array([s.weight for s in self.sources], dtype=np.float64)
        self.probabilities = weights / weights.sum()

    def __len__(self):
        return sum(len(v) for v in self._videos)

    def draw(self, rng: np.random.Generator) -> SampleSpec:
        """One sample from a source chosen by weight (still images give the same frame throughout)."""
        k = int(rng.choice(len(self.sources), p=self.probabilities))
        if self._stills[k] is not None:
            seq, frame = self._stills[k][int(rng.integers(len(self._stills[k])))]
            return self._still(seq, frame)
        videos = self._videos[k]
        for _ in range(MAX_DRAWS):
            seq = videos[int(rng.integers(len(videos)))]
            if seq.is_static_image:
                return self._still(seq, int(np.flatnonzero(seq.visible)[0]))
            spec = self.causal_frames(seq, rng)
            if spec is not None:
                return spec
        raise DatasetError(f"no sample could be drawn from source {self.sources[k].name} in {MAX_DRAWS} tries")

    def _still(self, seq, frame):
        return SampleSpec(seq, (frame,) * self.num_train, (frame,) * self.num_test)

    def causal_frames(self, seq: Sequence, rng: np.random.Generator):
        """SampleSpec of DiMP's causal sampling on ``seq``, or None when it has too few visible frames."""
        visible, n = seq.visible, seq.num_frames
        bases = _visible_in(visible, self.num_train - 1, n - self.num_test)
        if len(bases) == 0:
            return None
        gap = self.max_gap
        while gap <= self.max_gap + n + self.gap_increase:
            base = int(rng.choice(bases))
            before = _visible_in(visible, base - gap, base)
            after = _visible_in(visible, base + 1, base + gap + 1)
            if (len(before) or self.num_train == 1) and len(after):
                prev = rng.choice(before, size=self.num_train - 1) if self.num_train > 1 else []
                test = rng.choice(after, size=self.num_test)
                return SampleSpec(seq, (base,) + tuple(int(i) for i in prev), tuple(int(i) for i in test))
            gap += self.gap_increase
        return None
