"""How tensors cross into the kernels: C-contiguous matrices, seen by the kernels as NumPy arrays
(CPU tensors, zero-copy through the buffer protocol) or through __cuda_array_interface__ (CUDA
tensors, with the caller's current stream)."""
from __future__ import annotations

import functools
import math
from types import ModuleType
from typing import Any, Callable, Optional

import numpy as np
import torch


def as_array(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """A NumPy view sharing t's memory (None stays None)."""
    if t is None:
        return None
    return (t.detach() if t.requires_grad else t).numpy()


def _as_device_array(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    # A detached CUDA tensor exposes __cuda_array_interface__ (one that requires grad refuses to).
    return None if t is None else t.detach()


class KernelCall:
    """The kernel functions and argument form for tensors on one device: ``call("linear_forward",
    *tensors_and_scalars)`` passes tensors as arrays and adds the stream argument and ``options``
    (keyword arguments such as allow_tf32 and workspace; tensors among them become arrays too)."""

    def __init__(self, kernels: ModuleType, device: torch.device, **options: Any) -> None:
        self.cuda = device.type == "cuda"
        self.options = options
        self.kernels = kernels
        self.view: Callable[[Optional[torch.Tensor]], Any] = _as_device_array if self.cuda else as_array
        self.stream = torch.cuda.current_stream(device).cuda_stream if self.cuda else 0

    def __call__(self, name: str, *args: Any) -> None:
        fn = getattr(self.kernels, ("cuda_" if self.cuda else "") + name)
        # Options at the bindings' defaults (None, False, the CPU's stream 0) are left out: pybind11
        # matches every keyword by name, a cost the narrow layers' short kernels feel.
        options = {key: self._convert(value) for key, value in self.options.items()
                   if value is not None and value is not False}
        if self.cuda:
            options["stream"] = self.stream
        fn(*[self._convert(a) for a in args], **options)

    def workspace(self, batch: int, in_features: int, out_features: int,
                  device: torch.device) -> Optional[torch.Tensor]:
        """The split-K workspace the CUDA kernels (or their emulation) may use for a layer of this
        shape, from the caching allocator on the current stream; None where none is needed."""
        query = _workspace_query(self.kernels, self.cuda)
        floats = 0 if query is None else query(batch, in_features, out_features, self.options.get("allow_tf32", False))
        return torch.empty(floats, dtype=torch.float32, device=device) if floats > 0 else None

    def _convert(self, arg: Any) -> Any:
        """Tensors (and None, an absent tensor) become arrays, in lists too; other values pass."""
        if arg is None or isinstance(arg, torch.Tensor):
            return self.view(arg)
        if isinstance(arg, list) and all(t is None or isinstance(t, torch.Tensor) for t in arg):
            return [self.view(t) for t in arg]
        return arg


@functools.lru_cache(maxsize=None)
def _workspace_query(kernels: ModuleType, cuda: bool) -> Optional[Callable[..., int]]:
    """The module's split-K workspace size function, or None (the CPU kernels need none); looked up
    once, as a failed attribute lookup on an extension module costs microseconds per call."""
    return getattr(kernels, ("cuda_" if cuda else "") + "linear_workspace_floats", None)


# reshape() costs an autograd view per call, so 2-D inputs (the common case) pass straight through.
def as_matrix(x: torch.Tensor) -> torch.Tensor:
    """x as a C-contiguous ``[rows, features]`` tensor, leading dimensions flattened as in F.linear."""
    if x.dim() == 2:
        return x.contiguous()
    # An explicit row count: reshape(-1, 0) cannot infer it when there are no features.
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1]).contiguous()


def restore_leading(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The ``[rows, out]`` result y with x's leading dimensions put back."""
    return y if x.dim() == 2 else y.reshape(*x.shape[:-1], y.shape[-1])


def needs_graph(*tensors: Optional[torch.Tensor]) -> bool:
    """Whether an op on these tensors must record an autograd node. Where none is needed (inference,
    torch.no_grad) the ops call the kernels directly: an autograd Function costs tens of
    microseconds a call, as much as a narrow layer's kernels."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
