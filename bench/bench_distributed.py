"""Training throughput of the paper's MNIST model (batch 100, SGD, kernels backend) on this machine's
cores, three ways, interleaved round by round in one run:

- 2 processes of 1 thread each under torch.distributed (gloo; each rank trains on 50 rows of every
  minibatch, DistributedDataParallel averages the gradients);
- 1 process on 2 threads (the kernels split each GEMM over the threads);
- 1 process on 1 thread.

Each round is one epoch of STEPS minibatches through ``pyaae.train`` (synthetic 784-pixel images);
the figure is the epoch loop's steps per second from the history, the median over the rounds. The
two ranks are long-lived processes waiting on a queue, idle while the one-process rounds run.
"""
from __future__ import annotations

import datetime
import statistics
from typing import Callable, Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pyaae

STEPS = 30
BATCH = 100
ROUND = dict(dataset="blobs", train_size=STEPS * BATCH, batch_size=BATCH, epochs=1, progress=False,
             backend="kernels")
EPOCH_STEPS = 500  # MNIST's 50,000 training images at batch 100


def _rank(rank: int, store: str, commands: List, results) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=600))
    try:
        while (settings := commands[rank].get()) is not None:
            history = pyaae.train(**settings).history
            if rank == 0:
                results.put(history[0]["steps_per_second"])
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Callable[[dict], float]:
    """``run(settings)``: pyaae.train(**settings) on 2 ranks of 1 thread; rank 0's steps per second."""
    context = mp.get_context("spawn")
    commands, results = [context.Queue() for _ in range(2)], context.Queue()
    store = str(tmp_path_factory.mktemp("store") / "store")
    processes = mp.start_processes(_rank, args=(store, commands, results), nprocs=2, join=False,
                                   start_method="spawn")

    def run(settings: dict) -> float:
        for queue in commands:
            queue.put(settings)
        return results.get(timeout=600)

    yield run
    for queue in commands:
        queue.put(None)
    processes.join()


def _one_process(threads: int) -> float:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return pyaae.train(**ROUND).history[0]["steps_per_second"]
    finally:
        torch.set_num_threads(before)


def bench_training_two_processes_vs_one(benchmark, two_ranks, report_line, request) -> None:
    for _ in range(2):  # warm-up: thread pools, allocator, packing buffers, the ranks' first DDP buckets
        two_ranks(ROUND), _one_process(2), _one_process(1)
    speeds: Dict[str, List[float]] = {"2 processes x 1 thread": [], "1 process x 2 threads": [],
                                      "1 process x 1 thread": []}

    def one_process_rounds() -> None:
        speeds["1 process x 2 threads"].append(_one_process(2))
        speeds["1 process x 1 thread"].append(_one_process(1))

    def distributed_round() -> None:
        speeds["2 processes x 1 thread"].append(two_ranks(ROUND))

    rounds = request.config.getoption("benchmark_min_rounds") if benchmark.enabled else 1
    benchmark.pedantic(distributed_round, setup=one_process_rounds, rounds=rounds)
    medians = {name: statistics.median(values) for name, values in speeds.items()}
    benchmark.extra_info.update({f"steps_per_second[{name}]": value for name, value in medians.items()})
    base = medians["1 process x 2 threads"]
    for name, value in medians.items():
        report_line(f"paper's MNIST model, batch {BATCH}, {name}: {value:.1f} steps/s, an epoch of {EPOCH_STEPS} "
                    f"steps in {EPOCH_STEPS / value:.1f} s ({value / base:.2f}x 1 process x 2 threads)")
