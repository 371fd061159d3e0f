r"""How far two runs of the same tracker agree when only float rounding differs: fcot_lite with two
feature-network runtimes (features equal to ~1e-6) on the same sequences, frame by frame.

    python -m fcot_ros.tools.backend_agreement --sequences ../shared/data/sequences --names vot_book,otb_Car1 \
        [--backends onnxruntime,torch] [--preset default] [--weights W] [--set param=JSON ...]

Prints per sequence the mean IoU between the two runs' boxes, the first frame where it falls below
0.9 (where the runs part), and the overall mean over all frames. A tracker that amplifies rounding
(discrete choices that flip on near-ties) parts early and ends far apart.
"""
import argparse
import json
import sys

import numpy as np

from fcot_ros import build_tracker
from fcot_ros.evaluation.loading import load_dataset
from fcot_ros.tracker.box_geometry import box_iou


def agreement(sequence, trackers):
    """(per-frame IoU between the two trackers' boxes (N-1,), first frame below 0.9 or None)."""
    frames = sequence.iter_frames()
    first = next(frames)
    for t in trackers:
        t.initialize(first, sequence.init_box)
    ious = []
    for image in frames:
        a, b = (t.track(image).box for t in trackers)
        ious.append(box_iou(a, b))
    ious = np.asarray(ious)
    below = np.flatnonzero(ious < 0.9)
    return ious, (int(below[0]) + 1 if len(below) else None)


def main(argv=None) -> int:
    """Command line: one tracker on two backends, per-sequence IoU of their boxes as a table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", required=True, nargs="+", help="sequence folder roots")
    parser.add_argument("--names", default=None, help="comma-separated subset")
    parser.add_argument("--backends", default="onnxruntime,torch")
    parser.add_argument("--model", default="fcot_lite")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PARAM=JSON")
    args = parser.parse_args(argv)
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.overrides)}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    backends = [b.strip() for b in args.backends.split(",")]
    if len(backends) != 2:
        parser.error("--backends takes two runtimes")
    trackers = [build_tracker(model=args.model, backend=b, preset=args.preset, weights=args.weights, **overrides)
                for b in backends]
    names = set(n.strip() for n in args.names.split(",")) if args.names else None
    sequences = []
    for root in args.sequences:
        found = load_dataset("folder", root)
        sequences += [s for s in found if names is None or s.name in names]
    print(f"| sequence | frames | mean IoU {backends[0]} vs {backends[1]} | parted at frame |")
    print("|---|---:|---:|---:|")
    everything = []
    for seq in sequences:
        ious, parted = agreement(seq, trackers)
        everything.append(ious)
        print(f"| {seq.name} | {len(seq)} | {ious.mean():.3f} | {parted if parted is not None else '-'} |")
    allious = np.concatenate(everything) if everything else np.zeros(0)
    print(f"\nall {len(allious)} frames: mean IoU {allious.mean():.3f}, "
          f"sequence mean {np.mean([i.mean() for i in everything]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
