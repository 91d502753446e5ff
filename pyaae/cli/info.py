"""Print what this installation built and what runs here (pyaae.build_info())."""
from __future__ import annotations

import argparse
import json

from .._build_info import build_info

HELP = "show the build: SIMD level, threads, CUDA, backends per op"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace) -> int:
    """Print build_info() as JSON."""
    print(json.dumps(build_info(), indent=2))
    return 0
