"""How the fused modules key their dropout masks. A mask is a pure function of (seed, step, layer, row,
column) (pyaae.ops.fused_linear), so a module keeps a seed and a step counter that advances with every
training-mode pass; a trainer that re-keys every module at each of its steps (key_dropout) gets the same
masks on a resumed run, on any thread count and on every backend."""
from __future__ import annotations

import contextlib
import functools
from typing import Dict, Iterator

import torch
from torch import nn

from .._splitmix import GOLDEN_GAMMA, splitmix64

_WORD = 2**32
# Passes of one module within a training step that get masks of their own (the step counter of step s
# starts at s * PASSES_PER_STEP).
PASSES_PER_STEP = 16


class DropoutStream:
    """Mixin of the fused modules: ``dropout_seed`` (None: drawn from PyTorch's generator at the first
    pass that needs it, so torch.manual_seed governs it) and ``dropout_step``."""

    dropout_seed = None
    dropout_step = 0
    dropout_enabled = True  # off inside dropout_off()

    def dropout_active(self) -> bool:
        """Whether this pass applies the module's dropout (training mode, enabled)."""
        return self.training and self.dropout_enabled

    def next_dropout_key(self) -> Dict[str, int]:
        """The key of this pass's masks; advances the step."""
        if self.dropout_seed is None:
            self.dropout_seed = int(torch.randint(0, 2**62, (1,)).item())
        key = {"dropout_seed": self.dropout_seed, "dropout_step": self.dropout_step}
        self.dropout_step = (self.dropout_step + 1) % _WORD
        return key


@functools.lru_cache(maxsize=None)  # key_dropout asks for the same few seeds at every training step
def _mix(*words: int) -> int:
    """A 64-bit seed from words (SplitMix64 over their running sum): different words, unrelated seeds."""
    h = 0
    for w in words:
        h = splitmix64(h + w + GOLDEN_GAMMA)
    return h


def key_dropout(model: nn.Module, seed: int, step: int, rank: int = 0) -> None:
    """Key the dropout of every fused module in ``model`` for training step ``step``: module i (in
    ``model.modules()`` order) gets a seed of its own from (seed, rank, i), and its step counter starts at
    step * PASSES_PER_STEP, so that each of up to PASSES_PER_STEP passes within the step draws its own mask."""
    for i, module in enumerate(m for m in model.modules() if isinstance(m, DropoutStream)):
        module.dropout_seed = _mix(seed, rank, i)
        module.dropout_step = (step * PASSES_PER_STEP) % _WORD


@contextlib.contextmanager
def dropout_off(network: nn.Module) -> Iterator[None]:
    """The network's fused modules run without dropout inside, in training mode otherwise (a gaussian
    encoder keeps its noise)."""
    modules = [m for m in network.modules() if isinstance(m, DropoutStream)]
    for m in modules:
        m.dropout_enabled = False
    try:
        yield
    finally:
        for m in modules:
            m.dropout_enabled = True
