"""nn.Module wrappers of the fused linear layer."""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from .. import ops
from .._activations import check_activation
from .._dispatch import check_backend
from .._dropout import check_probability
from .dropout import DropoutStream


class FusedLinear(DropoutStream, nn.Module):
    """``dropout(activation(x @ weight.T + bias))`` as one fused kernel call.

    Parameters and state_dict keys (``weight`` [out, in], ``bias`` [out]) are those of
    ``nn.Linear``, initialized the same way, so state_dicts load in either direction. ``dropout``
    (probability, 0: none) acts in training mode only; its masks are keyed by ``dropout_seed`` and
    ``dropout_step`` (see pyaae.nn.dropout).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "identity",
        negative_slope: float = 0.2,
        backend: str = "auto",
        device: Optional[torch.device] = None,
        dtype: Optional[torch.dtype] = None,
        allow_tf32: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dropout = check_probability(dropout)
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        check_activation(activation, negative_slope)
        self.in_features, self.out_features = in_features, out_features
        self.activation, self.negative_slope = activation, negative_slope
        self.backend = backend
        self.allow_tf32 = allow_tf32  # TF32 tensor cores for the CUDA kernels (pyaae.ops.fused_linear)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    @property
    def backend(self) -> str:
        """"auto", "kernels", "reference" or "emu" (see pyaae.ops.fused_linear); checked when set."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        check_backend(value)
        self._backend = value

    def reset_parameters(self) -> None:
        """nn.Linear's initialization: Kaiming-uniform weight, uniform bias in +-1/sqrt(in)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dropout = {"dropout": self.dropout, **self.next_dropout_key()} if self.dropout > 0 and self.dropout_active() else {}
        return ops.fused_linear(x, self.weight, self.bias, self.activation, self.negative_slope,
                                backend=self.backend, allow_tf32=self.allow_tf32, **dropout)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, activation={self.activation!r}, backend={self.backend!r}"
                + (f", dropout={self.dropout}" if self.dropout else ""))
