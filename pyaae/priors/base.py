"""The Prior interface: sampling on the kernels (CPU, CUDA, or CUDA under emulation) from the
counter-based Philox stream of (seed, offset), or on the pure-PyTorch reference."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .._dispatch import kernel_module
from .._splitmix import GOLDEN_GAMMA, splitmix64
from .._threads import get_num_threads
from ..ops._arrays import KernelCall

Labels = Union[torch.Tensor, np.ndarray, Sequence[int], None]
MAX_OFFSET = 2**32
# Samples are float32, whose largest value is 3.4e38: a parameter past 1e30 in magnitude leaves no
# room for the tails (mean + 7 std), a box's width (high - low) or a mixture's sum over dimensions,
# which overflowed to +-inf (and Uniform(+-1e39) became a constant). 1e-30 is the smallest scale
# kept: below it a float32 scale is subnormal or 0 and the samples collapse onto the location.
MAX_PARAMETER = 1e30
MIN_SCALE = 1e-30


def check_positive_int(value, name: str) -> int:
    """value as an int, or ValueError naming ``name`` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_float_tensor(value, name: str, shape: Optional[Tuple[int, ...]] = None) -> torch.Tensor:
    """A float64 CPU copy of a parameter (scalar broadcast to ``shape``), checked finite and within
    +-MAX_PARAMETER (sampling is in float32)."""
    t = torch.as_tensor(value, dtype=torch.float64, device="cpu").clone()
    if shape is not None:
        if t.dim() == 0:
            t = t.expand(shape).clone()
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must have shape {shape} (or be a scalar), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite")
    if t.numel() and t.abs().max().item() > MAX_PARAMETER:
        raise ValueError(f"{name} must lie within +-{MAX_PARAMETER:g} (samples are float32, whose range ends at "
                         f"3.4e38), got {t.abs().max().item():g}")
    return t


def check_scale(scale: torch.Tensor, name: str) -> torch.Tensor:
    """``scale`` (a float64 tensor from as_float_tensor), or ValueError unless every entry is at least
    MIN_SCALE (a smaller float32 scale is subnormal or 0)."""
    if scale.numel() and scale.min().item() < MIN_SCALE:
        raise ValueError(f"{name} must be > 0 in every dimension, and at least {MIN_SCALE:g} (samples are "
                         f"float32), got {scale.min().item():g}")
    return scale


def check_weights(weights, name: str) -> torch.Tensor:
    """Non-negative weights summing to 1 (within 1e-6), as a float64 tensor."""
    w = as_float_tensor(weights, name)
    if w.dim() != 1 or w.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {tuple(w.shape)}")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if abs(w.sum().item() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, got {w.sum().item():.8g}")
    return w


