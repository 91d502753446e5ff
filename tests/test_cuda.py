"""The CUDA kernels on a real GPU: run automatically where one is present and the CUDA kernels are
built, skipped with the reason otherwise. (On machines without a GPU the same kernels are tested
through the emulation build, tests/test_fused_linear_accuracy.py.)"""
from __future__ import annotations

import zlib

import pytest
import torch
from _oracle import assert_accurate, forward_backward, make_case

import pyaae

REASON = pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("kernels-cuda")
if REASON is None and not torch.cuda.is_available():
    REASON = "this PyTorch build sees no CUDA device"
pytestmark = [pytest.mark.cuda, pytest.mark.skipif(REASON is not None, reason=f"no CUDA kernels here: {REASON}")]

SHAPES = [(1, 1, 1), (3, 65, 64), (100, 784, 1000), (100, 1000, 8), (100, 8, 1000), (1000, 1000, 784), (7, 17, 3)]


def _on_cuda(case):
    return {k: None if v is None else v.cuda() for k, v in case.items()}


@pytest.mark.parametrize("activation", ["identity", "relu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cuda_kernels_match_float64_oracle(activation: str, shape) -> None:
    case = _on_cuda(make_case(zlib.crc32(repr((activation, shape)).encode()), *shape))
    ours = forward_backward(case, activation, torch.float32, "kernels")
    # PyTorch's float32 on the GPU runs cuBLAS with TF32 off by default for matmul; pin it off.
    torch.backends.cuda.matmul.allow_tf32 = False
    theirs = forward_backward(case, activation, torch.float32, "reference")
    oracle = forward_backward(case, activation, torch.float64, "reference")
    for name in oracle:
        assert_accurate(name, ours[name], theirs[name], oracle[name])


def test_cuda_kernels_run_on_the_current_stream() -> None:
    case = _on_cuda(make_case(7, 256, 512, 256))
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        y = pyaae.ops.fused_linear(case["x"], case["weight"], case["bias"], "relu", backend="kernels")
    stream.synchronize()
    torch.testing.assert_close(y, torch.relu(torch.addmm(case["bias"], case["x"], case["weight"].t())),
                               rtol=1e-4, atol=1e-4)


def test_cuda_mlp_module() -> None:
    mlp = pyaae.nn.FusedMLP([784, 1000, 1000, 8], backend="kernels").cuda()
    x = torch.rand(100, 784, device="cuda")
    twin = mlp.to_torch()
    torch.testing.assert_close(mlp(x), twin(x), rtol=1e-4, atol=1e-4)
    mlp(x).sum().backward()
    assert all(p.grad is not None for p in mlp.parameters())


@pytest.mark.parametrize("make", [lambda: pyaae.priors.Gaussian(8, std=5.0), pyaae.priors.GaussianMixture.paper_preset,
                                  pyaae.priors.SwissRoll, lambda: pyaae.priors.Uniform(5),
                                  lambda: pyaae.priors.Categorical([0.25] * 4)],
                         ids=["gaussian", "mixture", "swiss_roll", "uniform", "categorical"])
def test_cuda_prior_kernels_match_the_cpu(make) -> None:
    """Same Philox words on the GPU: identical indices, floats within the 2^-17 bound of docs/internals.md."""
    prior = make()
    labelled = prior.num_classes is not None and not isinstance(prior, pyaae.priors.Categorical)
    labels = torch.randint(-1, prior.num_classes, (100_003,)) if labelled else None
    cpu, cpu_index = prior.sample(100_003, labels=labels, seed=11, offset=2, return_index=True)
    gpu, gpu_index = prior.sample(100_003, labels=labels, seed=11, offset=2, device="cuda", return_index=True)
    assert torch.equal(cpu_index, gpu_index.cpu())
    bound = 2.0**-17 * torch.clamp(cpu.abs(), min=1.0)
    assert ((gpu.cpu() - cpu).abs() <= bound).all()


def test_cuda_training_follows_the_cpu_kernels() -> None:
    settings = dict(dataset="blobs", train_size=300, hidden=(64, 64), batch_size=50, epochs=2, progress=False)
    on_gpu = pyaae.train(**settings, device="cuda")
    on_cpu = pyaae.train(**settings, device="cpu")
    assert next(on_gpu.model.parameters()).is_cuda
    keys = ("reconstruction", "discriminator", "generator")
    torch.testing.assert_close(torch.tensor([[h[k] for k in keys] for h in on_gpu.history]),
                               torch.tensor([[h[k] for k in keys] for h in on_cpu.history]), rtol=1e-3, atol=1e-4)


def test_cuda_clipped_training_follows_the_cpu_and_reports_overflow() -> None:
    # On a GPU the overflow-to-NaN fill after clipping runs queued on every update (the CPU reads the
    # flag first): a binding clip must train as on the CPU, an overflowing gradient must still stop the run.
    settings = dict(dataset="blobs", train_size=300, hidden=(64, 64), batch_size=50, epochs=2, progress=False,
                    max_grad_norm=0.05)
    on_gpu = pyaae.train(**settings, device="cuda")
    on_cpu = pyaae.train(**settings, device="cpu")
    keys = ("reconstruction", "discriminator", "generator")
    torch.testing.assert_close(torch.tensor([[h[k] for k in keys] for h in on_gpu.history]),
                               torch.tensor([[h[k] for k in keys] for h in on_cpu.history]), rtol=1e-3, atol=1e-4)
    unstable = dict(settings, epochs=3, lr_reconstruction=1e4, init_std=1.0, max_grad_norm=1e6)
    with pytest.raises(pyaae.training.TrainingDiverged, match="max_grad_norm 1000000.0"):
        pyaae.train(**unstable, device="cuda")
