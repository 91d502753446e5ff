"""User-defined priors: any Python callable (reference speed), or a per-sample transform of uniform
and normal draws compiled with numba and run in parallel on the Philox stream (compiled speed
without writing C++; numba is an optional dependency: ``pip install "pyaae[numba]"``)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch

from .base import Prior, check_positive_int


class CallablePrior(Prior):
    """``fn(n, generator) -> Tensor[n, dim]``: a prior sampled by your own PyTorch code."""

    def __init__(self, fn: Callable[[int, torch.Generator], torch.Tensor], dim: int) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        dim = check_positive_int(dim, "dim")
        self.fn, self.dim = fn, dim

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        samples = torch.as_tensor(self.fn(n, generator))
        if samples.shape != (n, self.dim):
            raise ValueError(f"fn returned shape {tuple(samples.shape)}, expected ({n}, {self.dim})")
        return samples, torch.full((n,), -1, dtype=torch.int64)


class NumbaPrior(Prior):
    """``transform(u, z, out)`` per sample: u holds ``num_uniforms`` uniforms in [0, 1), z holds
    ``num_normals`` standard normals, out receives the sample (float64 arrays). The transform is
    compiled with ``numba.njit``; the draws come from Philox4x32-10 with the kernels' counter layout
    (sample i's words from blocks (i, 0), (i, 1), ... under the seed, uniforms first, then normals
    by Box-Muller in float64), samples in parallel, so results do not depend on the thread count.
    The reference backend runs the same transform in Python on PyTorch's generator."""

    def __init__(self, transform: Callable, dim: int, num_uniforms: int = 0, num_normals: int = 0) -> None:
        try:
            import numba  # noqa: F401
        except ImportError as exc:
            raise ImportError('NumbaPrior needs numba: pip install "pyaae[numba]"') from exc
        from ._numba_philox import build_sampler

        for name, value in (("dim", dim), ("num_uniforms", num_uniforms), ("num_normals", num_normals)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "dim" else 0):
                raise ValueError(f"{name} must be a {'positive' if name == 'dim' else 'non-negative'} integer, "
                                 f"got {value!r}")
        self.dim, self.num_uniforms, self.num_normals = dim, num_uniforms, num_normals
        self.transform = transform
        self._sampler = build_sampler(transform, dim, num_uniforms, num_normals)

    def _sample_fast(self, n: int, labels, seed: int, offset: int, device: torch.device, backend: str):
        if backend not in ("auto", "kernels") or device.type != "cpu":
            if backend == "kernels":
                raise RuntimeError("NumbaPrior's compiled sampler runs on the CPU")
            return None
        out = self._sampler(n, seed, offset)
        return torch.from_numpy(out).to(torch.float32), torch.full((n,), -1, dtype=torch.int64)

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        u = torch.rand(n, self.num_uniforms, generator=generator, dtype=torch.float64).numpy()
        z = torch.randn(n, self.num_normals, generator=generator, dtype=torch.float64).numpy()
        out = torch.empty(n, self.dim, dtype=torch.float64)
        target = out.numpy()
        python_transform = getattr(self.transform, "py_func", self.transform)
        for i in range(n):
            python_transform(u[i], z[i], target[i])
        return out, torch.full((n,), -1, dtype=torch.int64)
