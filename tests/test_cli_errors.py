"""python -m pyaae when something is wrong: one line, 'error:', naming the argument or file and what to
do; exit status 2 when the arguments or the files they name are wrong, 1 when the run failed; the
traceback only with --debug or PYAAE_DEBUG=1. Help that states each default once."""
from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

from pyaae.cli import main
from pyaae.models import AAE, CategoricalAAE, save_checkpoint
from pyaae.priors import Gaussian

TRAIN = ["train", "--dataset", "blobs", "--train-size", "200", "--hidden", "32", "32", "--batch-size", "50",
         "--no-progress", "--no-plots"]


def _fails(argv, capsys, status: int, *phrases: str) -> str:
    """Run argv; assert the exit status and one error line holding every phrase; return the line."""
    assert main(argv) == status
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models")
    AAE(Gaussian(2), hidden=(16,)).save(out / "aae.safetensors")
    CategoricalAAE(Gaussian(2), num_categories=10, hidden=(16,)).save(out / "semi.safetensors")
    return out


def test_a_misspelled_data_dir_without_download(tmp_path, capsys) -> None:
    """The message told a command-line user to "pass download=True"."""
    folder = tmp_path / "mnsit"
    line = _fails(["train", "--no-download", "--data-dir", str(folder), "--out", str(tmp_path / "run")], capsys, 2,
                  f"--data-dir {folder} holds no MNIST files", "leave out --no-download")
    assert "download=True" not in line and not folder.exists()


def test_the_default_mnist_folder_without_download(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PYAAE_DATA_DIR", str(tmp_path))
    _fails(["train", "--no-download", "--out", str(tmp_path / "run")], capsys, 2,
           f"the default MNIST folder {tmp_path / 'mnist'} holds no MNIST files", "pass --data-dir")


def test_a_corrupt_mnist_file(models, tmp_path, capsys) -> None:
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"not MNIST")
    _fails(["eval", "classification", "--model", str(models / "semi.safetensors"), "--data-dir", str(tmp_path),
            "--no-download"], capsys, 2, "t10k-images-idx3-ubyte.gz is corrupt", f"--data-dir {tmp_path}")


def test_out_is_a_file(tmp_path, capsys, models) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("a file")
    _fails(TRAIN + ["--out", str(blocker)], capsys, 2, f"--out {blocker}", "a file stands where a folder must be")
    _fails(["sample", "--model", str(models / "aae.safetensors"), "--out", str(blocker / "s.npy")], capsys, 2,
           f"--out {blocker}", "a file stands where a folder must be")


@pytest.mark.parametrize("code, status, advice", [
    (errno.EROFS, 2, "the file system is read-only"),
    (errno.EACCES, 2, "choose a path you may write to"),
    (errno.ENOSPC, 1, "the disk is full"),
])
def test_an_unwritable_output(models, tmp_path, capsys, monkeypatch, code, status, advice) -> None:
    out = tmp_path / "s.npy"

    def refuse(path, write):
        raise OSError(code, "refused", str(path))

    monkeypatch.setattr("pyaae.cli.sample.write_atomically", refuse)
    _fails(["sample", "--model", str(models / "aae.safetensors"), "--out", str(out)], capsys, status,
           f"--out {out}: refused", advice)


@pytest.mark.parametrize("device, phrase", [
    ("meta", "--device 'meta': pyaae runs on cpu, cuda or cuda:N"),
    ("gpu", "--device 'gpu' is not a device"),
    pytest.param("cuda", "--device 'cuda': this PyTorch", marks=pytest.mark.skipif(
        torch.cuda.is_available(), reason="CUDA is available here")),
    ("cuda:99", "--device 'cuda:99'"),
])
def test_a_device_that_cannot_run(device, phrase, tmp_path, capsys) -> None:
    """--device cuda without CUDA was an AssertionError, --device meta a RuntimeError, after the data loaded."""
    _fails(TRAIN + ["--device", device, "--out", str(tmp_path / "run")], capsys, 2, phrase)
    assert not (tmp_path / "run").exists()


def test_a_garbage_model_file(tmp_path, capsys) -> None:
    """An 8-byte garbage file was a MemoryError: the header length was read unbounded."""
    garbage = tmp_path / "model.safetensors"
    garbage.write_bytes(b"\xff" * 8)
    _fails(["sample", "--model", str(garbage), "--out", str(tmp_path / "s.png")], capsys, 2,
           f"{garbage} is not a pyaae checkpoint")


