r"""Make the package's weights file from a training checkpoint: the model only (no optimizer or RNG
state), without the frozen backbone (its ImageNet weights install with the package), with the
run's provenance in meta.

    python -m training.ship --checkpoint runs/fcot_lite_cpu_v1/checkpoint_ep0008.pt \
        --out fcot_ros/data/weights/fcot_lite.pt
"""
import argparse
import sys
from pathlib import Path

from fcot_ros.checkpoints import save_model
from fcot_ros.errors import FCOTError


def ship(checkpoint, out, note=""):
    """Write the weights file ``out`` from ``checkpoint`` (model only, no frozen backbone, provenance in meta).
    Returns its path."""
    from fcot_ros.assembly import load_model
    from fcot_ros.checkpoints.native import load_checkpoint
    _, meta = load_checkpoint(checkpoint)
    model = load_model(meta["model"], checkpoint)
    training = dict(meta.get("training") or {})
    recipe = training.get("recipe") or {}
    backbone_trained = any(str(m).startswith("backbone") for m in (recipe.get("model") or {}).get("train", []))
    omit = () if backbone_trained or model.config.backbone != "efficientnet_lite0" else ("backbone.",)
    save_model(out, model, omit_prefixes=omit, training={k: v for k, v in training.items()},
               source_checkpoint=Path(checkpoint).name, note=note)
    return Path(out)


def main(argv=None) -> int:
    """Command line: ship a checkpoint and print the file's size; 0 on success, 2 on an error."""
    parser = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    try:
        path = ship(args.checkpoint, args.out, args.note)
    except FCOTError as exc:
        print(f"python -m training.ship: error: {exc}", file=sys.stderr)
        return 2
    print(f"{path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
