"""pyaae.build_info() says what was built and what runs here."""
import math

import torch

import pyaae
from pyaae._activations import ACTIVATION_CODES


def test_keys_and_types() -> None:
    info = pyaae.build_info()
    assert info["version"] == pyaae.__version__
    assert info["extension_loaded"] is True, info["extension_error"]
    assert info["simd"] in info["simd_supported"]
    assert isinstance(info["num_threads"], int) and info["num_threads"] >= 1
    assert isinstance(info["cuda_compiled"], bool)
    assert isinstance(info["cuda_device_available"], bool)
    assert isinstance(info["cuda_archs"], list)
    for op in ("fused_linear", "fused_mlp"):
        backends, reasons = info["ops"][op]["backends"], info["ops"][op]["reasons"]
        assert backends["kernels-cpu"] is True and backends["reference"] is True
        for name, available in backends.items():
            assert available or reasons[name], f"{op}: {name} unavailable without a reason"
    if not info["cuda_device_available"]:
        assert info["cuda_reason"]


def test_threads_follow_torch_unless_set() -> None:
    assert pyaae.get_num_threads() == torch.get_num_threads()
    pyaae.set_num_threads(1)
    try:
        assert pyaae.build_info()["num_threads"] == 1
    finally:
        pyaae.set_num_threads(None)


def test_activation_codes_match_the_kernels() -> None:
    import pyaae._C as kernels

    assert dict(kernels.ACTIVATIONS) == ACTIVATION_CODES


def test_fma_peak_diagnostic() -> None:
    import pyaae._C as kernels

    gflops = kernels.fma_peak_gflops(1, 0.05)
    assert math.isfinite(gflops) and gflops > 0
