"""pyaae.build_info() says what was built and what runs here; thread and FMA-peak settings."""
from __future__ import annotations

import math

import pytest
import torch
from conftest import SIMD_LEVELS

import pyaae
from pyaae._activations import ACTIVATION_CODES

# key -> the type its value must have
KEY_TYPES = {
    "version": str, "extension_loaded": bool, "extension_error": str, "compiler": str, "simd": str,
    "simd_supported": list, "num_threads": int, "torch_version": str, "cuda_compiled": bool,
    "cuda_archs": list, "cuda_device_available": bool, "cuda_reason": str, "ops": dict,
}
OP_BACKENDS = {"kernels-cpu", "kernels-cuda", "emu", "reference"}


def test_keys_and_types() -> None:
    """Every documented key, with the documented type."""
    info = pyaae.build_info()
    assert info.keys() >= KEY_TYPES.keys()
    for key, kind in KEY_TYPES.items():
        assert isinstance(info[key], kind), f"{key}: {type(info[key]).__name__}, expected {kind.__name__}"
    assert info["version"] == pyaae.__version__
    assert info["torch_version"] == torch.__version__
    assert info["extension_loaded"] is True, info["extension_error"]
    assert info["extension_error"] == ""
    assert all(isinstance(arch, str) and arch for arch in info["cuda_archs"])


def test_simd_fields() -> None:
    """The SIMD level in use is one of the supported ones, and is what get_simd_level says."""
    info = pyaae.build_info()
    assert info["simd"] in info["simd_supported"]
    assert info["simd_supported"] == list(SIMD_LEVELS)
    assert set(info["simd_supported"]) <= {"generic", "avx2"} and "generic" in info["simd_supported"]
    assert info["simd"] == pyaae.get_simd_level()
    pyaae.set_simd_level("generic")
    try:
        assert pyaae.build_info()["simd"] == "generic"
    finally:
        pyaae.set_simd_level("auto")


def test_ops_backends_and_reasons() -> None:
    """Each op lists every backend as a bool; an unavailable one has a non-empty reason; the CPU
    kernels and the reference are always there."""
    info = pyaae.build_info()
    assert set(info["ops"]) == {"fused_linear", "fused_mlp", "prior_sampling", "parzen"}
    for op, entry in info["ops"].items():
        backends, reasons = entry["backends"], entry["reasons"]
        assert set(backends) == OP_BACKENDS, op
        assert all(isinstance(v, bool) for v in backends.values()), op
        assert backends["kernels-cpu"] is True and backends["reference"] is True, op
        for name, available in backends.items():
            if available:
                assert name not in reasons, f"{op}: {name} available but has a reason"
            else:
                assert isinstance(reasons.get(name), str) and reasons[name], f"{op}: {name} unavailable without a reason"


def test_cuda_fields_agree() -> None:
    """kernels-cuda is available only with CUDA compiled and a device; otherwise a reason says why."""
    info = pyaae.build_info()
    cuda_ok = info["ops"]["fused_linear"]["backends"]["kernels-cuda"]
    if cuda_ok:
        assert info["cuda_compiled"] and info["cuda_device_available"]
    else:
        assert info["ops"]["fused_linear"]["reasons"]["kernels-cuda"]
    if not info["cuda_compiled"]:
        assert info["cuda_archs"] == [] and not info["cuda_device_available"]
    if not info["cuda_device_available"]:
        assert info["cuda_reason"]


def test_threads_follow_torch_unless_set() -> None:
    """None follows torch.get_num_threads(); a set count shows in build_info until reset."""
    assert pyaae.get_num_threads() == torch.get_num_threads()
    pyaae.set_num_threads(1)
    try:
        assert pyaae.get_num_threads() == 1 and pyaae.build_info()["num_threads"] == 1
    finally:
        pyaae.set_num_threads(None)
    assert pyaae.get_num_threads() == torch.get_num_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_validates(bad: object) -> None:
    with pytest.raises(ValueError, match="num_threads must be a positive integer or None"):
        pyaae.set_num_threads(bad)
    assert pyaae.get_num_threads() == torch.get_num_threads()


def test_many_threads_still_run() -> None:
    """More threads than cores (or than work) is allowed and still computes the right thing."""
    x, w = torch.randn(64, 300), torch.randn(200, 300)
    pyaae.set_num_threads(64)
    try:
        y = pyaae.ops.fused_linear(x, w, None, "identity", backend="kernels")
    finally:
        pyaae.set_num_threads(None)
    torch.testing.assert_close(y, x @ w.t(), rtol=1e-4, atol=1e-4)


def test_thread_count_beyond_c_int_is_refused_or_works() -> None:
    try:
        pyaae.set_num_threads(2**31)
    except ValueError:
        return  # refusing it up front is fine
    try:
        pyaae.ops.fused_linear(torch.randn(2, 3), torch.randn(4, 3), backend="kernels")
    finally:
        pyaae.set_num_threads(None)


def test_activation_codes_match_the_kernels() -> None:
    assert dict(pyaae._C.ACTIVATIONS) == ACTIVATION_CODES


def test_fma_peak_diagnostic() -> None:
    """A short register-only FMA loop reports a positive, finite GFLOP/s at the current level."""
    gflops = pyaae._C.fma_peak_gflops(1, 0.05)
    assert isinstance(gflops, float) and math.isfinite(gflops) and gflops > 0


@pytest.mark.parametrize("threads,seconds,match", [(0, 0.05, "num_threads must be >= 1"),
                                                   (1, 0.0, r"seconds must be in \(0, 60\]"),
                                                   (1, -1.0, r"seconds must be in \(0, 60\]"),
                                                   (1, 61.0, r"seconds must be in \(0, 60\]"),
                                                   (1, float("nan"), r"seconds must be in \(0, 60\]")])
def test_fma_peak_argument_checks(threads: int, seconds: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pyaae._C.fma_peak_gflops(threads, seconds)
