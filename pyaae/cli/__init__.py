"""The command line: ``python -m pyaae {train,sample,eval,info} ...`` (``--help`` on each)."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import evaluate, info, sample, train

COMMANDS = {"train": train, "sample": sample, "eval": evaluate, "info": info}


def build_parser() -> argparse.ArgumentParser:
    """The parser with one sub-parser per command module (each has ``HELP``, ``add_arguments``, ``run``)."""
    parser = argparse.ArgumentParser(
        prog="python -m pyaae", description="Adversarial autoencoders (Makhzani et al., 2015) on fused kernels.",
        epilog="Run 'python -m pyaae COMMAND --help' for a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__,
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and run the command; a user error prints one line and
    returns 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"python -m pyaae {args.command}: error: {exc}", file=sys.stderr)
        return 2
