"""Draw samples from a trained model's prior through its decoder. The output's suffix picks the
format: .png (an image grid), .npy (float32 [n, features]) or .safetensors (tensor "samples", with
"labels" for labelled variants)."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from safetensors.torch import save_file

from .._atomic import write_atomically
from ..eval.parzen import balanced_labels, model_samples
from ..models import load_model

HELP = "decode prior samples of a trained model to a PNG grid, .npy or .safetensors"
FORMATS = (".png", ".npy", ".safetensors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --n, --seed, --out, --device."""
    parser.add_argument("--model", required=True, type=Path, help="model.safetensors written by 'train'")
    parser.add_argument("--n", type=int, default=100, help="number of samples (a .png shows at most 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path, help="output file: .png, .npy or .safetensors")
    parser.add_argument("--device", default="cpu")


def run(args: argparse.Namespace) -> int:
    """Load the model and write the samples."""
    suffix = args.out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out must end in one of {', '.join(FORMATS)}, got {args.out.name!r}")
    if args.n < 1:
        raise ValueError(f"--n must be a positive integer, got {args.n}")
    model = load_model(args.model, map_location=args.device).eval()
    if suffix == ".png":
        from ..viz import plot_samples

        side = max(1, min(20, int(args.n ** 0.5)))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        plot_samples(model, rows=side, cols=side, seed=args.seed, path=args.out)
    else:
        labels = balanced_labels(model, args.n)
        samples = model_samples(model, args.n, args.seed).cpu().contiguous()
        if suffix == ".npy":
            write_atomically(args.out, lambda tmp: np.save(open(tmp, "wb"), samples.numpy()))
        else:
            tensors = {"samples": samples}
            if labels is not None:
                tensors["labels"] = labels
            write_atomically(args.out, lambda tmp: save_file(tensors, tmp))
    print(f"wrote {args.out}")
    return 0

