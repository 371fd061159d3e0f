"""python -m training --config training/configs/<recipe>.yaml [--resume PATH] [--set key=value ...]

A dsiam_lite recipe (model.name: dsiam_lite) is trained by training.dsiam_train (unrolled clips).

One process, or one per GPU / CPU rank under torchrun:
    torchrun --standalone --nproc_per_node=8 -m training --config training/configs/fcot_r50_3stage_s1.yaml
"""
import argparse
import logging
import sys

from fcot_ros.errors import FCOTError


def main(argv=None) -> int:
    """Command line of ``python -m training``: train a recipe (or resume a run); 0 on success, 2 on an error."""
    parser = argparse.ArgumentParser(prog="python -m training", description="FCOT offline training")
    parser.add_argument("--config", required=True, help="recipe YAML (training/configs/)")
    parser.add_argument("--resume", default=None, help="checkpoint of a run to continue exactly")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe field, e.g. --set run.out_dir=runs/x --set optim.epochs=2")
    parser.add_argument("--out", default=None, help="output folder (default: run.out_dir of the recipe)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if _is_dsiam_recipe(args.config):
        return _train_dsiam(args)
    from training.config import load_recipe
    from training.trainer import train
    try:
        recipe = load_recipe(args.config, args.overrides)
        result = train(recipe, resume=args.resume, out_dir=args.out)
    except FCOTError as exc:
        print(f"python -m training: error: {exc}", file=sys.stderr)
        return 2
    if result.checkpoint is not None:
        print(f"{result.steps} steps, {result.epochs} epochs, {result.samples_per_second:.2f} samples/s; "
              f"checkpoint {result.checkpoint}")
        for name, path in result.exports.items():
            print(f"export {name}: {path}")
    return 0


def _is_dsiam_recipe(path) -> bool:
    """True when the recipe's model.name is dsiam_lite (trained by training.dsiam_train)."""
    import yaml
    try:
        recipe = yaml.safe_load(open(path))
    except (OSError, yaml.YAMLError):
        return False                      # load_recipe reports the error
    return isinstance(recipe, dict) and (recipe.get("model") or {}).get("name") == "dsiam_lite"


def _train_dsiam(args) -> int:
    from training.dsiam_train import load_dsiam_recipe, train_dsiam
    if args.resume:
        print("python -m training: error: dsiam_lite recipes do not resume (start a new run from model.init)",
              file=sys.stderr)
        return 2
    try:
        result = train_dsiam(load_dsiam_recipe(args.config, args.overrides), out_dir=args.out)
    except FCOTError as exc:
        print(f"python -m training: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result['steps']} steps in {result['seconds']:.0f} s, loss {result['loss_first']:.4f} -> "
          f"{result['loss_last']:.4f}; checkpoint {result['checkpoint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
