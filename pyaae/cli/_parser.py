"""The command line's argument parser: options spelled out in full (no prefixes), a mistyped option
named as such, and each option's default written once into its help."""
from __future__ import annotations

import argparse
import difflib
import sys
from typing import List, Optional, Sequence

REQUIRED_MESSAGE = "the following arguments are required"


class Parser(argparse.ArgumentParser):
    """argparse with ``allow_abbrev=False`` (``--ou`` is not ``--out``), and where an option it does
    not know is reported before a required one it misses: ``--ouput x`` said "required: --out"."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._arg_strings: List[str] = []

    def parse_known_args(self, args: Optional[Sequence[str]] = None, namespace=None):
        self._arg_strings = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        if message.startswith(REQUIRED_MESSAGE) and self._subparsers is None:
            unknown = self._unknown_options()
            if unknown:
                message = f"unrecognized arguments: {' '.join(unknown)}{self._suggestion(unknown[0])}"
        super().error(message)

    def _known_options(self) -> List[str]:
        return [option for action in self._actions for option in action.option_strings]

    def _unknown_options(self) -> List[str]:
        known = set(self._known_options())
        options = [s.split("=", 1)[0] for s in self._arg_strings if s.startswith("-") and s != "--"]
        return [s for s in options if s not in known and not self._negative_number_matcher.match(s)]

    def _suggestion(self, option: str) -> str:
        close = difflib.get_close_matches(option, self._known_options(), n=1)
        return f" (did you mean {close[0]}?)" if close else ""


def document_defaults(parser: argparse.ArgumentParser) -> None:
    """Write each option's default into its help, once, in this parser and every sub-parser below it:
    not for flags (a --no-* flag's default True said the opposite of what the flag does), required
    options, options without a default, or help that already says its default."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                document_defaults(sub)
            continue
        if (not action.option_strings or action.nargs == 0 or action.required or action.default is None
                or action.default is argparse.SUPPRESS or "default" in (action.help or "")):
            continue
        shown = " ".join(map(str, action.default)) if isinstance(action.default, (list, tuple)) else action.default
        text = f"(default: {shown})".replace("%", "%%")
        action.help = f"{action.help} {text}" if action.help else text


def add_debug_flag(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """--debug on this parser and every sub-parser (so that it may stand anywhere on the line): a
    failure shows its traceback instead of one line."""
    parser.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="on failure, show the traceback (also: PYAAE_DEBUG=1)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_debug_flag(sub, top=False)
