"""Dropout in the fused layers: the kernels (each SIMD level, both thread counts, the CUDA kernels under
emulation) against the float64 oracle with the same mask, the mask bit for bit against the reference's
PyTorch Philox on every backend and thread count, outputs poisoned before the call, a statistical
test of the keep rate, the modules' training/eval behaviour and keying, and bad arguments."""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np
import pytest
import torch
from _oracle import assert_accurate, assert_same_nonfinite, make_case, seed_of
from conftest import kernel_module, needs_emu

import pyaae
from pyaae._activations import ACTIVATION_CODES
from pyaae.nn.dropout import PASSES_PER_STEP, dropout_off, key_dropout
from pyaae.reference.dropout import dropout_factors, philox4x32_10

ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
KEY = {"dropout_seed": 0xFEDCBA9876543210, "dropout_step": 0xC0FFEE, "dropout_layer": 3}
# Wide layers (the GEMM path; 1000 columns split over threads), narrow ones (out <= 8), tile edges.
SHAPES = [(100, 784, 1000), (7, 17, 100), (13, 300, 21), (101, 33, 47), (512, 100, 8), (29, 300, 5), (1, 1, 1),
          (3, 5, 4100)]
EMU_SHAPES = [(65, 17, 63), (5, 300, 68), (130, 7, 1)]


def _run(case: Dict[str, Optional[torch.Tensor]], activation: str, dtype: torch.dtype, backend: str,
         p: float) -> Dict[str, torch.Tensor]:
    x, w = (case[k].to(dtype, copy=True).requires_grad_() for k in ("x", "weight"))
    b = case["bias"].to(dtype, copy=True).requires_grad_()
    y = pyaae.ops.fused_linear(x, w, b, activation, backend=backend, dropout=p, **KEY)
    y.backward(case["grad"].to(dtype))
    return {"y": y.detach(), "grad_x": x.grad, "grad_weight": w.grad, "grad_bias": b.grad}


def _check(shape, activation: str, backend: str, p: float = 0.3) -> None:
    case = make_case(seed_of("dropout", shape, activation), *shape)
    ours = _run(case, activation, torch.float32, backend, p)
    torch32 = _run(case, activation, torch.float32, "reference", p)
    oracle = _run(case, activation, torch.float64, "reference", p)
    for name in oracle:
        assert_accurate(name, ours[name], torch32[name], oracle[name])
    # The same elements dropped: where the oracle's output is exactly zero only by the mask.
    factors = dropout_factors(shape[0], shape[2], p, **{k.replace("dropout_", ""): v for k, v in KEY.items()})
    assert torch.equal(ours["y"][factors == 0], torch.zeros_like(ours["y"][factors == 0]))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cpu_kernels_match_the_float64_oracle_with_the_mask(simd_level, num_threads, shape, activation) -> None:
    _check(shape, activation, "kernels")


@needs_emu
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", EMU_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_emulated_cuda_kernels_match_the_float64_oracle_with_the_mask(shape, activation) -> None:
    _check(shape, activation, "emu")


@pytest.mark.parametrize("p", [0.0, 1e-7, 0.2, 0.5, 0.999])
def test_mask_is_the_reference_mask_bit_for_bit_on_every_backend_and_thread_count(kernel_backend, num_threads,
                                                                                    p) -> None:
    # Identity activation on strictly positive pre-activations: an output is 0 exactly where dropped,
    # and a kept one is the undropped value times the float32 scale, as the reference computes it.
    rows, cols = (65, 63) if kernel_backend == "emu" else (300, 1003)
    x = torch.rand(rows, 4) + 0.5
    w = torch.rand(cols, 4) + 0.5
    y = pyaae.ops.fused_linear(x, w, None, "identity", backend=kernel_backend, dropout=p, **KEY)
    y_plain = pyaae.ops.fused_linear(x, w, None, "identity", backend=kernel_backend)
    factors = dropout_factors(rows, cols, p, KEY["dropout_seed"], KEY["dropout_step"], KEY["dropout_layer"])
    assert torch.equal(y, y_plain * factors)


