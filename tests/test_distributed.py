"""torch.distributed with 2 gloo processes on the CPU: the kernels under DistributedDataParallel,
training with 2 ranks against 1 process, every variant, checkpoint/resume, a dying rank, torchrun
with the CLI, and pyaae.eval.parzen sharded over the ranks."""
from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import MNIST_DIR, needs_mnist
from torch.nn.parallel import DistributedDataParallel

import pyaae
from pyaae.training.categorical_step import category_balance_loss
from pyaae.training.distributed import Shard

WORLD = 2
SMALL = dict(dataset="blobs", hidden=(64, 64), batch_size=50, progress=False)


def _rank_entry(rank: int, store: str, out: str, job: Callable[..., Any], args: tuple) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=120))
    try:
        torch.save(job(*args), f"{out}.{rank}")
        pyaae.training.finish_collectives()
    finally:
        dist.destroy_process_group()


def _on_two_ranks(tmp_path: Path, job: Callable[..., Any], *args: Any) -> List[Any]:
    """job(*args) on each of 2 gloo ranks; what each returned, in rank order."""
    mp.spawn(_rank_entry, args=(str(tmp_path / "store"), str(tmp_path / "out"), job, args), nprocs=WORLD, join=True)
    return [torch.load(tmp_path / f"out.{rank}", weights_only=True) for rank in range(WORLD)]


def _trained(settings: dict) -> Dict[str, Any]:
    result = pyaae.train(**settings)
    return {"state": result.model.state_dict(), "history": result.history}


def _train_each(settings: List[dict]) -> List[Dict[str, Any]]:
    return [_trained(s) for s in settings]


# -- the kernels under DDP ----------------------------------------------------------------------------

def _mlp_and_batch(backend: str):
    torch.manual_seed(5)
    mlp = pyaae.nn.FusedMLP([30, 40, 7], out_activation="tanh", backend=backend)
    x = torch.randn(24, 30)
    return mlp, x


def _ddp_gradients(backend: str) -> Dict[str, torch.Tensor]:
    mlp, x = _mlp_and_batch(backend)
    ddp = DistributedDataParallel(mlp)
    half = x[dist.get_rank() * 12:(dist.get_rank() + 1) * 12]
    ddp(half).square().mean().backward()
    return {name: p.grad for name, p in mlp.named_parameters()}


@pytest.mark.parametrize("backend", ["kernels", "reference"])
def test_kernels_under_ddp_average_the_gradients(tmp_path: Path, backend: str) -> None:
    ranks = _on_two_ranks(tmp_path, _ddp_gradients, backend)
    mlp, x = _mlp_and_batch(backend)
    mlp(x).square().mean().backward()
    for name, p in mlp.named_parameters():
        # The gradient hooks fired: both ranks hold the same average, the whole batch's gradient.
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        torch.testing.assert_close(ranks[0][name], p.grad, rtol=1e-5, atol=1e-7)


def _balance_setup():
    torch.manual_seed(3)
    return torch.nn.Linear(5, 6), torch.randn(7, 5), torch.tensor([0.1, 0.1, 0.2, 0.2, 0.3, 0.1])


def _balance_gradients() -> Dict[str, Any]:
    head, x, prior = _balance_setup()
    shard = Shard.of(len(x))  # 4 rows and 3
    ddp = DistributedDataParallel(head)  # held: its gradient hooks live as long as it does
    loss = category_balance_loss(torch.softmax(ddp(shard.take(x)), 1), prior, shard)
    loss.backward()
    return {"loss": loss.detach(), **{name: p.grad for name, p in head.named_parameters()}}


def test_category_balance_spans_the_ranks(tmp_path: Path) -> None:
    """The balance term's value and gradient on 2 ranks (4 and 3 rows) are the whole minibatch's."""
    ranks = _on_two_ranks(tmp_path, _balance_gradients)
    head, x, prior = _balance_setup()
    loss = category_balance_loss(torch.softmax(head(x), 1), prior, Shard(0, 1, len(x)))
    loss.backward()
    for rank in ranks:
        torch.testing.assert_close(rank["loss"], loss.detach(), rtol=1e-6, atol=1e-7)
        for name, p in head.named_parameters():
            torch.testing.assert_close(rank[name], p.grad, rtol=1e-5, atol=1e-7)


# -- training -------------------------------------------------------------------------------------------

