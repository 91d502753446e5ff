"""Shared machinery of the benchmarks: interleaved timing against PyTorch, the machine's ceilings
measured in the same run, and a summary table (also written as Markdown with --bench-report PATH).

Interleaving: the machines drift by up to 1.5x between runs, so every ratio comes from one run in
which the two implementations alternate. pytest-benchmark times pyaae; its per-round setup hook
times PyTorch on the same inputs just before, so each pyaae round has a PyTorch round beside it.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import pytest
import torch


@dataclass
class Row:
    case: str
    gflop: float
    pyaae_s: float
    torch_s: float
    target: Optional[float]

    @property
    def ratio(self) -> float:
        return self.torch_s / self.pyaae_s


_ROWS: List[Row] = []
_CEILINGS: dict = {}


def pytest_addoption(parser) -> None:
    parser.addoption("--bench-report", default=None, help="also write the summary table as Markdown to PATH")


@pytest.fixture(scope="session")
def ceilings() -> dict:
    """The machine's float32 FMA peak (pyaae's register-only diagnostic) and torch.mm at 2048^3, in
    GFLOP/s, on torch.get_num_threads() threads."""
    if not _CEILINGS:
        import pyaae._C as kernels

        threads = torch.get_num_threads()
        _CEILINGS["fma_peak"] = kernels.fma_peak_gflops(threads, 0.5)
        a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
        torch.mm(a, b)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - start)
        _CEILINGS["torch_mm_2048"] = 2 * 2048**3 / min(times) * 1e-9
        _CEILINGS["threads"] = threads
    return _CEILINGS


@pytest.fixture
def versus_torch(benchmark, ceilings):
    """``versus_torch(case, gflop, ours, theirs, target)``: time ``ours`` with pytest-benchmark and
    ``theirs`` interleaved with it, record GFLOP/s and the ratio in extra_info and the summary."""

    def run(case: str, gflop: float, ours: Callable[[], None], theirs: Callable[[], None],
            target: Optional[float], rounds: int = 30) -> Row:
        torch_times: List[float] = []

        def time_torch() -> None:
            start = time.perf_counter()
            theirs()
            torch_times.append(time.perf_counter() - start)

        for _ in range(3):  # warm-up: packing buffers, allocator, thread pools
            ours()
            theirs()
        benchmark.pedantic(ours, setup=time_torch, rounds=rounds, iterations=1, warmup_rounds=0)
        row = Row(case, gflop, benchmark.stats.stats.median, statistics.median(torch_times), target)
        benchmark.extra_info.update(
            gflops_pyaae=gflop / row.pyaae_s, gflops_torch=gflop / row.torch_s, ratio=row.ratio, target=target,
            fma_peak_gflops=ceilings["fma_peak"], torch_mm_2048_gflops=ceilings["torch_mm_2048"])
        _ROWS.append(row)
        return row

    return run


def _table() -> str:
    lines = ["| case | pyaae GFLOP/s | PyTorch GFLOP/s | ratio | target | met |", "|---|---|---|---|---|---|"]
    for r in _ROWS:
        met = "" if r.target is None else ("yes" if r.ratio >= r.target else "no")
        target = "" if r.target is None else f">= {r.target}"
        lines.append(f"| {r.case} | {r.gflop / r.pyaae_s:.1f} | {r.gflop / r.torch_s:.1f} | {r.ratio:.2f} | {target} | {met} |")
    if _CEILINGS:
        lines.append("")
        lines.append(f"Ceilings in this run ({_CEILINGS['threads']} threads): FMA peak {_CEILINGS['fma_peak']:.1f} GFLOP/s, "
                     f"torch.mm 2048^3 {_CEILINGS['torch_mm_2048']:.1f} GFLOP/s.")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _ROWS:
        return
    table = _table()
    terminalreporter.write_sep("=", "pyaae vs PyTorch (interleaved, medians)")
    terminalreporter.write_line(table)
    path = config.getoption("--bench-report")
    if path:
        with open(path, "w") as f:
            f.write(table + "\n")