def test_reference_philox_passes_the_known_answer_vectors() -> None:
    # Random123's kat_vectors for philox4x32 with 10 rounds (as tests/test_philox.py).
    cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for counter, key, expected in cases:
        words = philox4x32_10(tuple(torch.tensor([c], dtype=torch.int64) for c in counter), key)
        assert tuple(int(w) for w in words) == expected


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_and_mean_scale(p: float) -> None:
    n_rows, n_cols = 1000, 1000
    factors = dropout_factors(n_rows, n_cols, p, seed=123, step=4, layer=1)
    kept = (factors > 0).double().mean().item()
    n = n_rows * n_cols
    # Five standard errors of a binomial proportion: fails by chance about once in 3.5 million runs.
    assert abs(kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    # Kept elements carry 1 / (1 - p), so the mean factor is 1 (inverted dropout).
    assert abs(factors.double().mean().item() - 1.0) < 5 * math.sqrt(p / (1 - p) / n)
    # No structure along rows or columns: every row's and column's keep rate within 6 standard errors.
    per_row = (factors > 0).double().mean(1)
    per_col = (factors > 0).double().mean(0)
    bound = 6 * math.sqrt(p * (1 - p) / n_cols)
    assert (per_row - (1 - p)).abs().max() < bound and (per_col - (1 - p)).abs().max() < bound


def test_masks_of_other_steps_layers_seeds_are_unrelated() -> None:
    base = dropout_factors(200, 200, 0.5, seed=7, step=1, layer=0) > 0
    for other in ({"seed": 7, "step": 2, "layer": 0}, {"seed": 7, "step": 1, "layer": 1},
                  {"seed": 7 + 2**32, "step": 1, "layer": 0}):
        agree = (base == (dropout_factors(200, 200, 0.5, **other) > 0)).double().mean().item()
        assert abs(agree - 0.5) < 0.02, other


def test_dropout_kernels_write_every_output_and_gradient(kernel_backend) -> None:
    # Raw kernel calls on NaN-poisoned outputs: every element must be written, masked ones included.
    module = kernel_module(kernel_backend)
    for batch, n_in, n_out in [(29, 300, 5), (101, 33, 47), (13, 37, 2)]:
        case = make_case(seed_of("poison", batch), batch, n_in, n_out)
        x, w, b, gy = (case[k].numpy() for k in ("x", "weight", "bias", "grad"))
        y = np.full((batch, n_out), np.nan, dtype=np.float32)
        options = {"dropout": 0.4, **KEY}
        module.linear_forward(x, w, b, y, ACTIVATION_CODES["relu"], 0.2, 2, **options)
        assert np.isfinite(y).all()
        gx = np.full_like(x, np.nan)
        gw = np.full_like(w, np.nan)
        gb = np.full_like(b, np.nan)
        scratch = np.full(batch * n_out, np.nan, dtype=np.float32)
        module.linear_backward(gy, y, x, w, gx, gw, gb, ACTIVATION_CODES["relu"], 0.2, 2,
                                                    dropout_scratch=scratch, **options)
        assert np.isfinite(gx).all() and np.isfinite(gw).all() and np.isfinite(gb).all()


def test_nan_and_inf_propagate_as_with_pytorch_dropout(kernel_backend) -> None:
    x = torch.randn(20, 30)
    x[3, 4], x[7, 0], x[11, 29] = float("nan"), float("inf"), -float("inf")
    w = torch.randn(40, 30)
    ours = pyaae.ops.fused_linear(x, w, None, "identity", backend=kernel_backend, dropout=0.5, **KEY)
    theirs = pyaae.ops.fused_linear(x, w, None, "identity", backend="reference", dropout=0.5, **KEY)
    assert_same_nonfinite("y", ours, theirs)
    finite = torch.isfinite(theirs)
    assert torch.allclose(ours[finite], theirs[finite], rtol=1e-5, atol=1e-5)


def test_fused_mlp_stack_matches_the_reference(kernel_backend, num_threads) -> None:
    g = torch.Generator().manual_seed(5)
    x = torch.randn(33, 40, generator=g, requires_grad=True)
    sizes = [40, 50, 60, 3]
    ws = [(torch.randn(o, i, generator=g) / math.sqrt(i)).requires_grad_() for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [torch.randn(o, generator=g).requires_grad_() for o in sizes[1:]]
    acts = ["relu", "tanh", "sigmoid"]
    results = {}
    for backend in (kernel_backend, "reference"):
        y = pyaae.ops.fused_mlp(x, ws, bs, acts, backend=backend, dropout=[0.2, 0.5, 0.1], dropout_seed=9,
                                dropout_step=2, dropout_layer=4)
        results[backend] = (y, torch.autograd.grad(y.square().sum(), [x, *ws, *bs]))
    (y, grads), (y_ref, grads_ref) = results[kernel_backend], results["reference"]
    assert torch.equal(y == 0, y_ref == 0)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(grads, grads_ref):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_a_number_drops_after_hidden_layers_only() -> None:
    x = torch.rand(10, 6) + 0.1
    ws = [torch.rand(7, 6) + 0.1, torch.rand(5, 7) + 0.1]
    y = pyaae.ops.fused_mlp(x, ws, [None, None], ["identity", "identity"], dropout=0.5, dropout_seed=1)
    assert torch.equal(y, pyaae.ops.fused_mlp(x, ws, [None, None], ["identity", "identity"], dropout=[0.5, 0.0],
                                              dropout_seed=1))
    assert (y > 0).all()  # positive inputs and weights: a row is zero only where an output is dropped
    with pytest.raises(ValueError, match="one per layer"):
        pyaae.ops.fused_mlp(x, ws, [None, None], ["identity", "identity"], dropout=[0.1])


def test_modules_drop_in_training_mode_only_and_advance_their_step() -> None:
    mlp = pyaae.nn.FusedMLP([6, 50, 4], dropout=0.5, out_dropout=0.0)
    mlp.dropout_seed = 3
    x = torch.rand(20, 6)
    first, second = mlp(x), mlp(x)
    assert not torch.equal(first, second)  # a new mask per pass
    assert mlp.dropout_step == 2
    mlp.dropout_step = 0
    assert torch.equal(mlp(x), first)  # the same key, the same mask
    with dropout_off(mlp):
        plain = mlp(x)
    assert torch.equal(plain, mlp.eval()(x))
    layer = pyaae.nn.FusedLinear(6, 30, activation="relu", dropout=0.5)
    assert "dropout=0.5" in repr(layer)
    assert (layer.train()(x) == 0).sum() > (layer.eval()(x) == 0).sum()


def test_to_torch_carries_the_dropout() -> None:
    mlp = pyaae.nn.FusedMLP([6, 8, 4], dropout=0.3, out_dropout=0.1)
    dropouts = [m.p for m in mlp.to_torch() if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.3, 0.1]


def test_key_dropout_gives_every_module_its_own_seed_and_the_step_its_counter() -> None:
    model = torch.nn.ModuleDict({"a": pyaae.nn.FusedMLP([4, 8, 2], dropout=0.2),
                                 "b": pyaae.nn.FusedMLP([4, 8, 2], dropout=0.2)})
    key_dropout(model, seed=5, step=11)
    seeds = [m.dropout_seed for m in model.modules() if hasattr(m, "dropout_seed") and isinstance(m, torch.nn.Module)]
    assert len(set(seeds)) == len(seeds)
    assert model["a"].dropout_step == 11 * PASSES_PER_STEP
    again = torch.nn.ModuleDict({"a": pyaae.nn.FusedMLP([4, 8, 2]), "b": pyaae.nn.FusedMLP([4, 8, 2])})
    key_dropout(again, seed=5, step=11)
    assert again["b"].dropout_seed == model["b"].dropout_seed
    key_dropout(again, seed=5, step=11, rank=1)
    assert again["b"].dropout_seed != model["b"].dropout_seed


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan"), float("inf"), "0.2", True, None])
def test_bad_probabilities_are_refused_by_name(bad) -> None:
    x, w = torch.randn(3, 4), torch.randn(5, 4)
    with pytest.raises(ValueError, match="dropout"):
        pyaae.ops.fused_linear(x, w, dropout=bad)
    with pytest.raises(ValueError, match="dropout"):
        pyaae.reference.fused_linear(x, w, dropout=bad)
    with pytest.raises(ValueError, match="dropout"):
        pyaae.nn.FusedMLP([4, 5, 2], dropout=bad)
    with pytest.raises(ValueError, match="encoder_dropout"):
        pyaae.TrainConfig(encoder_dropout=bad).validate()


@pytest.mark.parametrize("name, bad", [("dropout_seed", -1), ("dropout_seed", 2**64), ("dropout_step", 2**32),
                                       ("dropout_layer", -3), ("dropout_step", 1.5)])
def test_bad_keys_are_refused_by_name(name: str, bad) -> None:
    with pytest.raises(ValueError, match=name):
        pyaae.ops.fused_linear(torch.randn(3, 4), torch.randn(5, 4), dropout=0.1, **{name: bad})


def test_the_binding_refuses_a_missing_or_short_scratch() -> None:
    module = kernel_module("kernels")
    x, w = np.ones((4, 3), np.float32), np.ones((5, 3), np.float32)
    y, gy = np.empty((4, 5), np.float32), np.ones((4, 5), np.float32)
    gx = np.empty_like(x)
    code = ACTIVATION_CODES["relu"]
    with pytest.raises(ValueError, match="dropout_scratch"):
        module.linear_backward(gy, y, x, w, gx, None, None, code, 0.2, 1, dropout=0.5)
    with pytest.raises(ValueError, match="dropout_scratch has 3 elements"):
        module.linear_backward(gy, y, x, w, gx, None, None, code, 0.2, 1, dropout=0.5,
                               dropout_scratch=np.empty(3, np.float32))
    with pytest.raises(ValueError, match="probability"):
        module.linear_forward(x, w, None, y, code, 0.2, 1, dropout=1.5)


def test_training_with_dropout_resumes_bit_for_bit_and_the_reference_draws_the_same_masks(tmp_path) -> None:
    config = pyaae.TrainConfig(dataset="blobs", train_size=200, hidden=(32, 32), batch_size=50, optimizer="adam",
                               encoder="gaussian", encoder_noise_scale=2.0, prior_std=2.0, encoder_dropout=0.2,
                               decoder_dropout=0.3, discriminator_dropout=0.2, progress=False, epochs=2)
    whole = pyaae.train(config)
    pyaae.train(config.replace(epochs=1, checkpoint_dir=tmp_path))
    resumed = pyaae.train(config.replace(checkpoint_dir=tmp_path, resume=True))
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    # The reference path draws the same masks, so its run follows the kernels' to float32 rounding.
    reference = pyaae.train(config.replace(epochs=1, backend="reference"))
    kernels = pyaae.train(config.replace(epochs=1))
    assert reference.history[0]["reconstruction"] == pytest.approx(kernels.history[0]["reconstruction"], rel=1e-3)