FOLLOW = {
    # 251 examples: the last minibatch has 1 row, so rank 1 trains on none of it.
    "unsupervised": dict(SMALL, train_size=251, epochs=2),
    # Clipping at 9 binds on about half the reconstruction updates here (norms 7.7-11.8): each rank
    # must clip the gradient DDP has averaged, the whole minibatch's, as the one process does.
    "unsupervised_clipped": dict(SMALL, train_size=251, epochs=2, max_grad_norm=9.0),
    "label_regularized": dict(SMALL, train_size=270, epochs=2, variant="label_regularized", prior="mixture",
                              optimizer="adam", num_labeled=150),
    "semi_supervised": dict(SMALL, train_size=270, epochs=2, variant="semi_supervised", num_labeled=60,
                            input_noise=0.0, discriminator_noise=0.0, optimizer="adam"),
    # The category-balance term stays off: near a uniform q(y|x) its gradient is float32 rounding that
    # Adam's normalized steps magnify, so runs summing rows in another order part by up to 2 %
    # (measured); test_category_balance_spans_the_ranks checks it on 2 ranks at the gradient.
    "clustering": dict(SMALL, train_size=251, epochs=2, variant="clustering", num_categories=4, input_noise=0.0,
                       style_regularization_weight=3.0, optimizer="adam"),
}


