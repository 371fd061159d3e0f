"""Run one tracker over one sequence (one-pass evaluation: initialise on frame 1, never re-initialise).

Timing: ``times_s[i]`` is the wall-clock time in seconds of the tracker call on frame i
(``initialize`` for frame 0, ``track`` afterwards), measured around the call only: image
decoding is excluded, everything the tracker does (crop, network, optimizers, decode) is included.
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from fcot_ros.datasets import Sequence

BASELINE_PREFIX = "opencv_"


@dataclass(frozen=True)
class TrackerSpec:
    """What to build: ``build_tracker(model, backend, weights, preset)``; ``name`` names result folders.
    For a baseline only ``weights`` counts (opencv_nano: the folder of its ONNX files)."""

    model: str
    backend: str = "auto"
    preset: str = "default"
    weights: Optional[str] = None
    name: Optional[str] = None
    overrides: Tuple[Tuple[str, object], ...] = ()     # tracker parameters over the preset's (ours)

    @property
    def is_learned(self) -> bool:
        """True for our models (FCOT, DSiam: backend, preset and overrides apply), False for the OpenCV baselines."""
        return not self.model.startswith(BASELINE_PREFIX)

    @property
    def display_name(self) -> str:
        """``model`` plus ``_<preset>`` / ``@<backend>`` when not the defaults (OpenCV ignores both)."""
        if self.name:
            return self.name
        label = self.model
        if self.is_learned and self.preset != "default":
            label += f"_{self.preset}"
        if self.is_learned and self.backend != "auto":
            label += f"@{self.backend}"
        return label

    def build(self):
        """A new tracker for this spec (ours: model, backend, weights, preset, overrides; baselines: model, weights)."""
        from fcot_ros import build_tracker
        if self.is_learned:
            return build_tracker(model=self.model, backend=self.backend, weights=self.weights, preset=self.preset,
                                 **dict(self.overrides))
        return build_tracker(model=self.model, weights=self.weights)     # opencv_nano: its ONNX folder


def parse_trackers(text: str, backend: str = "auto", preset: str = "default", weights=None) -> List[TrackerSpec]:
    """``"fcot_lite,opencv_csrt"`` -> TrackerSpecs (backend / preset / weights apply to the learned models).

    Unknown model, backend or preset names raise ConfigurationError at once, before anything runs.
    """
    from fcot_ros.assembly.registry import check_backend, model_spec
    from fcot_ros.errors import ConfigurationError
    from fcot_ros.tracker.params import PRESETS
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ConfigurationError("no tracker given")
    from fcot_ros.tracker.dsiam_params import PRESETS as DSIAM_PRESETS
    kinds = [model_spec(name).kind for name in names]
    learned = [kind != "opencv" for kind in kinds]
    if any(learned):
        backend = check_backend(backend)
    for name, kind, is_learned in zip(names, kinds, learned):
        presets = DSIAM_PRESETS if kind == "dsiam" else PRESETS
        if is_learned and preset not in presets:
            raise ConfigurationError(f"unknown preset {preset!r} for {name}; choose one of {', '.join(presets)}")
    return [TrackerSpec(model=n, backend=backend, preset=preset, weights=weights) if is_learned
            else TrackerSpec(model=n) for n, is_learned in zip(names, learned)]


@dataclass
class SequenceRun:
    """Output of one tracker on one sequence: boxes (N, 4) xywh pixels, per-frame seconds, scores,
    states and per-stage milliseconds (TrackResult.timings) of every tracked frame."""

    boxes: np.ndarray
    times_s: np.ndarray
    scores: np.ndarray
    states: List[str]
    stage_ms: Dict[str, List[float]] = field(default_factory=dict)

    @property
    def track_time_s(self) -> float:
        """Total seconds of the track() calls (frame 0's initialize excluded)."""
        return float(np.sum(self.times_s[1:]))


def run_sequence(tracker, sequence: Sequence, on_frame: Optional[Callable[[int], None]] = None) -> SequenceRun:
    """Initialise ``tracker`` with the first ground-truth box, then track every later frame."""
    n = len(sequence)
    boxes = np.full((n, 4), np.nan)
    times = np.zeros(n)
    scores = np.full(n, np.nan)
    states: List[str] = []
    stage_ms: Dict[str, List[float]] = {}
    for index, image in enumerate(sequence.iter_frames()):
        if index >= n:
            break
        if index == 0:
            start = time.perf_counter()
            tracker.initialize(image, sequence.init_box)
            times[0] = time.perf_counter() - start
            boxes[0] = sequence.init_box
            scores[0] = 1.0
            states.append("init")
        else:
            start = time.perf_counter()
            result = tracker.track(image)
            times[index] = time.perf_counter() - start
            boxes[index] = result.box
            scores[index] = result.score
            states.append(result.state)
            for key, value in (result.timings or {}).items():
                stage_ms.setdefault(key, []).append(float(value))
        if on_frame is not None:
            on_frame(index)
    if len(states) != n:
        raise IOError(f"sequence {sequence.name}: got {len(states)} frames, expected {n}")
    return SequenceRun(boxes=boxes, times_s=times, scores=scores, states=states, stage_ms=stage_ms)
