"""AAE models: the three encoders, the three variants' wiring, and checkpoints that are atomic,
round-trip exactly, and load without unpickling."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

import pyaae
from pyaae.models import AAE, load_checkpoint, save_checkpoint

LABELS = torch.tensor([0, 1, 2, 3, -1])


def _model(variant: str = "unsupervised", encoder: str = "deterministic", **kw) -> AAE:
    prior = pyaae.priors.GaussianMixture.paper_preset() if variant == "label_regularized" else pyaae.priors.Gaussian(8, std=5.0)
    return AAE(prior, variant=variant, encoder=encoder, hidden=(32, 16), num_labels=None if variant == "unsupervised"
               else 10, **kw)


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian", "universal"])
def test_encoders(encoder: str) -> None:
    torch.manual_seed(0)
    model = _model(encoder=encoder, init_std=0.1)
    x = torch.rand(6, 784)
    z1, z2 = model.encode(x), model.encode(x)
    assert z1.shape == (6, 8)
    # Deterministic: the same codes; Gaussian and universal: fresh noise while training.
    assert torch.equal(z1, z2) == (encoder == "deterministic")
    model.eval()
    assert torch.equal(model.encode(x), model.encode(x)) == (encoder != "universal")


def test_wiring_of_the_variants() -> None:
    x = torch.rand(5, 784)
    unsupervised = _model()
    assert unsupervised.discriminator[0].in_features == 8 and unsupervised.decoder[0].in_features == 8
    regularized = _model("label_regularized")
    assert regularized.discriminator[0].in_features == 2 + 11  # one-hot with an "unlabeled" slot
    assert regularized.discriminate(regularized.encode(x), LABELS).shape == (5, 1)
    supervised = _model("supervised")
    assert supervised.decoder[0].in_features == 8 + 10
    assert supervised.reconstruct(x, LABELS.clamp(min=0)).shape == (5, 784)


def test_paper_initialization() -> None:
    model = AAE(pyaae.priors.Gaussian(8, std=5.0))  # the paper's 784-1000-1000-8 networks
    weights = torch.cat([p.flatten() for n, p in model.named_parameters() if n.endswith("weight")])
    assert abs(weights.std().item() - 0.01) < 2e-4
    assert all(torch.count_nonzero(p) == 0 for n, p in model.named_parameters() if n.endswith("bias"))


def test_sampling_through_the_decoder() -> None:
    model = _model("label_regularized")
    images = model.sample(7, labels=torch.tensor([0, 1, 2, 3, 4, 5, -1]), seed=3)
    assert images.shape == (7, 784) and ((images >= 0) & (images <= 1)).all()
    assert torch.equal(images, model.sample(7, labels=torch.tensor([0, 1, 2, 3, 4, 5, -1]), seed=3))
    assert _model("supervised").sample(4, seed=1).shape == (4, 784)


def test_bad_configuration() -> None:
    prior = pyaae.priors.Gaussian(8)
    with pytest.raises(ValueError, match="variant must be one of"):
        AAE(prior, variant="semi")
    with pytest.raises(ValueError, match="encoder must be one of"):
        AAE(prior, encoder="vae")
    with pytest.raises(ValueError, match="latent_dim 4 does not match the prior's dimension 8"):
        AAE(prior, latent_dim=4)
    with pytest.raises(ValueError, match="needs num_labels"):
        AAE(prior, variant="supervised")
    with pytest.raises(ValueError, match="the prior has 10 components/segments but num_labels is 5"):
        AAE(pyaae.priors.GaussianMixture.paper_preset(), variant="label_regularized", num_labels=5)
    with pytest.raises(ValueError, match="needs labels"):
        _model("supervised").reconstruct(torch.rand(2, 784))
    with pytest.raises(ValueError, match=r"labels must lie in \[-1, 10\)"):
        _model("label_regularized").discriminate(torch.zeros(2, 2), torch.tensor([0, 10]))


@pytest.mark.parametrize("variant,encoder", [("unsupervised", "gaussian"), ("label_regularized", "universal"),
                                             ("supervised", "deterministic")])
def test_checkpoint_round_trip(tmp_path: Path, variant: str, encoder: str) -> None:
    model = _model(variant, encoder, init_std=0.05)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = AAE.load(path)
    assert loaded.config == model.config and type(loaded.prior) is type(model.prior)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    model.eval(), loaded.eval()
    x = torch.rand(3, 784)
    labels = torch.tensor([1, 2, 3]) if variant == "supervised" else None
    if encoder != "universal":
        torch.testing.assert_close(model.reconstruct(x, labels), loaded.reconstruct(x, labels), rtol=0, atol=0)


def test_checkpoint_is_safetensors_with_json(tmp_path: Path) -> None:
    """The file is safetensors (8-byte header length, JSON header): nothing to unpickle."""
    path = tmp_path / "m.safetensors"
    _model().save(path)
    with open(path, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    description = json.loads(header["__metadata__"]["pyaae"])
    assert description["model"] == "AAE" and description["prior"]["kind"] == "gaussian"


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails midway leaves the previous file intact and no temporary file behind."""
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, {"w": torch.ones(3)}, {"step": 1})
    import pyaae.models.checkpoint as checkpoint

    def failing_save(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_file", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"w": torch.zeros(3)}, {"step": 2})
    tensors, description = load_checkpoint(path)
    assert torch.equal(tensors["w"], torch.ones(3)) and description == {"step": 1}
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_loading_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x80\x04\x95not a checkpoint")  # e.g. a pickle
    with pytest.raises(ValueError, match="is not a pyaae checkpoint"):
        AAE.load(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        AAE.load(tmp_path / "missing.safetensors")


def test_user_defined_prior_is_passed_again_when_loading(tmp_path: Path) -> None:
    prior = pyaae.priors.CallablePrior(lambda n, g: torch.randn(n, 8, generator=g), 8)
    with pytest.raises(ValueError, match="cannot be saved"):
        AAE(prior, hidden=(16,)).save(tmp_path / "m.safetensors")
    _model().save(tmp_path / "gaussian.safetensors")
    loaded = AAE.load(tmp_path / "gaussian.safetensors", prior=prior)
    assert loaded.prior is prior and loaded.sample(2, seed=0).shape == (2, 784)


def _rewrite_header(path: Path, edit) -> None:
    """Apply ``edit`` to the file's safetensors header (the JSON object) and write it back, the
    tensors' bytes unchanged: a forged or damaged header, as a hostile or broken file would hold."""
    blob = path.read_bytes()
    length = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + length])
    edit(header)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + blob[8 + length:])


