"""Checks of the dropout arguments shared by pyaae.ops, pyaae.reference and pyaae.nn. The mask itself
is defined in csrc/include/pyaae/dropout.h and drawn in PyTorch by pyaae.reference.dropout_factors."""
from __future__ import annotations

import math
from typing import List, Sequence, Union

WORD = 2**32
KEY = 2**64


def check_probability(p: object, name: str = "dropout") -> float:
    """p as a float, or ValueError naming ``name`` unless it is a number in [0, 1)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not (math.isfinite(p) and 0 <= p < 1):
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def check_word(value: object, name: str, bound: int) -> int:
    """value as an int, or ValueError naming ``name`` unless it is an integer in [0, bound)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < bound:
        raise ValueError(f"{name} must be an integer in [0, 2**{bound.bit_length() - 1}), got {value!r}")
    return value


def check_key(seed: object, step: object, layer: object) -> None:
    """The mask's Philox key and counter words: seed < 2**64, step and layer < 2**32."""
    check_word(seed, "dropout_seed", KEY)
    check_word(step, "dropout_step", WORD)
    check_word(layer, "dropout_layer", WORD)


def per_layer(dropout: Union[float, Sequence[float]], layers: int) -> List[float]:
    """A stack's per-layer probabilities: a number applies to every layer but the last (the hidden
    layers' outputs), a sequence gives one per layer."""
    if isinstance(dropout, (int, float)) and not isinstance(dropout, bool):
        p = check_probability(dropout)
        return [p] * (layers - 1) + [0.0]
    if not isinstance(dropout, (list, tuple)) or len(dropout) != layers:
        raise ValueError(f"dropout must be a probability or a sequence of {layers} (one per layer), got {dropout!r}")
    return [check_probability(p, f"dropout[{i}]") for i, p in enumerate(dropout)]
