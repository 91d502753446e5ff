"""The dropout mask of the fused layers in PyTorch, bit for bit the kernels' (csrc/include/pyaae/dropout.h):
element (row, col) is kept when the 24-bit uniform of word col % 4 of Philox4x32-10 of the counter
(col // 4, row, layer, step) under the key (lo(seed), hi(seed) ^ 0xD5A0C0DE) is >= p, and kept
elements are multiplied by 1 / (1 - p) rounded to float32."""
from __future__ import annotations

from typing import Tuple

import torch

DROPOUT_KEY_TAG = 0xD5A0C0DE
_LOW = 0xFFFFFFFF
_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
_WEYL = (0x9E3779B9, 0xBB67AE85)


def philox4x32_10(counter: Tuple[torch.Tensor, ...], key: Tuple[int, int]) -> Tuple[torch.Tensor, ...]:
    """Philox4x32-10 (Salmon et al., SC11) of int64 tensors holding 32-bit counter words, under a key
    of two 32-bit words; returns the four output words as int64 tensors in [0, 2**32). (An int64
    product of two 32-bit words wraps; its low 64 bits, all that is used, are exact.)"""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + _WEYL[0]) & _LOW, (k1 + _WEYL[1]) & _LOW
        p0 = c0 * _MULTIPLIERS[0]
        p1 = c2 * _MULTIPLIERS[1]
        c0, c1, c2, c3 = ((p1 >> 32) & _LOW) ^ c1 ^ k0, p1 & _LOW, ((p0 >> 32) & _LOW) ^ c3 ^ k1, p0 & _LOW
    return c0, c1, c2, c3


def dropout_factors(rows: int, cols: int, p: float, seed: int, step: int, layer: int,
                    device: torch.device = torch.device("cpu")) -> torch.Tensor:
    """float32 [rows, cols]: 0 where element (row, col) of a layer's output is dropped, 1 / (1 - p)
    (in float32) where it is kept."""
    blocks = (cols + 3) // 4
    block = torch.arange(blocks, dtype=torch.int64, device=device).expand(rows, blocks)
    row = torch.arange(rows, dtype=torch.int64, device=device).unsqueeze(1).expand(rows, blocks)
    fill = torch.full((rows, blocks), 0, dtype=torch.int64, device=device)
    words = philox4x32_10((block, row, fill + layer, fill + step), (seed & _LOW, (seed >> 32) ^ DROPOUT_KEY_TAG))
    word = torch.stack(words, dim=2).reshape(rows, 4 * blocks)[:, :cols]
    uniform = (word >> 8).to(torch.float32) * 2.0**-24
    p32 = torch.tensor(p, dtype=torch.float32, device=device)
    scale = 1.0 / (1.0 - p32)
    return torch.where(uniform >= p32, scale, torch.zeros((), dtype=torch.float32, device=device))