def _edit_description(edit):
    def edit_header(header: dict) -> None:
        description = json.loads(header["__metadata__"]["pyaae"])
        edit(description)
        header["__metadata__"]["pyaae"] = json.dumps(description)
    return edit_header


@pytest.fixture
def no_real_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails a load that initializes a real (not meta) weight: the header must be refused first."""
    normal = torch.nn.init.normal_

    def guarded(tensor, *args, **kwargs):
        assert tensor.is_meta, "a weight was allocated before the file's header was checked"
        return normal(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.nn.init, "normal_", guarded)


def test_a_tensor_of_another_dtype_is_refused(tmp_path: Path) -> None:
    """An I32 header over F32 bytes (the same size) loaded silently: weights near 1e9."""
    path = tmp_path / "m.safetensors"
    _model().save(path)
    _rewrite_header(path, lambda h: h["encoder.net.0.weight"].update(dtype="I32"))
    with pytest.raises(ValueError, match=r"tensor 'encoder.net.0.weight' is I32 \[32, 784\] but the model needs "
                                         r"F32 \[32, 784\]"):
        pyaae.models.load_model(path)


@pytest.mark.parametrize("hidden, match", [
    ([3000000, 16], r"tensor 'encoder.net.0.weight' is F32 \[32, 784\] but the model needs F32 \[3000000, 784\]"),
    ([100000000, 16], r"hidden = \[100000000, 16\] in the header is outside \[0, 16777216\]"),
    ([16] * 1000, "1000 hidden layers in the header, but the file holds"),
])
def test_header_sizes_are_checked_before_anything_is_allocated(tmp_path: Path, no_real_weights, hidden,
                                                               match) -> None:
    """hidden=[3000000] in a 2.4 KB file's header allocated 351 MiB before any shape was compared."""
    path = tmp_path / "m.safetensors"
    with torch.device("meta"):  # the fixture allows only meta weights
        model = _model()
    model.to_empty(device="cpu").save(path)
    _rewrite_header(path, _edit_description(lambda d: d["config"].update(hidden=hidden)))
    with pytest.raises(ValueError, match=match):
        AAE.load(path)


def test_a_prior_size_in_the_header_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    _model().save(path)
    _rewrite_header(path, _edit_description(lambda d: d["prior"].update(dim=10**9)))
    with pytest.raises(ValueError, match=r"dim = 1000000000 in the header is outside"):
        AAE.load(path)


@pytest.mark.parametrize("content, match", [
    (b"\xff" * 8, "its first 8 bytes give a header of 18446744073709551615 bytes, but the file holds 0"),
    (b"\x12\x00\x00\x00\x00\x00\x00\x00[1, 2, 3, 4, 5, 6]", "its header is not a JSON object"),
    (b"", "its first 8 bytes give a header of 0 bytes"),
])
def test_a_garbage_header_is_a_clear_error(tmp_path: Path, content: bytes, match: str) -> None:
    """An 8-byte garbage file was a MemoryError: the header length was read unbounded."""
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"is not a pyaae checkpoint .*{match}"):
        pyaae.models.load_model(path)


def test_a_training_checkpoint_is_not_a_model(tmp_path: Path) -> None:
    """A training checkpoint given as a model was "unhashable type: 'dict'"."""
    model = _model()
    save_checkpoint(tmp_path / "checkpoint.safetensors", {f"model.{k}": v for k, v in model.state_dict().items()},
                    {"kind": "training_state", "epoch": 1, "model": {"config": model.config}})
    for load in (pyaae.models.load_model, AAE.load):
        with pytest.raises(ValueError, match="is a training checkpoint .* load the model.safetensors"):
            load(tmp_path / "checkpoint.safetensors")


def test_a_model_file_from_before_dropout_loads(tmp_path: Path) -> None:
    """Files written before the dropout and encoder_noise_scale settings existed lack them."""
    path = tmp_path / "m.safetensors"
    model = _model(encoder="gaussian")
    model.save(path)
    _rewrite_header(path, _edit_description(lambda d: [d["config"].pop(k) for k in ("dropout",
                                                                                     "encoder_noise_scale")]))
    loaded = pyaae.models.load_model(path)
    assert loaded.config == model.config
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name


def test_load_checkpoint_checks_expected_tensors(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, {"w": torch.ones(2, 3), "step": torch.tensor(4)}, {"kind": "test"})
    tensors, _ = load_checkpoint(path, expected={"w": torch.empty(2, 3, device="meta")})
    assert torch.equal(tensors["w"], torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"tensor 'w' is F32 \[2, 3\] but the model needs F64 \[2, 3\]"):
        load_checkpoint(path, expected={"w": torch.empty(2, 3, dtype=torch.float64)})
    with pytest.raises(ValueError, match="holds no tensor 'v'"):
        load_checkpoint(path, expected={"v": torch.empty(1)})
