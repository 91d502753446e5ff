"""torch.distributed: pyaae.eval.parzen shards its points over the ranks of a process group (2 gloo
processes here) and every rank gets exactly the single-process result."""
from __future__ import annotations

import datetime
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pyaae


def _data():
    g = torch.Generator().manual_seed(11)
    # Odd sizes: the last rank's shard is shorter than the others'.
    return torch.rand(300, 20, generator=g), torch.rand(37, 20, generator=g), torch.rand(101, 20, generator=g)


def _rank_main(rank: int, world: int, store: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    try:
        samples, valid, test = _data()
        result = pyaae.eval.parzen(samples, valid, test, progress=False)
        torch.save({"sigma": result.sigma, "mean": result.mean, "stderr": result.stderr,
                    "validation": result.validation}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_sharded_parzen_equals_one_process(tmp_path: Path) -> None:
    world = 2
    mp.spawn(_rank_main, args=(world, str(tmp_path / "store"), str(tmp_path / "result")), nprocs=world, join=True)
    samples, valid, test = _data()
    expected = pyaae.eval.parzen(samples, valid, test, progress=False)
    for rank in range(world):
        got = torch.load(tmp_path / f"result.{rank}", weights_only=True)
        assert got["sigma"] == expected.sigma
        assert got["mean"] == expected.mean and got["stderr"] == expected.stderr
        assert torch.equal(got["validation"], expected.validation)
