"""The command line: ``python -m pyaae {train,sample,eval,info} ...`` (``--help`` on each)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from .._extension import extension, extension_error
from . import evaluate, info, sample, train
from ._errors import check_device, describe
from ._parser import Parser, add_debug_flag, document_defaults

COMMANDS = {"train": train, "sample": sample, "eval": evaluate, "info": info}


def build_parser() -> argparse.ArgumentParser:
    """The parser with one sub-parser per command module (each has ``HELP``, ``add_arguments``, ``run``)."""
    parser = Parser(
        prog="python -m pyaae", description="Adversarial autoencoders (Makhzani et al., 2015) on fused kernels.",
        epilog="Run 'python -m pyaae COMMAND --help' for a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    document_defaults(parser)
    add_debug_flag(parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and run the command. A failure prints one line, ``error:``
    and what to do, and returns 2 when the arguments or the files they name are wrong, 1 when the run
    itself failed; with --debug or PYAAE_DEBUG=1 it raises, with its traceback."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("PYAAE_DEBUG", "") not in ("", "0")
    if args.command != "info" and extension() is None:
        _note_missing_kernels()
    try:
        check_device(args)
        return args.run(args) or 0
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line; --debug shows the traceback
        if debug:
            raise
        message, status = describe(exc, args)
        print(f"python -m pyaae {args.command}: error: {message}", file=sys.stderr)
        return status


def _note_missing_kernels() -> None:
    """One line on stderr: the run goes on, on the PyTorch reference backend, but the user should know.
    The usual cause is running from the root of a source checkout after a non-editable install: Python
    then imports the checkout's pyaae/, which holds no compiled modules."""
    checkout = (Path(__file__).resolve().parents[2] / "setup.py").is_file()
    hint = (" (pyaae was imported from its source checkout, which holds no build: run from another folder, "
            "or install with 'pip install -e .')") if checkout else ""
    print(f"python -m pyaae: note: {extension_error()}{hint}; running on the PyTorch reference backend",
          file=sys.stderr)
