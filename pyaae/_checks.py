"""Argument checks shared by pyaae.ops and pyaae.reference: errors that name the argument."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
import torch


def check_input(x: torch.Tensor) -> None:
    """Raise unless x is a floating-point tensor with a features dimension."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if x.dim() < 1:
        raise ValueError("x must have at least 1 dimension (features last), got a 0-D tensor")


def check_layer(x: torch.Tensor, in_features: int, weight: torch.Tensor, bias: Optional[torch.Tensor],
                weight_name: str = "weight", bias_name: str = "bias", source: str = "x") -> None:
    """Raise unless weight [out, in_features] and bias [out] or None match x's dtype and device."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{weight_name} must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() != 2:
        raise ValueError(f"{weight_name} must be 2-D [out_features, in_features], got shape {tuple(weight.shape)}")
    if weight.shape[1] != in_features:
        raise ValueError(f"{weight_name} has {weight.shape[1]} input features but {source} has {in_features}")
    if weight.dtype != x.dtype:
        raise TypeError(f"{weight_name} dtype {weight.dtype} does not match x dtype {x.dtype}")
    if weight.device != x.device:
        raise ValueError(f"{weight_name} is on {weight.device} but x is on {x.device}")
    if bias is None:
        return
    if not isinstance(bias, torch.Tensor):
        raise TypeError(f"{bias_name} must be a torch.Tensor or None, got {type(bias).__name__}")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"{bias_name} must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    if bias.dtype != x.dtype:
        raise TypeError(f"{bias_name} dtype {bias.dtype} does not match x dtype {x.dtype}")
    if bias.device != x.device:
        raise ValueError(f"{bias_name} is on {bias.device} but x is on {x.device}")


def check_linear_args(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> None:
    """Raise TypeError/ValueError unless x [..., in], weight [out, in], bias [out] or None agree."""
    check_input(x)
    check_layer(x, x.shape[-1], weight, bias)


def check_mlp_args(x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[Optional[torch.Tensor]],
                   activations: Sequence[str]) -> None:
    """Raise unless the layers chain: weights[i] [out_i, in_i] with in_0 = x's features, in_i = out_(i-1)."""
    check_input(x)
    for name, value in (("weights", weights), ("biases", biases), ("activations", activations)):
        if isinstance(value, (torch.Tensor, str)) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a list with one entry per layer, got {type(value).__name__}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer")
    if len(biases) != len(weights) or len(activations) != len(weights):
        raise ValueError(f"weights, biases and activations must have the same length, got "
                         f"{len(weights)}, {len(biases)} and {len(activations)}")
    in_features, source = x.shape[-1], "x"
    for i, (w, b) in enumerate(zip(weights, biases)):
        check_layer(x, in_features, w, b, f"weights[{i}]", f"biases[{i}]", source)
        in_features, source = w.shape[0], f"the output of weights[{i}]"


def as_parzen_tensor(value: object, name: str) -> torch.Tensor:
    """``value`` (a torch tensor, a NumPy array, or a CUDA array such as CuPy's) as a 2-D
    floating-point tensor, sharing memory where it can. float16 and bfloat16 become float32; integer
    and boolean arrays are refused (say ``.float()`` if counts or pixels really are meant)."""
    if isinstance(value, torch.Tensor):
        t = value
    elif isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            raise TypeError(f"{name} must hold floating-point values, got NumPy dtype {value.dtype}; "
                            "convert it first (e.g. .astype(np.float32))")
        t = torch.from_numpy(value)
    elif hasattr(value, "__cuda_array_interface__"):
        t = torch.as_tensor(value, device="cuda")
    else:
        raise TypeError(f"{name} must be a torch.Tensor, a NumPy array or a CUDA array, got {type(value).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must hold floating-point values, got {t.dtype}; convert it first (e.g. .float())")
    if t.dim() != 2:
        raise ValueError(f"{name} must be 2-D [points, features], got shape {tuple(t.shape)}")
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t.detach()


def check_parzen_args(x: object, samples: object, sigmas: object) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validated ``(x [N, D], samples [M, D], sigmas [K])`` for a Parzen log-likelihood: x and samples
    as tensors of one dtype (float64 if either is) on one device, sigmas as float64 on the CPU. Raises
    TypeError/ValueError naming the argument: empty sets, mismatched D, a non-finite value in the
    data, a bandwidth that is not finite and > 0 or outside ``sigma_range`` of the data's dtype."""
    x = as_parzen_tensor(x, "x")
    samples = as_parzen_tensor(samples, "samples")
    if x.device != samples.device:
        raise ValueError(f"samples is on {samples.device} but x is on {x.device}")
    if samples.shape[1] != x.shape[1]:
        raise ValueError(f"samples has {samples.shape[1]} features (columns) but x has {x.shape[1]}")
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one test point (it has 0 rows)")
    if samples.shape[0] == 0:
        raise ValueError("samples must hold at least one sample (it has 0 rows)")
    dtype = torch.promote_types(x.dtype, samples.dtype)
    x, samples = x.to(dtype), samples.to(dtype)
    for t, name in ((x, "x"), (samples, "samples")):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or Inf")
    if isinstance(sigmas, (int, float)) and not isinstance(sigmas, bool):
        sigmas = [float(sigmas)]
    if isinstance(sigmas, torch.Tensor):
        s = sigmas.detach().to("cpu", torch.float64)
    else:
        try:
            s = torch.as_tensor(np.asarray(sigmas, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError("sigmas must be a number or a 1-D sequence of numbers, got "
                            f"{type(sigmas).__name__}") from exc
    if s.dim() == 0:
        s = s.reshape(1)
    if s.dim() != 1:
        raise ValueError(f"sigmas must be 1-D, got shape {tuple(s.shape)}")
    if s.numel() == 0:
        raise ValueError("sigmas must hold at least one bandwidth (it is empty)")
    bad = ~(torch.isfinite(s) & (s > 0))
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ValueError(f"sigmas[{i}] = {s[i].item()}: every bandwidth must be finite and > 0")
    low, high = sigma_range(dtype)
    outside = (s < low) | (s > high)
    if bool(outside.any()):
        i = int(outside.nonzero()[0])
        wider = "" if dtype == torch.float64 else "; float64 data (on the reference backend) allows [1e-150, 1e150]"
        raise ValueError(f"sigmas[{i}] = {s[i].item():g} is outside [{low:g}, {high:g}], the bandwidths at which "
                         f"{dtype} data gives a defined log-likelihood{wider}")
    return x, samples, s


def sigma_range(dtype: torch.dtype) -> Tuple[float, float]:
    """The Parzen bandwidths computable on data of ``dtype``. The kernels hold -1 / (2 sigma^2) in
    float32 (the CUDA kernel forms sigma^2 first): beyond [1e-18, 1e18] one of them overflows, or
    becomes a subnormal that a GPU flushes to 0, and the log-likelihood turns NaN (0 times inf) where
    float64 is finite. float64 has the same margin to 1e-150 and 1e150."""
    return (1e-150, 1e150) if dtype == torch.float64 else (1e-18, 1e18)
