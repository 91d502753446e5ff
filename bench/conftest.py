"""Shared machinery of the benchmarks: interleaved timing against PyTorch, the machine's ceilings
measured once in the same run, and a summary table printed at the end of the session (also written as
Markdown with ``--bench-report PATH``).

Interleaving: the machines drift by up to 1.5x between runs, and another process may load them in
bursts, so every ratio comes from one run in which the two implementations strictly alternate, one
call at a time: pytest-benchmark times a pyaae call in each of its rounds, and the round's setup hook
times a PyTorch call on the same inputs just before it. Each implementation therefore always runs
right after the other (the same cache and thread-pool state for both), a slow spell hits both sides
of the same rounds, and the median of each side ignores the rounds it spoiled. The ratio is PyTorch's
median time over pyaae's. One call per sample is enough: the fastest case takes a few tenths of a
millisecond, far above ``time.perf_counter``'s resolution.

Rounds follow pytest-benchmark's own options: enough for ``--benchmark-max-time`` seconds per case
(both sides together), at least ``--benchmark-min-rounds``.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable, List

import pytest
import torch

import pyaae
import pyaae._C as kernels

# A GEMM large enough that torch.mm runs at its best: the practical ceiling.
MM_SIZE = 2048


@dataclass
class Ceilings:
    """GFLOP/s the machine allows, measured on ``threads`` threads (torch.mm at ``mm_size``^3)."""

    threads: int
    fma_peak_gflops: float
    torch_mm_gflops: float
    mm_size: int = MM_SIZE


@dataclass
class Row:
    """One case of the summary: median seconds per call of each side."""

    case: str
    gflop: float
    pyaae_s: float
    torch_s: float
    target: float  # the ratio asked for

    @property
    def ratio(self) -> float:
        return self.torch_s / self.pyaae_s

    @property
    def met(self) -> bool:
        return self.ratio >= self.target


_ROWS: List[Row] = []
_CEILINGS: List[Ceilings] = []
_LINES: List[str] = []  # free-form results of benchmarks that are not pyaae-vs-PyTorch rows


def pytest_addoption(parser) -> None:
    parser.addoption("--bench-report", metavar="PATH", default=None,
                     help="also write the summary table as Markdown to PATH")


def _seconds(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.fixture(scope="session")
def ceilings() -> Ceilings:
    """The machine's float32 FMA peak (pyaae's register-only diagnostic) and torch.mm at 2048^3 (best
    of 5 after a warm-up), on torch.get_num_threads() threads, the count both pyaae and PyTorch use."""
    threads = torch.get_num_threads()
    assert pyaae.get_num_threads() == threads, "pyaae must run on PyTorch's thread count for a fair ratio"
    a, b = torch.randn(MM_SIZE, MM_SIZE), torch.randn(MM_SIZE, MM_SIZE)
    torch.mm(a, b)
    mm_s = min(_seconds(lambda: torch.mm(a, b)) for _ in range(5))
    result = Ceilings(threads, kernels.fma_peak_gflops(threads, 0.5), 2 * MM_SIZE**3 / mm_s * 1e-9)
    _CEILINGS.append(result)
    return result


@pytest.fixture
def versus_torch(benchmark, ceilings: Ceilings, request) -> Callable[..., None]:
    """``versus_torch(case, gflop, ours, theirs, target)``: time ``ours`` (pyaae) with pytest-benchmark
    and ``theirs`` (PyTorch) interleaved with it, put GFLOP/s and the ratio in ``benchmark.extra_info``
    and a row in the summary. ``gflop`` is the work of one call; ``target`` the ratio asked for.
    Requests ``ceilings`` so that every run measures them, before its first case."""

    def run(case: str, gflop: float, ours: Callable[[], None], theirs: Callable[[], None],
            target: float) -> None:
        for _ in range(3):  # warm-up: packing buffers, allocator, thread pools
            pair_s = _seconds(ours) + _seconds(theirs)
        if not benchmark.enabled:  # --benchmark-disable: a smoke run of both sides is all
            return
        config = request.config
        rounds = max(config.getoption("benchmark_min_rounds"),
                     math.ceil(float(config.getoption("benchmark_max_time")) / pair_s))  # a string
        torch_s: List[float] = []
        benchmark.pedantic(ours, setup=lambda: torch_s.append(_seconds(theirs)), rounds=rounds)
        row = Row(case, gflop, benchmark.stats.stats.median, statistics.median(torch_s), target)
        benchmark.extra_info.update(case=case, gflops_pyaae=gflop / row.pyaae_s, gflops_torch=gflop / row.torch_s,
                                    ratio=row.ratio, target=target, met=row.met)
        _ROWS.append(row)

    return run


@pytest.fixture
def report_line() -> Callable[[str], None]:
    """``report_line(text)``: a line for the summary printed at the end of the session."""
    return _LINES.append


def _table() -> str:
    """The cases as a Markdown table, then the ceilings and other lines (any part may be empty)."""
    parts = []
    if _ROWS:
        lines = ["| case | pyaae GFLOP/s | PyTorch GFLOP/s | ratio | target | met |", "|---|---|---|---|---|---|"]
        for r in _ROWS:
            lines.append(f"| {r.case} | {r.gflop / r.pyaae_s:.1f} | {r.gflop / r.torch_s:.1f} | {r.ratio:.2f} "
                         f"| >= {r.target} | {'yes' if r.met else 'no'} |")
        parts.append("\n".join(lines))
    parts += [f"Ceilings in this run ({c.threads} threads): FMA peak {c.fma_peak_gflops:.1f} GFLOP/s, "
              f"torch.mm {c.mm_size}^3 {c.torch_mm_gflops:.1f} GFLOP/s." for c in _CEILINGS]
    parts += _LINES
    return "\n\n".join(parts)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _ROWS and not _CEILINGS and not _LINES:
        return
    table = _table()
    terminalreporter.write_sep("=", "pyaae vs PyTorch (interleaved, median per call)")
    terminalreporter.write_line(table)
    path = config.getoption("--bench-report")
    if path:
        with open(path, "w") as f:
            f.write(table + "\n")
