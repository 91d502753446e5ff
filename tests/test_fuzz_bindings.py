"""A short seeded fuzz of the bindings: random shapes (empty ones too), strides, dtypes, NaN/Inf values,
mismatched and overlapping arrays, and dropout arguments go straight to pyaae._C. Every call either
raises ValueError/TypeError or succeeds with the reference's result; none crashes, hangs or writes
where it was not asked to."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import pyaae
from pyaae._activations import ACTIVATION_CODES

C = pytest.importorskip("pyaae._C")
CALLS = 400


def _array(rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
    """A random array, sometimes another dtype, non-contiguous, or holding NaN / Inf."""
    a = rng.standard_normal(shape).astype(np.float32)
    roll = rng.random()
    if roll < 0.05 and a.size:
        a.flat[rng.integers(a.size)] = rng.choice([np.nan, np.inf, -np.inf])
    if roll > 0.95:
        return a.astype(rng.choice([np.float64, np.int32, np.float16]))
    if 0.9 < roll <= 0.95 and a.ndim == 2 and a.shape[0] > 1:
        return np.asfortranarray(a)  # valid values in the wrong layout
    return a.astype(dtype)


def _dims(rng: np.random.Generator):
    return [int(rng.choice([0, 1, 2, 3, 5, 8, 9, 17])) for _ in range(3)]


@pytest.mark.parametrize("seed", range(4))
def test_linear_forward_fuzz(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(CALLS // 4):
        batch, n_in, n_out = _dims(rng)
        x = _array(rng, (batch, n_in if rng.random() > 0.05 else n_in + 1))
        w = _array(rng, (n_out, n_in))
        b = _array(rng, (n_out if rng.random() > 0.05 else n_out + 1,)) if rng.random() > 0.3 else None
        y = np.full((batch, n_out), 12345.0, np.float32)
        activation = str(rng.choice(list(ACTIVATION_CODES)))
        p = float(rng.choice([0.0, 0.0, 0.3, 1.0, -0.1, np.nan]))
        try:
            C.linear_forward(x, w, b, y, ACTIVATION_CODES[activation], 0.2, int(rng.integers(1, 3)), dropout=p,
                             dropout_seed=int(rng.integers(0, 2**62)), dropout_step=3, dropout_layer=1)
        except (ValueError, TypeError):
            continue
        expected = pyaae.reference.fused_linear(torch.from_numpy(x), torch.from_numpy(w),
                                                None if b is None else torch.from_numpy(b), activation, 0.2)
        got = torch.from_numpy(y)
        if p == 0:
            finite = torch.isfinite(expected)
            assert torch.equal(torch.isfinite(got), finite) or activation == "relu"
            torch.testing.assert_close(got[finite], expected[finite], rtol=1e-4, atol=1e-4)
        assert not (y == 12345.0).any(), "an output element was not written"


@pytest.mark.parametrize("seed", range(4))
def test_linear_backward_fuzz(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(CALLS // 4):
        batch, n_in, n_out = _dims(rng)
        gy, y = _array(rng, (batch, n_out)), _array(rng, (batch, n_out))
        x, w = _array(rng, (batch, n_in)), _array(rng, (n_out, n_in))
        wants = rng.random(3) > 0.3
        gx = np.full((batch, n_in), 7.0, np.float32) if wants[0] else None
        gw = np.full((n_out, n_in), 7.0, np.float32) if wants[1] else None
        gb = np.full((n_out,), 7.0, np.float32) if wants[2] else None
        if rng.random() < 0.05 and gx is not None:
            gx = x  # an output overlapping an input
        p = float(rng.choice([0.0, 0.4]))
        scratch = np.empty(batch * n_out, np.float32) if p and rng.random() > 0.1 else None
        try:
            C.linear_backward(gy, y, x, w, gx, gw, gb, ACTIVATION_CODES["tanh"], 0.2, 2, dropout=p,
                              dropout_scratch=scratch)
        except (ValueError, TypeError):
            continue
        for name, out in (("grad_x", gx), ("grad_weight", gw), ("grad_bias", gb)):
            if out is not None and out.size:
                assert not (out == 7.0).all(), f"{name} was not written"


@pytest.mark.parametrize("seed", range(2))
def test_mlp_and_parzen_fuzz(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    for _ in range(CALLS // 4):
        batch, n_in, n_out = _dims(rng)
        x = _array(rng, (batch, n_in))
        ws = [_array(rng, (n_out, n_in)), _array(rng, (3, n_out if rng.random() > 0.05 else n_out + 2))]
        outs = [np.empty((batch, n_out), np.float32), np.empty((batch, 3), np.float32)]
        dropout = [] if rng.random() < 0.5 else [float(v) for v in rng.choice([0.0, 0.5, 1.5], 2)]
        try:
            C.mlp_forward(x, ws, [None, None], outs, [1, 3], 0.2, 2, dropout=dropout)
        except (ValueError, TypeError):
            pass
        points, samples = _array(rng, (batch, n_in)), _array(rng, (n_out, n_in))
        sigmas = _array(rng, (int(rng.integers(0, 4)),), np.float64)
        out = np.empty((batch, len(sigmas)), np.float64)
        try:
            C.parzen_log_likelihood(points, samples, np.abs(sigmas) + 0.1, out, 1)
        except (ValueError, TypeError, AttributeError):
            continue
