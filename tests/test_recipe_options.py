"""The training-recipe options beside dropout: the weight average (ema_decay), the classification
phase's frequency (classification_every), the gaussian encoder's noise scale and Adam's betas."""
from __future__ import annotations

import pytest
import torch

import pyaae
from pyaae.cli import main

SMALL = dict(dataset="blobs", train_size=200, hidden=(16,), batch_size=50, optimizer="adam", progress=False)
SEMI = dict(SMALL, variant="semi_supervised", num_labeled=40)


def _equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_average_at_decay_zero_is_the_last_weights_and_otherwise_lags_them() -> None:
    last = pyaae.train(**SMALL, epochs=2, ema_decay=0.0)
    assert _equal(last.averaged_model, last.model)
    plain = pyaae.train(**SMALL, epochs=2)
    assert plain.averaged_model is None and _equal(plain.model, last.model)  # averaging changes no training
    lagging = pyaae.train(**SMALL, epochs=2, ema_decay=0.9)
    assert _equal(lagging.model, last.model) and not _equal(lagging.averaged_model, lagging.model)
    # Each weight of the average lies between the initial and final weights' range: a blend, not a copy.
    w_avg = lagging.averaged_model.decoder[0].weight
    assert torch.isfinite(w_avg).all() and not lagging.averaged_model.training


def test_average_is_checkpointed_and_resumes_bit_for_bit(tmp_path) -> None:
    whole = pyaae.train(**SMALL, epochs=2, ema_decay=0.7)
    pyaae.train(**SMALL, epochs=1, ema_decay=0.7, checkpoint_dir=tmp_path)
    resumed = pyaae.train(**SMALL, epochs=2, ema_decay=0.7, checkpoint_dir=tmp_path, resume=True)
    assert _equal(whole.averaged_model, resumed.averaged_model) and _equal(whole.model, resumed.model)


def test_resuming_a_run_without_average_under_ema_decay_says_why(tmp_path) -> None:
    pyaae.train(**SMALL, epochs=1, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="holds no weight average"):
        pyaae.train(**SMALL, epochs=2, ema_decay=0.9, checkpoint_dir=tmp_path, resume=True)


def test_classification_every_k_minibatches() -> None:
    every = pyaae.train(**SEMI, epochs=1)
    sparse = pyaae.train(**SEMI, epochs=1, classification_every=3)
    assert every.history[0]["classification"] > 0 and sparse.history[0]["classification"] > 0
    # Fewer classification updates change the run.
    assert not _equal(every.model, sparse.model)


def test_noise_scale_widens_the_training_codes() -> None:
    model = pyaae.models.AAE(pyaae.priors.Gaussian(2, std=5.0), input_dim=6, encoder="gaussian", hidden=[8],
                             encoder_noise_scale=5.0)
    x = torch.rand(4000, 6)
    torch.manual_seed(0)
    spread = (model.train().encode(x) - model.eval().encode(x)).std().item()
    # logvar is about 0 at initialization: the noise's std is the scale.
    assert spread == pytest.approx(5.0, rel=0.1)


@pytest.mark.parametrize("field, bad, message", [
    ("ema_decay", 1.0, "ema_decay must be a probability"),
    ("ema_decay", float("nan"), "ema_decay must be a probability"),
    ("classification_every", 0, "classification_every must be an integer >= 1"),
    ("adam_betas", (0.5,), "adam_betas must be two numbers"),
])
def test_bad_recipe_options_are_refused_by_name(field, bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        pyaae.TrainConfig(**{field: bad}).validate()


def test_cli_writes_the_average_as_the_model_and_the_last_weights_beside_it(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--dataset", "blobs", "--train-size", "200", "--hidden", "16", "--batch-size", "50",
                 "--optimizer", "adam", "--epochs", "1", "--ema-decay", "0.5", "--encoder-dropout", "0.1",
                 "--no-plots", "--no-progress", "--out", str(out)]) == 0
    assert "model_last.safetensors" in capsys.readouterr().out
    averaged = pyaae.models.load_model(out / "model.safetensors")
    last = pyaae.models.load_model(out / "model_last.safetensors")
    assert not _equal(averaged, last)
    assert averaged.config["dropout"] == [0.1, 0.0, 0.0]


def test_hidden_noise_acts_in_training_only_and_keeps_the_stacks_masks() -> None:
    torch.manual_seed(0)
    noisy = pyaae.nn.FusedMLP([6, 40, 30, 3], dropout=0.3, hidden_noise=0.5)
    x = torch.rand(50, 6)
    assert not torch.equal(noisy(x), noisy(x))
    assert torch.equal(noisy.eval()(x), noisy(x))
    # Layer by layer (noise on) and stacked (noise off) draw the same dropout masks for the same key.
    tiny = pyaae.nn.FusedMLP([6, 40, 30, 3], dropout=0.3, hidden_noise=1e-30)
    stacked = pyaae.nn.FusedMLP([6, 40, 30, 3], dropout=0.3)
    stacked.load_state_dict(tiny.state_dict())
    for m in (tiny, stacked):
        m.dropout_seed, m.dropout_step = 11, 5
    torch.testing.assert_close(tiny(x), stacked(x))
    with pytest.raises(ValueError, match="hidden_noise"):
        pyaae.nn.FusedMLP([6, 3], hidden_noise=-1.0)
    with pytest.raises(ValueError, match="hidden_noise"):
        pyaae.TrainConfig(hidden_noise=float("nan")).validate()


def test_semi_supervised_trains_with_hidden_noise() -> None:
    result = pyaae.train(**SEMI, epochs=1, hidden_noise=0.5)
    assert result.model.config["hidden_noise"] == 0.5 and result.history[0]["classification"] > 0


def test_discriminators_learn_from_codes_without_the_encoders_dropout(monkeypatch) -> None:
    from pyaae.training import categorical_step, step

    seen = []
    real_off = step.dropout_off

    def spy(network):
        seen.append(network)
        return real_off(network)

    monkeypatch.setattr(step, "dropout_off", spy)
    monkeypatch.setattr(categorical_step, "dropout_off", spy)
    pyaae.train(**SMALL, epochs=1, encoder_dropout=0.2)
    assert seen and all(isinstance(n, torch.nn.Module) for n in seen)
    count = len(seen)
    result = pyaae.train(**SEMI, epochs=1, encoder_dropout=0.2)
    assert len(seen) > count and seen[-1] is result.model.trunk
