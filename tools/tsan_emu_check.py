"""Runs the emulated CUDA fused-linear kernels of a ThreadSanitizer build (tools/tsan_emu.sh) on the
tile-edge shapes of the test table and checks them against NumPy in float64. Under the emulator every
CUDA thread is an OS thread, so a missing __syncthreads() around shared memory is a data race TSan
reports. NumPy only, no PyTorch: PyTorch's own threads would bury the report in noise."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])  # the folder holding the TSan build of the emu module
import emu  # noqa: E402 (after the path it comes from)

rng = np.random.default_rng(0)
# The tile edges, then every tile shape and split-K (see EMU_SHAPES in tests/test_fused_linear_accuracy.py).
for (b, i, o) in [(3, 65, 64), (65, 17, 63), (64, 64, 65), (1, 129, 130), (257, 9, 260), (5, 300, 68), (300, 20, 12)]:
    workspace = np.empty(emu.linear_workspace_floats(b, i, o), np.float32)
    for act in range(5):
        x = rng.standard_normal((b, i)).astype(np.float32)
        w = (rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32)
        bias = rng.standard_normal(o).astype(np.float32)
        y = np.full((b, o), np.nan, np.float32)
        emu.linear_forward(x, w, bias, y, act, 0.2, 1, workspace=workspace)
        pre = x.astype(np.float64) @ w.T.astype(np.float64) + bias
        ref = [pre, np.maximum(pre, 0), np.where(pre > 0, pre, 0.2 * pre), 1 / (1 + np.exp(-pre)), np.tanh(pre)][act]
        assert np.abs(y - ref).max() < 1e-4, (b, i, o, act)
        gy = rng.standard_normal((b, o)).astype(np.float32)
        gx, gw, gb = np.full((b, i), np.nan, np.float32), np.full((o, i), np.nan, np.float32), np.full(o, np.nan, np.float32)
        emu.linear_backward(gy, y, x, w, gx, gw, gb, act, 0.2, 1, workspace=workspace)
        assert not (np.isnan(gx).any() or np.isnan(gw).any() or np.isnan(gb).any())
print("emulated kernels ran under ThreadSanitizer")
