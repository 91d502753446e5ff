"""Multi-layer perceptron built from fused layers."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from .. import ops
from .._activations import check_activation, torch_activation_module
from .._dispatch import check_backend
from .._dropout import check_probability
from .dropout import DropoutStream
from .fused_linear import FusedLinear


class FusedMLP(DropoutStream, nn.Sequential):
    """``sizes[0] -> sizes[1] -> ... -> sizes[-1]``, one FusedLinear per step, ``activation`` after every
    hidden layer and ``out_activation`` (None: identity) after the last.

    The state_dict keys are ``"{i}.weight"`` and ``"{i}.bias"`` for layer i: those of
    ``nn.Sequential(nn.Linear, nn.Linear, ...)``, so a FusedMLP's state_dict loads into such a stack of
    nn.Linear layers, and into a FusedMLP of any backend. ``to_torch()`` gives the equivalent
    ``nn.Sequential`` with activation modules between the layers. The forward pass runs the whole
    stack as one op (``pyaae.ops.fused_mlp``): one kernel call forward and one backward.

    ``dropout`` (probability) acts on every hidden layer's output and ``out_dropout`` on the last
    layer's, in training mode only (inverted dropout: kept elements are scaled by 1 / (1 - p)). The
    masks are keyed by ``dropout_seed``, ``dropout_step`` and the layer's index (pyaae.nn.dropout).
    ``hidden_noise`` and ``out_noise``: std of Gaussian noise added, in training mode, to every hidden
    layer's output and to the last layer's (after the activation and dropout).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        out_activation: Optional[str] = None,
        backend: str = "auto",
        bias: bool = True,
        negative_slope: float = 0.2,
        device: Optional[torch.device] = None,
        dtype: Optional[torch.dtype] = None,
        allow_tf32: bool = False,
        dropout: float = 0.0,
        out_dropout: float = 0.0,
        hidden_noise: float = 0.0,
        out_noise: float = 0.0,
    ) -> None:
        sizes = list(sizes)
        dropout, out_dropout = check_probability(dropout), check_probability(out_dropout, "out_dropout")
        for name, value in (("hidden_noise", hidden_noise), ("out_noise", out_noise)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes!r}")
        check_backend(backend)
        # Checked here as well as by each layer: a one-layer MLP never uses the hidden activation.
        check_activation(activation, negative_slope)
        last = len(sizes) - 2
        layers = [
            FusedLinear(n_in, n_out, bias=bias,
                        activation=(out_activation or "identity") if i == last else activation,
                        negative_slope=negative_slope, backend=backend, device=device, dtype=dtype)
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]
        super().__init__(*layers)
        self.sizes = sizes
        self.negative_slope = negative_slope
        self.allow_tf32 = allow_tf32  # TF32 tensor cores for the CUDA kernels (pyaae.ops.fused_linear)
        self.dropout, self.out_dropout = dropout, out_dropout
        self.hidden_noise, self.out_noise = float(hidden_noise), float(out_noise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The whole stack as one fused op (one kernel call per pass with the kernels); with noise on
        the layers' outputs in training mode, one fused op per layer with the noise between them."""
        dropout = {}
        if (self.dropout > 0 or self.out_dropout > 0) and self.dropout_active():
            dropout = {"dropout": [self.dropout] * (len(self) - 1) + [self.out_dropout], **self.next_dropout_key()}
        weights, biases = [layer.weight for layer in self], [layer.bias for layer in self]
        activations = [layer.activation for layer in self]
        noise = [self.hidden_noise] * (len(self) - 1) + [self.out_noise]
        if not (self.training and any(noise)):
            return ops.fused_mlp(x, weights, biases, activations, self.negative_slope, backend=self.backend,
                                 allow_tf32=self.allow_tf32, **dropout)
        for i, std in enumerate(noise):
            layer_dropout = {}
            if dropout:
                layer_dropout = {"dropout": dropout["dropout"][i], "dropout_seed": dropout["dropout_seed"],
                                 "dropout_step": dropout["dropout_step"], "dropout_layer": i}
            x = ops.fused_linear(x, weights[i], biases[i], activations[i], self.negative_slope, backend=self.backend,
                                 allow_tf32=self.allow_tf32, **layer_dropout)
            if std > 0:
                x = x + std * torch.randn_like(x)
        return x

    @property
    def backend(self) -> str:
        """The backend of every layer; assigning it switches them all."""
        return self[0].backend

    @backend.setter
    def backend(self, value: str) -> None:
        check_backend(value)
        for layer in self:
            layer.backend = value

    def to_torch(self) -> nn.Sequential:
        """An ``nn.Sequential`` of ``nn.Linear``, activation and ``nn.Dropout`` modules computing the
        same function (in training mode, with PyTorch's masks), with copies of this MLP's parameters."""
        modules = []
        for layer in self:
            linear = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                               device=layer.weight.device, dtype=layer.weight.dtype)
            linear.load_state_dict(layer.state_dict())
            modules.append(linear)
            if layer.activation != "identity":
                modules.append(torch_activation_module(layer.activation, layer.negative_slope))
            p = self.out_dropout if layer is self[-1] else self.dropout
            if p > 0:
                modules.append(nn.Dropout(p))
        return nn.Sequential(*modules)