@pytest.mark.parametrize("name", sorted(FOLLOW))
def test_two_ranks_follow_one_process(tmp_path: Path, name: str) -> None:
    """2 ranks with batch_size/2 rows each against 1 process with batch_size, same seed (the
    variants here draw no noise: the prior samples are the same, the rows split)."""
    ranks = _on_two_ranks(tmp_path, _trained, FOLLOW[name])
    alone = pyaae.train(**FOLLOW[name])
    for (key, a), b in zip(ranks[0]["state"].items(), ranks[1]["state"].values()):
        assert torch.equal(a, b), key
    for key, expected in alone.model.state_dict().items():
        got = ranks[0]["state"][key]
        # Measured: at most 6e-6 of the largest weight (the rows are summed in another order).
        assert (got - expected).abs().max() <= 1e-4 * expected.abs().max(), key
    for got, expected in zip(ranks[0]["history"], alone.history):
        for key in ("reconstruction", "discriminator", "generator", "discriminator_accuracy"):
            assert got[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key


EVERY = [
    dict(SMALL, train_size=150, encoder="gaussian"),
    dict(SMALL, train_size=150, encoder="universal"),
    dict(SMALL, train_size=150, variant="supervised"),
    dict(SMALL, train_size=150, variant="label_regularized", prior="swiss_roll", num_labeled=100),
    dict(SMALL, train_size=150, variant="clustering", num_categories=4),
    dict(SMALL, train_size=150, variant="dim_reduction", num_categories=4),
    dict(SMALL, train_size=150, variant="dim_reduction", num_labeled=40),
    dict(SMALL, train_size=150, variant="semi_supervised", num_labeled=40),
]


def test_every_variant_trains_on_two_ranks_in_step(tmp_path: Path) -> None:
    ranks = _on_two_ranks(tmp_path, _train_each, EVERY)
    for settings, first, second in zip(EVERY, *ranks):
        for (key, a), b in zip(first["state"].items(), second["state"].values()):
            assert torch.isfinite(a).all(), (settings, key)
            assert torch.equal(a, b), (settings, key)
        for key in ("reconstruction", "discriminator", "generator"):
            assert first["history"][0][key] == second["history"][0][key], (settings, key)


def _resume_job(directory: str) -> Dict[str, Any]:
    runs = {}
    for encoder in ("universal", "deterministic"):
        settings = dict(SMALL, train_size=160, variant="semi_supervised" if encoder == "deterministic" else
                        "unsupervised", encoder=encoder, num_labeled=40 if encoder == "deterministic" else None)
        uninterrupted = _trained(dict(settings, epochs=3))
        folder = os.path.join(directory, encoder)
        pyaae.train(**settings, epochs=1, checkpoint_dir=folder)
        resumed = _trained(dict(settings, epochs=3, checkpoint_dir=folder, resume=True))
        runs[encoder] = (uninterrupted, resumed)
    return runs


def test_resume_on_two_ranks_matches_the_uninterrupted_run(tmp_path: Path) -> None:
    ranks = _on_two_ranks(tmp_path, _resume_job, str(tmp_path))
    for runs in ranks:
        for encoder, (uninterrupted, resumed) in runs.items():
            assert [h["reconstruction"] for h in resumed["history"]] == \
                [h["reconstruction"] for h in uninterrupted["history"]], encoder
            for (key, a), b in zip(uninterrupted["state"].items(), resumed["state"].values()):
                assert torch.equal(a, b), (encoder, key)
    # One process cannot resume what two wrote: each rank's random state is in the checkpoint.
    with pytest.raises(ValueError, match="resume it with as many"):
        pyaae.train(**SMALL, train_size=160, encoder="universal", epochs=3,
                    checkpoint_dir=tmp_path / "universal", resume=True)


def _unshared_checkpoint_job(directory: str) -> str:
    # Each rank names its own folder, as ranks on machines without shared storage would: rank 0 alone
    # writes, so the other rank finds no checkpoint to resume from.
    settings = dict(SMALL, train_size=100, checkpoint_dir=os.path.join(directory, f"rank{dist.get_rank()}"))
    pyaae.train(**settings, epochs=1)
    with pytest.raises(ValueError) as error:
        pyaae.train(**settings, epochs=2, resume=True)
    return str(error.value)


def test_resume_needs_the_checkpoint_on_every_rank(tmp_path: Path) -> None:
    for message in _on_two_ranks(tmp_path, _unshared_checkpoint_job, str(tmp_path)):
        assert "exists for 1 of the 2 ranks only" in message


# -- a rank dies ------------------------------------------------------------------------------------------

DYING_RUN = """
import datetime, pathlib, sys
import torch, torch.distributed as dist
import pyaae
torch.set_num_threads(1)
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=float(sys.argv[2])))
pathlib.Path(sys.argv[1] + "." + str(dist.get_rank())).touch()
pyaae.train(dataset="blobs", train_size=200, hidden=(32,), batch_size=20, epochs=100000, progress=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how, after", [("killed", 0.0), ("killed", 2.0), ("frozen", 2.0)])
def test_a_dying_rank_stops_the_others_with_a_clear_error(tmp_path: Path, how: str, after: float) -> None:
    """A killed rank drops its connections (rank 0 fails at once), whether it dies while the model
    is set up (after 0 s) or in training; a frozen one (SIGSTOP) just stops answering (rank 0 fails
    after the group's timeout)."""
    timeout = 10
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE=str(WORLD))
    started = str(tmp_path / "started")
    ranks = [subprocess.Popen([sys.executable, "-c", DYING_RUN, started, str(timeout)],
                              env=dict(env, RANK=str(rank)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(WORLD)]
    try:
        deadline = time.monotonic() + 120
        while not all(Path(f"{started}.{rank}").exists() for rank in range(WORLD)):
            for process in ranks:
                if process.poll() is not None:
                    pytest.fail(f"a rank ended before training: {process.communicate()[1][-6000:]}")
            assert time.monotonic() < deadline, "the ranks did not start"
            time.sleep(0.2)
        time.sleep(after)
        ranks[1].send_signal(signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        killed = time.monotonic()
        _, stderr = ranks[0].communicate(timeout=timeout + 60)
        assert ranks[0].returncode != 0
        assert time.monotonic() - killed < timeout + 30
        assert "DistributedTrainingError" in stderr and "another rank has died" in stderr, stderr[-3000:]
    finally:
        for process in ranks:
            if process.poll() is None:
                process.kill()
            process.communicate()


# -- torchrun and the CLI -----------------------------------------------------------------------------------

def _torchrun(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(WORLD), "--master-port",
               str(_free_port()), "-m", "pyaae", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))


@pytest.fixture(scope="module")
def torchrun_training(tmp_path_factory) -> tuple:
    out = tmp_path_factory.mktemp("torchrun") / "run"
    done = _torchrun("train", "--dataset", "blobs", "--train-size", "200", "--hidden", "32", "--batch-size", "40",
                     "--epochs", "2", "--no-progress", "--out", str(out))
    return done, out


def test_torchrun_cli_trains_on_two_ranks_and_rank_zero_writes(torchrun_training) -> None:
    done, out = torchrun_training
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained 2 epochs") == 1  # rank 0 alone reports and writes
    for name in ("checkpoint.safetensors", "model.safetensors", "history.json", "history.csv", "config.json",
                 "plots/codes.png"):
        assert (out / name).is_file(), name
    model = pyaae.models.load_model(out / "model.safetensors")
    assert model.config["hidden"] == [32]


@needs_mnist
def test_torchrun_cli_parzen_equals_one_process(torchrun_training, tmp_path: Path) -> None:
    _, out = torchrun_training
    options = ["eval", "parzen", "--model", str(out / "model.safetensors"), "--data-dir", str(MNIST_DIR),
               "--num-samples", "500", "--num-valid", "200", "--num-test", "301", "--no-progress"]
    done = _torchrun(*options, "--out", str(tmp_path / "ranks.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Parzen log-likelihood") == 1
    alone = subprocess.run([sys.executable, "-m", "pyaae", *options, "--out", str(tmp_path / "alone.json")],
                           capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stderr[-3000:]
    ranks, expected = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("ranks", "alone"))
    assert ranks == expected


# -- sharded Parzen -----------------------------------------------------------------------------------------

def _parzen_data():
    g = torch.Generator().manual_seed(11)
    # Odd sizes: the last rank's shard is shorter than the others'.
    return torch.rand(300, 20, generator=g), torch.rand(37, 20, generator=g), torch.rand(101, 20, generator=g)


def _sharded_parzen() -> Dict[str, Any]:
    result = pyaae.eval.parzen(*_parzen_data(), progress=False)
    return {"sigma": result.sigma, "mean": result.mean, "stderr": result.stderr, "validation": result.validation}


def test_sharded_parzen_equals_one_process(tmp_path: Path) -> None:
    ranks = _on_two_ranks(tmp_path, _sharded_parzen)
    expected = pyaae.eval.parzen(*_parzen_data(), progress=False)
    for got in ranks:
        assert got["sigma"] == expected.sigma
        assert got["mean"] == expected.mean and got["stderr"] == expected.stderr
        assert torch.equal(got["validation"], expected.validation)
