"""Train an adversarial autoencoder and write, to --out: the training checkpoint (for --resume), the
model (model.safetensors), the history (history.json, history.csv), config.json and plots/ (codes of
held-out images over the prior, samples, manifold walk, reconstructions, loss curves). Defaults are
the paper's MNIST settings (gradients clipped at norm 100); MNIST is downloaded (checksums verified)
unless --no-download."""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Optional

from .._atomic import write_atomically
from .._process_group import process_group_from_environment, rank_and_world
from ..eval import classification_error, clustering_error
from ..models import CATEGORICAL_VARIANTS, VARIANTS
from ..models.checkpoint import read_checkpoint_header
from ..training import TrainConfig, TrainResult, train
from ..training.state import checkpoint_path
from ..priors import PRIOR_NAMES
from ..training.config import OPTIMIZERS, RECONSTRUCTION_LOSSES
from ..training.data import heldout_data
from ..training.labelled import LABELLED_SELECTIONS

HELP = "train an AAE (the paper's MNIST settings by default); writes checkpoints, history, plots"


def _float_or_none(text: str) -> Optional[float]:
    """A number, or 'none' for None (an option whose default is a number but which can be turned off)."""
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def _scale(text: str):
    """A number, or 'prior' (the gaussian prior's std) for --encoder-noise-scale."""
    if text.strip().lower() == "prior":
        return "prior"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'prior', got {text!r}") from None


# (TrainConfig field, argparse keywords). Flags for booleans are added separately.
OPTIONS = (
    ("variant", dict(choices=VARIANTS + CATEGORICAL_VARIANTS)),
    ("dataset", dict(choices=("mnist", "blobs"))),
    ("data_dir", dict(help="MNIST folder (default: $PYAAE_DATA_DIR or the user cache)")),
    ("train_size", dict(type=int, help="use the first N training examples")),
    ("prior", dict(choices=PRIOR_NAMES)),
    ("prior_std", dict(type=float, help="std of the gaussian prior")),
    ("latent_dim", dict(type=int, help="code dimension (default: the prior's)")),
    ("encoder", dict(choices=("deterministic", "gaussian", "universal"))),
    ("hidden", dict(type=int, nargs="+", help="hidden layer sizes")),
    ("encoder_dropout", dict(type=float, help="dropout probability on the encoder's hidden layers")),
    ("decoder_dropout", dict(type=float, help="dropout probability on the decoder's hidden layers")),
    ("discriminator_dropout", dict(type=float, help="dropout probability on the discriminators' hidden layers")),
    ("hidden_noise", dict(type=float, help="std of noise on the encoder's hidden layers' outputs")),
    ("encoder_noise_scale", dict(type=_scale, help="gaussian encoder: z = mu + scale * exp(logvar / 2) * eps; "
                                                   "'prior' for the prior's std")),
    ("reconstruction_loss", dict(choices=RECONSTRUCTION_LOSSES)),
    ("optimizer", dict(choices=OPTIMIZERS)),
    ("adam_betas", dict(type=float, nargs=2, metavar=("BETA1", "BETA2"))),
    ("lr_reconstruction", dict(type=float, help="default: 0.01 with sgd, 1e-3 with adam")),
    ("momentum_reconstruction", dict(type=float)),
    ("lr_regularization", dict(type=float, help="default: 0.1 with sgd, 1e-3 with adam")),
    ("momentum_regularization", dict(type=float)),
    ("lr_classification", dict(type=float, help="labelled categorical variants: default 0.01 with sgd, 1e-3 "
                                                "with adam")),
    ("num_categories", dict(type=int, help="categorical variants: default 10 (semi_supervised and labelled "
                                           "dim_reduction), 16 (clustering), 20 (unsupervised dim_reduction)")),
    ("input_noise", dict(type=float, help="std of noise on the encoder input (default 0.3 for the categorical "
                                          "variants, else 0)")),
    ("discriminator_noise", dict(type=float, help="std of noise on every discriminator input (default 0.3 for "
                                                  "semi_supervised, else 0)")),
    ("category_balance", dict(type=float, help="categorical variants: weight of KL(minibatch mean of q(y|x) || "
                                               "category prior) for the encoder (0: the paper's recipe)")),
    ("style_regularization_weight", dict(type=float, help="categorical variants: weight of fooling the style "
                                                          "discriminator (1: the paper's recipe)")),
    ("head_margin", dict(type=float, help="dim_reduction: cluster heads closer than this are pushed apart "
                                          "(default: 6 style stds)")),
    ("lr_decay_epochs", dict(type=int, nargs="*", help="epochs at which every rate is multiplied by the factor")),
    ("lr_decay_factor", dict(type=float)),
    ("max_grad_norm", dict(type=_float_or_none, help="scale each phase's gradient down to this L2 norm where "
                                                    "longer ('none': never, as in the paper)")),
    ("ema_decay", dict(type=_float_or_none, help="keep an exponential moving average of the weights with this "
                                                 "decay; model.safetensors then holds it, model_last.safetensors "
                                                 "the last weights")),
    ("classification_every", dict(type=int, help="labelled categorical variants: classify on every k-th "
                                                 "minibatch")),
    ("epochs", dict(type=int)),
    ("batch_size", dict(type=int)),
    ("num_labeled", dict(type=int, help="labelled variants: keep the labels of N examples only")),
    ("labeled_selection", dict(choices=LABELLED_SELECTIONS, help="which N: as many of each class, drawn by the "
                                                                "seed (the paper's protocol), or the first N")),
    ("init_std", dict(type=float, help="weights from N(0, init_std^2)")),
    ("seed", dict(type=int)),
    ("device", dict(help="cpu, cuda or cuda:N")),
    ("backend", dict(choices=("auto", "kernels", "reference", "emu"))),
    ("max_minutes", dict(type=float, help="stop after the first epoch ending past this many minutes "
                                          "(--resume continues)")),
)


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    """--dist-timeout, for runs under torchrun."""
    parser.add_argument("--dist-timeout", type=float, default=600.0, metavar="SECONDS",
                        help="under torchrun: how long a rank waits for the others before it fails (default 600)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, defaults from TrainConfig."""
    defaults = TrainConfig()
    for name, kwargs in OPTIONS:
        default = getattr(defaults, name)
        parser.add_argument("--" + name.replace("_", "-"), dest=name,
                            default=list(default) if isinstance(default, tuple) else default, **kwargs)
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="start afresh in an --out that holds a run, "
                                                                 "replacing it")
    parser.add_argument("--no-download", dest="download", action="store_false", help="never fetch MNIST")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.add_argument("--no-plots", dest="plots", action="store_false", help="skip the plots")
    add_timeout_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Train with the options, then write the model, history and plots to --out. Under torchrun
    (several processes) the ranks train together and rank 0 alone writes and reports."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {k: v for k, v in vars(args).items() if k in fields}
    with process_group_from_environment(args.device, args.dist_timeout) as device:
        config = TrainConfig(**dict(settings, device=device), checkpoint_dir=str(args.out))
        config.validate()
        done = _prepare_out(args) if rank_and_world()[0] == 0 else None
        result = train(config)
        if rank_and_world()[0] == 0:
            if done is not None and done >= config.epochs:
                print(f"--resume: the run in {args.out} has already trained {done} epochs (--epochs "
                      f"{config.epochs}); nothing to train, its outputs are written again")
            _write_outputs(args, config, result)
    return 0


