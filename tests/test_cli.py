"""python -m pyaae: train writes checkpoint, model, history and plots; resume continues; sample
writes PNG/.npy/.safetensors; eval parzen scores samples on MNIST; errors are one clear line."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import MNIST_DIR, needs_mnist
from safetensors.torch import load_file

from pyaae.cli import main
from pyaae.models import AAE

TRAIN = ["train", "--dataset", "blobs", "--train-size", "200", "--hidden", "32", "32", "--batch-size", "50",
         "--no-progress"]
PNG_MAGIC = b"\x89PNG"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(TRAIN + ["--epochs", "2", "--out", str(out)]) == 0
    return out


def test_help_lists_every_command() -> None:
    text = subprocess.run([sys.executable, "-m", "pyaae", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("train", "sample", "eval", "info"):
        assert command in text


def test_train_writes_everything(run_dir) -> None:
    for name in ("checkpoint.safetensors", "model.safetensors", "config.json", "history.json", "history.csv"):
        assert (run_dir / name).stat().st_size > 0, name
    history = json.loads((run_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert (run_dir / "history.csv").read_text().splitlines()[0].startswith("reconstruction,")
    for name in ("codes", "samples", "manifold", "reconstructions", "losses"):
        assert (run_dir / "plots" / f"{name}.png").read_bytes()[:4] == PNG_MAGIC, name
    model = AAE.load(run_dir / "model.safetensors")
    assert model.config["hidden"] == [32, 32]


def test_resume_continues_the_run(run_dir, tmp_path, capsys) -> None:
    out = tmp_path / "resumed"
    assert main(TRAIN + ["--epochs", "1", "--out", str(out), "--no-plots"]) == 0
    assert main(TRAIN + ["--epochs", "2", "--out", str(out), "--no-plots", "--resume"]) == 0
    resumed = json.loads((out / "history.json").read_text())
    uninterrupted = json.loads((run_dir / "history.json").read_text())
    assert [h["reconstruction"] for h in resumed] == [h["reconstruction"] for h in uninterrupted]
    ours, theirs = load_file(out / "model.safetensors"), load_file(run_dir / "model.safetensors")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_clustering_options_reach_the_run(tmp_path) -> None:
    out = tmp_path / "clusters"
    assert main(TRAIN + ["--variant", "clustering", "--num-categories", "4", "--category-balance", "0.5",
                         "--style-regularization-weight", "2", "--out", str(out), "--no-plots"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["category_balance"], config["style_regularization_weight"]) == (0.5, 2.0)
    history = json.loads((out / "history.json").read_text())
    assert 0 <= history[0]["category_balance"] <= np.log(4)


def test_max_grad_norm_reaches_the_run(tmp_path) -> None:
    out = tmp_path / "clipped"
    assert main(TRAIN + ["--max-grad-norm", "50", "--out", str(out), "--no-plots"]) == 0
    assert json.loads((out / "config.json").read_text())["max_grad_norm"] == 50.0
    assert main(TRAIN + ["--max-grad-norm", "none", "--out", str(tmp_path / "unclipped"), "--no-plots"]) == 0
    assert json.loads((tmp_path / "unclipped" / "config.json").read_text())["max_grad_norm"] is None


def test_max_grad_norm_rejects_other_words(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(TRAIN + ["--max-grad-norm", "off", "--out", "unused"])
    assert exit_info.value.code == 2
    assert "--max-grad-norm: expected a number or 'none', got 'off'" in capsys.readouterr().err


def test_sample_formats(run_dir, tmp_path) -> None:
    model = str(run_dir / "model.safetensors")
    assert main(["sample", "--model", model, "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == PNG_MAGIC
    assert main(["sample", "--model", model, "--n", "7", "--out", str(tmp_path / "s.npy")]) == 0
    array = np.load(tmp_path / "s.npy")
    assert array.shape == (7, 784) and array.dtype == np.float32 and 0 <= array.min() and array.max() <= 1
    assert main(["sample", "--model", model, "--n", "5", "--seed", "3", "--out", str(tmp_path / "s.safetensors")]) == 0
    assert torch.equal(load_file(str(tmp_path / "s.safetensors"))["samples"],
                       AAE.load(model).eval().sample(5, seed=3))


@pytest.mark.parametrize("argv, message", [
    (["sample", "--model", "missing.safetensors", "--out", "x.png"], "not found"),
    (["sample", "--model", "m.safetensors", "--out", "x.gif"], "--out must end in one of"),
    (TRAIN + ["--prior", "mixture", "--latent-dim", "8", "--out", "unused"], "latent_dim 8 does not match"),
    (["eval", "parzen", "--samples", "missing.npy"], "not found"),
    (TRAIN + ["--variant", "clustering", "--category-balance", "-1", "--out", "unused"],
     "category_balance must be a finite number >= 0"),
    (TRAIN + ["--max-grad-norm", "0", "--out", "unused"], "max_grad_norm must be a positive finite number"),
])
def test_errors_are_one_clear_line(argv, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@needs_mnist
def test_eval_parzen_on_samples(tmp_path, capsys) -> None:
    from pyaae.data import load_mnist

    train, _ = load_mnist(MNIST_DIR, "train")
    np.save(tmp_path / "samples.npy", train[:2000].numpy())
    out = tmp_path / "parzen.json"
    assert main(["eval", "parzen", "--samples", str(tmp_path / "samples.npy"), "--data-dir", str(MNIST_DIR),
                 "--num-valid", "500", "--num-test", "500", "--no-progress", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["num_samples"] == 2000 and report["num_test"] == 500
    assert report["sigma"] in report["sigmas"]
    assert report["validation"][report["sigmas"].index(report["sigma"])] == max(report["validation"])
    # Real training digits as "samples": the estimate is finite and well above that of noise.
    assert np.isfinite(report["log_likelihood"]) and report["stderr"] > 0
    assert "Parzen log-likelihood of 500 MNIST test images" in capsys.readouterr().out


@pytest.fixture(scope="module")
def categorical_models(tmp_path_factory):
    """Untrained MNIST-shaped categorical models (the evaluations' arithmetic does not need training)."""
    from pyaae.models import CategoricalAAE
    from pyaae.priors import Gaussian

    out = tmp_path_factory.mktemp("categorical")
    torch.manual_seed(0)
    for variant, categories in (("semi_supervised", 10), ("clustering", 16)):
        CategoricalAAE(Gaussian(2), num_categories=categories, variant=variant, hidden=(16,),
                       init_std=0.1).save(out / f"{variant}.safetensors")
    AAE(Gaussian(2), hidden=(16,)).save(out / "aae.safetensors")
    return out


@needs_mnist
def test_eval_classification_and_clustering(categorical_models, tmp_path, capsys) -> None:
    from pyaae.data import load_mnist
    from pyaae.eval import classification_error, cluster_composition, clustering_error
    from pyaae.models import load_model

    valid, valid_labels = load_mnist(MNIST_DIR, "validation")
    test, test_labels = load_mnist(MNIST_DIR, "test")
    semi = categorical_models / "semi_supervised.safetensors"
    assert main(["eval", "classification", "--model", str(semi), "--data-dir", str(MNIST_DIR),
                 "--out", str(tmp_path / "c.json")]) == 0
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["classification_error"] == classification_error(load_model(semi), test, test_labels)
    assert f"classification error on 10000 MNIST test images: {100 * report['classification_error']:.2f}%" \
        in capsys.readouterr().out

    clusters = categorical_models / "clustering.safetensors"
    assert main(["eval", "clustering", "--model", str(clusters), "--data-dir", str(MNIST_DIR),
                 "--out", str(tmp_path / "k.json")]) == 0
    report = json.loads((tmp_path / "k.json").read_text())
    model = load_model(clusters)
    for rule in ("paper", "majority"):
        assert report["clustering_error"][rule] == pytest.approx(
            clustering_error(model, valid, valid_labels, test, test_labels, rule), abs=1e-12)
    counts = cluster_composition(model, test, test_labels)
    assert [row["test_label_counts"] for row in report["clusters"]] == counts.tolist()
    assert sum(row["test_images"] for row in report["clusters"]) == 10000
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line[:7].strip().isdigit()]
    assert "by the paper's rule" in text and len(rows) == 16


