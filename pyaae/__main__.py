"""``python -m pyaae``: see :mod:`pyaae.cli`."""
import sys

from .cli import main

sys.exit(main())