def test_a_training_checkpoint_given_as_a_model(tmp_path, capsys) -> None:
    """It was "unhashable type: 'dict'"."""
    model = AAE(Gaussian(2), hidden=(16,))
    checkpoint = tmp_path / "checkpoint.safetensors"
    save_checkpoint(checkpoint, {f"model.{k}": v for k, v in model.state_dict().items()},
                    {"kind": "training_state", "epoch": 1, "model": {"config": model.config}})
    _fails(["sample", "--model", str(checkpoint), "--out", str(tmp_path / "s.png")], capsys, 2,
           f"{checkpoint} is a training checkpoint", "model.safetensors")


def test_a_model_file_without_its_prior(models, tmp_path, capsys) -> None:
    """A description without a prior was a KeyError."""
    from pyaae.models.checkpoint import load_checkpoint

    tensors, description = load_checkpoint(models / "aae.safetensors")
    del description["prior"]
    save_checkpoint(tmp_path / "m.safetensors", tensors, description)
    _fails(["sample", "--model", str(tmp_path / "m.safetensors"), "--out", str(tmp_path / "s.png")], capsys, 2,
           "is not a pyaae model file: its description lacks the model's name, config or prior")


@pytest.mark.parametrize("error, status, phrases", [
    (RuntimeError("the run broke\n  in two lines"), 1, ["RuntimeError: the run broke; in two lines", "--debug"]),
    (KeyError("prior"), 1, ["KeyError: missing entry 'prior'", "--debug"]),
    (AssertionError("Torch not compiled with CUDA enabled"), 1, ["AssertionError: Torch not compiled"]),
    (SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left '
                     'on device" })'), 1, ["safetensors file failed", "the disk is full"]),
    (MemoryError(), 1, ["out of memory", "--batch-size"]),
    (ValueError("lr_reconstruction must be finite"), 2, ["lr_reconstruction must be finite"]),
])
def test_every_failure_is_one_line(error, status, phrases, tmp_path, capsys, monkeypatch) -> None:
    """Only ValueError, TypeError and FileNotFoundError were caught; the rest reached the user as tracebacks."""
    def failing(config):
        raise error

    monkeypatch.setattr("pyaae.cli.train.train", failing)
    _fails(TRAIN + ["--out", str(tmp_path / "run")], capsys, status, *phrases)


def test_debug_shows_the_traceback(tmp_path, monkeypatch) -> None:
    def failing(config):
        raise RuntimeError("the run broke")

    monkeypatch.setattr("pyaae.cli.train.train", failing)
    with pytest.raises(RuntimeError, match="the run broke"):
        main(TRAIN + ["--out", str(tmp_path / "run"), "--debug"])
    with pytest.raises(RuntimeError, match="the run broke"):
        main(["--debug"] + TRAIN + ["--out", str(tmp_path / "run")])
    monkeypatch.setenv("PYAAE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the run broke"):
        main(TRAIN + ["--out", str(tmp_path / "run")])


def test_the_process_prints_one_line_and_exits_2(tmp_path) -> None:
    garbage = tmp_path / "model.safetensors"
    garbage.write_bytes(b"\x00" * 8)
    result = subprocess.run([sys.executable, "-m", "pyaae", "sample", "--model", str(garbage), "--out",
                             str(tmp_path / "s.png")], capture_output=True, text=True)
    errors = [line for line in result.stderr.splitlines() if "note:" not in line]
    assert result.returncode == 2 and len(errors) == 1, result.stderr
    assert errors[0].startswith("python -m pyaae sample: error: ") and str(garbage) in errors[0]


@pytest.mark.parametrize("typed", ["--ouput", "--ou"])
def test_a_mistyped_option_is_named(typed, capsys) -> None:
    """--ouput was reported as "required: --out"; --ou was taken for --out (argparse's prefixes)."""
    with pytest.raises(SystemExit) as exit_info:
        main(TRAIN + [typed, "x"])
    assert exit_info.value.code == 2
    assert f"error: unrecognized arguments: {typed} (did you mean --out?)" in capsys.readouterr().err


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit):
        main(argv + ["--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("argv", [["train"], ["sample"], ["eval", "parzen"], ["eval", "clustering"]])
def test_help_states_each_default_once(argv, capsys) -> None:
    """--no-* flags said "(default: True)", some options "(default: the prior's) (default: None)"."""
    text = _help(argv, capsys)
    assert "(default: True)" not in text and "(default: False)" not in text and "(default: None)" not in text
    options = text.split(" --")
    for option in options:
        assert option.count("default") <= 1, option


def test_train_help_shows_defaults_without_help_text(capsys) -> None:
    text = _help(["train"], capsys)
    for shown in ("--epochs EPOCHS (default: 1)", "--seed SEED (default: 0)", "hidden layer sizes (default: 1000 1000)",
                  "code dimension (default: the prior's)"):
        assert shown in text, shown
