"""Evaluate a trained model or a file of samples. 'parzen': the Parzen-window log-likelihood of the
MNIST test set the paper's way (Table 1): a Gaussian kernel density on 10,000 samples, its bandwidth
chosen on the validation split from a grid, the mean test log-likelihood reported with its standard
error. 'classification' and 'clustering': the test error of a categorical model (Tables 2 and 3)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from .._atomic import write_atomically
from .._process_group import process_group_from_environment, rank_and_world
from ..data import load_mnist
from ..eval import parzen
from ..eval.parzen import model_samples
from ..models import load_model
from .evaluate_categorical import add_parsers as add_categorical_parsers
from .train import add_timeout_argument

HELP = ("evaluate a model or samples on MNIST: 'eval parzen' (the paper's Parzen log-likelihood), "
        "'eval classification', 'eval clustering' (test error of a categorical model)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluations and their options."""
    kinds = parser.add_subparsers(dest="evaluation", metavar="EVALUATION", required=True)
    p = kinds.add_parser("parzen", help="Parzen-window log-likelihood of MNIST test images",
                         description=__doc__)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="model.safetensors written by 'train' (samples are drawn)")
    source.add_argument("--samples", type=Path,
                        help="samples [M, 784] in [0, 1]: .npy, or .safetensors with a tensor 'samples'")
    p.add_argument("--num-samples", type=int, default=10000, help="samples drawn from --model")
    p.add_argument("--data-dir", help="MNIST folder (default: $PYAAE_DATA_DIR or the user cache)")
    p.add_argument("--no-download", dest="download", action="store_false", help="never fetch MNIST")
    p.add_argument("--sigmas", type=float, nargs="+", help="bandwidth grid (default: 10 log-spaced in [0.1, 1])")
    p.add_argument("--num-valid", type=int, default=10000, help="validation images used to choose sigma")
    p.add_argument("--num-test", type=int, default=10000, help="test images evaluated")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples drawn from --model")
    p.add_argument("--backend", default="auto", choices=("auto", "kernels", "reference", "emu"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, help="also write the result as JSON here")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_timeout_argument(p)
    p.set_defaults(evaluate=_run_parzen)
    add_categorical_parsers(kinds)


def run(args: argparse.Namespace) -> int:
    """Run the chosen evaluation."""
    args.evaluate(args)
    return 0


def _run_parzen(args: argparse.Namespace) -> None:
    """Evaluate and print the result (and write --out). Under torchrun the ranks share the test
    points and rank 0 reports."""
    for name in ("num_samples", "num_valid", "num_test"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    with process_group_from_environment(args.device, args.dist_timeout) as device:
        args.device = device
        _evaluate(args, report=rank_and_world()[0] == 0)


def _evaluate(args: argparse.Namespace, report: bool) -> None:
    """Draw or read the samples, run the protocol, and (when ``report``) print and write the result."""
    samples = _samples(args).to(args.device)
    valid, _ = load_mnist(args.data_dir, "validation", download=args.download)
    test, _ = load_mnist(args.data_dir, "test", download=args.download)
    if samples.shape[1:] != valid.shape[1:]:
        raise ValueError(f"samples must be [M, {valid.shape[1]}] like MNIST images, got {tuple(samples.shape)}")
    result = parzen(samples, valid[:args.num_valid].to(args.device), test[:args.num_test].to(args.device),
                    args.sigmas, backend=args.backend, progress=args.progress)
    if not report:
        return
    summary = {"log_likelihood": result.mean, "stderr": result.stderr, "sigma": result.sigma,
               "sigmas": result.sigmas.tolist(), "validation": result.validation.tolist(),
               "num_samples": len(samples), "num_valid": min(args.num_valid, len(valid)),
               "num_test": min(args.num_test, len(test)),
               "source": str(args.model or args.samples)}
    print(f"Parzen log-likelihood of {summary['num_test']} MNIST test images: {result.mean:.1f} +- "
          f"{result.stderr:.1f} (sigma {result.sigma:.4g}, chosen on {summary['num_valid']} validation images, "
          f"{len(samples)} samples)")
    if args.out is not None:
        write_atomically(args.out, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2)))
        print(f"wrote {args.out}")


def _samples(args: argparse.Namespace) -> torch.Tensor:
    if args.model is not None:
        return model_samples(load_model(args.model, map_location=args.device), args.num_samples, args.seed)
    if not args.samples.is_file():
        raise FileNotFoundError(f"--samples {args.samples} not found")
    if args.samples.suffix == ".npy":
        samples = torch.from_numpy(np.load(args.samples, allow_pickle=False))
    elif args.samples.suffix == ".safetensors":
        tensors = load_file(str(args.samples))
        if "samples" not in tensors:
            raise ValueError(f"--samples {args.samples} holds no tensor named 'samples' (it has {sorted(tensors)})")
        samples = tensors["samples"]
    else:
        raise ValueError(f"--samples must be a .npy or .safetensors file, got {args.samples.name!r}")
    if not samples.is_floating_point():
        # Integer pixels (0-255, say) cast silently would be scored as images 255 times too bright.
        raise ValueError(f"--samples {args.samples} holds {samples.dtype} values: samples must be floating-point "
                         "pixels in [0, 1] (divide 8-bit pixels by 255)")
    return samples.float()