@pytest.mark.parametrize("evaluation, model, message", [
    ("classification", "clustering", "use 'eval clustering'"),
    ("clustering", "aae", "needs a categorical model"),
    ("classification", "missing", "not found"),
])
def test_eval_categorical_errors(evaluation, model, message, categorical_models, capsys) -> None:
    assert main(["eval", evaluation, "--model", str(categorical_models / f"{model}.safetensors")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_kernels_are_named_not_silent(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setattr("pyaae.cli.extension", lambda name="_C": None)
    monkeypatch.setattr("pyaae.cli.extension_error", lambda name="_C": "pyaae._C could not be imported: gone")
    assert main(TRAIN + ["--out", str(tmp_path / "run"), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "pyaae._C could not be imported: gone" in err and "running on the PyTorch reference backend" in err


def test_an_existing_run_is_never_replaced_by_accident(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(TRAIN + ["--epochs", "1", "--no-plots", "--out", str(out)]) == 0
    before = (out / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert main(TRAIN + ["--epochs", "1", "--no-plots", "--out", str(out), "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (out / "model.safetensors").read_bytes() == before
    assert main(TRAIN + ["--epochs", "1", "--no-plots", "--out", str(out), "--seed", "3", "--overwrite"]) == 0
    assert (out / "model.safetensors").read_bytes() != before


def test_resume_says_what_it_does_when_there_is_nothing_to_resume_or_to_train(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(TRAIN + ["--epochs", "1", "--no-plots", "--out", str(out), "--resume"]) == 0
    assert "holds no checkpoint; starting a new run" in capsys.readouterr().out
    assert main(TRAIN + ["--epochs", "1", "--no-plots", "--out", str(out), "--resume"]) == 0
    text = capsys.readouterr().out
    assert "already trained 1 epochs" in text and "nothing to train" in text


def test_an_unusable_out_fails_before_any_data_is_read(tmp_path, capsys, monkeypatch) -> None:
    import pyaae.training.trainer

    def no_data(config):
        raise AssertionError("data read before --out was checked")

    monkeypatch.setattr(pyaae.training.trainer, "training_data", no_data)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(TRAIN + ["--epochs", "1", "--out", str(blocker / "run")]) == 2
    assert "error:" in capsys.readouterr().err


def test_integer_samples_are_refused_not_cast(tmp_path, capsys) -> None:
    path = tmp_path / "pixels.npy"
    np.save(path, np.full((10, 784), 200, dtype=np.uint8))
    assert main(["eval", "parzen", "--samples", str(path), "--num-test", "10", "--no-progress"]) == 2
    assert "floating-point" in capsys.readouterr().err