def _prepare_out(args: argparse.Namespace) -> Optional[int]:
    """Check --out before any data is read: a folder that can be written, and never a finished run
    replaced by accident. Returns the epochs the checkpoint holds when resuming (None otherwise)."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    probe = out / ".pyaae-write-check"
    probe.write_bytes(b"")  # an unwritable folder fails here, not after the first epoch
    probe.unlink()
    checkpoint = checkpoint_path(TrainConfig(checkpoint_dir=str(out)))
    held = [name for name in ("checkpoint.safetensors", "model.safetensors") if (out / name).exists()]
    if args.resume:
        if not checkpoint.exists():
            print(f"--resume: {out} holds no checkpoint; starting a new run there")
            return None
        _, description = read_checkpoint_header(checkpoint)
        return int(description.get("epoch", 0))
    if held and not args.overwrite:
        raise ValueError(f"--out {out} already holds a run ({', '.join(held)}): pass --resume to continue it, "
                         "--overwrite to replace it, or choose another --out")
    if args.overwrite and checkpoint.exists():
        checkpoint.unlink()  # the new run must not resume the old one's state
    return None


def _write_outputs(args: argparse.Namespace, config: TrainConfig, result: TrainResult) -> None:
    out: Path = args.out
    result.model.save(out / ("model.safetensors" if result.averaged_model is None else "model_last.safetensors"))
    if result.averaged_model is not None:
        result.averaged_model.save(out / "model.safetensors")
    _write_text(out / "config.json", json.dumps(config.to_json(), indent=2))
    _write_text(out / "history.json", json.dumps(result.history, indent=2))
    _write_text(out / "history.csv", _csv(result.history))
    written = ["checkpoint.safetensors", "model.safetensors", "config.json", "history.json", "history.csv"]
    if result.averaged_model is not None:
        written.insert(2, "model_last.safetensors")
    heldout = heldout_data(config)
    if args.plots and heldout is not None:
        from ..viz import save_plots

        paths = save_plots(result.averaged_model or result.model, out / "plots", *heldout, result.history)
        written += [str(p.relative_to(out)) for p in paths.values()]
    if heldout is not None and config.variant in CATEGORICAL_VARIANTS:
        print(_validation_error(result.averaged_model or result.model, *heldout))
    last = result.history[-1] if result.history else {}
    summary = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k != "epoch")
    print(f"trained {len(result.history)} epochs ({summary})")
    print(f"wrote to {out}: {', '.join(written)}")


def _validation_error(model, images, labels) -> str:
    """The categorical variants' error on held-out data (clustering: clusters labelled on one half,
    the paper's rule, error on the other)."""
    if model.config["labelled"]:
        return f"validation classification error: {classification_error(model, images, labels):.4f}"
    half = len(images) // 2
    error = clustering_error(model, images[:half], labels[:half], images[half:], labels[half:])
    return f"validation clustering error (paper's rule): {error:.4f}"


def _csv(history: list) -> str:
    if not history:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))