class Prior:
    """A distribution p(z) to impose on the codes. Subclasses set ``dim``, ``num_classes`` (None when
    labels do not apply) and implement the reference sampler, the kernel parameters and log_prob."""

    dim: int
    num_classes: Optional[int] = None
    #: pyaae::PriorKind name of the kernel that samples this prior (None: reference only).
    kernel_kind: Optional[str] = None

    def sample(self, n: int, *, labels: Labels = None, seed: Optional[int] = None, offset: int = 0,
               device: Union[str, torch.device] = "cpu", backend: str = "auto",
               return_index: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """n samples as a float32 tensor [n, dim] on ``device``.

        Args:
            labels: for priors with ``num_classes``: per sample, the component / segment to draw from
                (-1: the whole prior).
            seed: Philox key; None draws one from PyTorch's generator (so ``torch.manual_seed``
                governs it). The same (seed, offset, n) gives the same samples on any thread count.
            offset: a second counter word (0 <= offset < 2**32): a new stream for the same seed,
                e.g. one per training step.
            backend: "auto", "kernels", "reference" (pure PyTorch, statistically equivalent) or
                "emu" (the CUDA kernels on the CPU, for tests).
            return_index: also return the component / segment / category of each sample (int64 [n];
                -1 where the prior has none).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        n = int(n)
        device = torch.device(device)
        label_tensor = self._check_labels(labels, n)
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or not 0 <= offset < MAX_OFFSET:
            raise ValueError(f"offset must be an integer in [0, 2**32), got {offset!r}")
        fast = self._sample_fast(n, label_tensor, int(seed), int(offset), device, backend)
        if fast is not None:
            samples, index = fast
            return (samples, index) if return_index else samples
        kernels = kernel_module(backend, device, torch.float32) if self.kernel_kind is not None else None
        if kernels is None and backend in ("kernels", "emu"):
            raise RuntimeError(f"backend={backend!r}: {type(self).__name__} has no kernel; use 'reference'")
        if kernels is None:
            generator = torch.Generator().manual_seed(_reference_seed(int(seed), int(offset)))
            samples, index = self._sample_reference(n, label_tensor, generator)
            samples, index = samples.to(device=device, dtype=torch.float32), index.to(device)
        else:
            samples, index = self._sample_kernels(kernels, n, label_tensor, int(seed), int(offset), device,
                                                  return_index)
        return (samples, index) if return_index else samples

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) per row of z [n, dim]."""
        raise NotImplementedError(f"{type(self).__name__} has no tractable density")

    def to_config(self) -> dict:
        """A JSON-serializable description from which ``prior_from_config`` rebuilds this prior."""
        raise ValueError(f"{type(self).__name__} cannot be saved (it holds user code); pass it again when loading")

    # -- for subclasses --------------------------------------------------------------------------

    def _sample_fast(self, n: int, labels: Optional[torch.Tensor], seed: int, offset: int, device: torch.device,
                     backend: str) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """A compiled sampler of the subclass's own (NumbaPrior), or None to use the kernels / reference."""
        return None

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _kernel_params(self) -> dict:
        """loc, scale, cdf (float64 CPU tensors or None) and noise_std for the kernel."""
        raise NotImplementedError

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.dim:
            raise ValueError(f"z must be a tensor [n, {self.dim}], got {getattr(z, 'shape', type(z).__name__)}")
        return z

    # -- shared machinery ------------------------------------------------------------------------

    def _check_labels(self, labels: Labels, n: int) -> Optional[torch.Tensor]:
        if labels is None:
            return None
        if self.num_classes is None or self.kernel_kind == "categorical":
            raise ValueError(f"labels do not apply to {type(self).__name__}")
        t = torch.as_tensor(labels)
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"labels must be integers, got {t.dtype}")
        if t.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {tuple(t.shape)}")
        t = t.to(torch.int64)
        if n and (t.min() < -1 or t.max() >= self.num_classes):
            raise ValueError(f"labels must lie in [-1, {self.num_classes}) (-1: unlabeled), "
                             f"got values in [{t.min().item()}, {t.max().item()}]")
        return t

    def _sample_kernels(self, kernels, n: int, labels: Optional[torch.Tensor], seed: int, offset: int,
                        device: torch.device, return_index: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        params = self._kernel_params()
        move = lambda t: None if t is None else t.to(device=device, dtype=torch.float32).contiguous()  # noqa: E731
        out = torch.empty(n, self.dim, dtype=torch.float32, device=device)
        # The index costs a third of a 2-D sample's memory traffic: written only when asked for.
        has_index = self.num_classes is not None and return_index
        index = torch.empty(n, dtype=torch.int64, device=device) if has_index else None
        call = KernelCall(kernels, device)
        call("sample_prior", kernels.PRIOR_KINDS[self.kernel_kind], out, index, move(params.get("loc")),
             move(params.get("scale")), move(params.get("cdf")), float(params.get("noise_std", 0.0)),
             None if labels is None else labels.to(device).contiguous(), seed, offset, get_num_threads())
        if return_index and index is None:
            index = torch.full((n,), -1, dtype=torch.int64, device=device)
        return out, index


def _reference_seed(seed: int, offset: int) -> int:
    """One 63-bit generator seed per (seed, offset): splitmix64's finalizer over seed and offset."""
    return splitmix64(seed + (offset + 1) * GOLDEN_GAMMA) >> 1


def weights_cdf(weights: torch.Tensor) -> torch.Tensor:
    """Cumulative weights, the last forced to 1 so that rounding never leaves a draw unassigned."""
    cdf = torch.cumsum(weights, 0)
    cdf[-1] = 1.0
    return cdf
