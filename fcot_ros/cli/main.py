"""Entry point of the ``fcot`` command: dispatches to the sub-command modules listed below."""
import argparse
import importlib
import sys

# module name -> sub-command; each module defines register(subparsers) and sets func on its parser.
SUBCOMMAND_MODULES = ("track", "bench", "eval", "export")


def build_parser() -> argparse.ArgumentParser:
    """The ``fcot`` argument parser with every sub-command of SUBCOMMAND_MODULES registered."""
    parser = argparse.ArgumentParser(prog="fcot", description="FCOT single-object tracking tools")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        # a sub-command that fails to import is a broken install: let the error show
        importlib.import_module(f"fcot_ros.cli.{name}").register(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the ``fcot`` command on ``argv`` (default: sys.argv); returns the sub-command's exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
