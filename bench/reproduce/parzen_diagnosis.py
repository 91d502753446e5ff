"""How much of a Parzen estimate is the estimator's taste for smooth images (issue: close the paper's
gaps by experiment, item 1). The Parzen-window estimate at the bandwidths the protocol picks (~0.17) is
a soft nearest-sample squared distance, so blurrier sample sets can score higher than sharp ones.
This scores, on the validation split only (bandwidth chosen there too; the test set is not read):

- the model's samples decoded at logit temperature T = 1, 1.5, 2, 3 (sigmoid(logit / T): greyer);
- the T = 1 samples blurred by a Gaussian of 0.5 and 1 pixel;
- k-means centroids of the training images (as many as samples; a few Lloyd steps from random images);
- real training images (as many as samples).

Run: python parzen_diagnosis.py --model RUN/model.safetensors --out RUN/parzen_diagnosis.json"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict

import torch
import torch.nn.functional as F

import pyaae
from pyaae.data import load_mnist
from pyaae.models import load_model

SIGMAS = torch.logspace(-1, 0, 10)
TEMPERATURES = (1.0, 1.5, 2.0, 3.0)
BLURS = (0.5, 1.0)


def validation_score(samples: torch.Tensor, valid: torch.Tensor) -> Dict[str, float]:
    """Mean validation log-likelihood at the best bandwidth of the protocol's grid, and that bandwidth."""
    scores = pyaae.ops.parzen_log_likelihood(valid, samples.float(), SIGMAS).double().mean(0)
    best = int(scores.argmax())
    return {"validation_log_likelihood": round(float(scores[best]), 1), "sigma": round(float(SIGMAS[best]), 4)}


@torch.no_grad()
def decoder_logits(model: torch.nn.Module, n: int, seed: int) -> torch.Tensor:
    """The decoder's output logits (before its sigmoid) for n prior samples."""
    z = model.prior.sample(n, seed=seed)
    layers = list(model.decoder)
    return pyaae.ops.fused_mlp(z, [m.weight for m in layers], [m.bias for m in layers],
                               [m.activation for m in layers[:-1]] + ["identity"], model.decoder.negative_slope)


def blur(images: torch.Tensor, pixels: float) -> torch.Tensor:
    """28 x 28 images blurred by a Gaussian of std ``pixels``."""
    radius = int(3 * pixels + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (t / pixels) ** 2)
    kernel = kernel / kernel.sum()
    x = images.reshape(-1, 1, 28, 28)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
    return x.reshape(len(images), -1)


def kmeans_centroids(x: torch.Tensor, k: int, steps: int, seed: int) -> torch.Tensor:
    """k centroids after ``steps`` Lloyd iterations started from k random rows of x."""
    g = torch.Generator().manual_seed(seed)
    centroids = x[torch.randperm(len(x), generator=g)[:k]].clone()
    for _ in range(steps):
        # Squared distances by the GEMM form, in chunks of rows.
        norms = centroids.square().sum(1)
        nearest = torch.cat([(norms - 2 * chunk @ centroids.t()).argmin(1) for chunk in x.split(5000)])
        sums = torch.zeros_like(centroids).index_add_(0, nearest, x)
        counts = torch.bincount(nearest, minlength=k).unsqueeze(1)
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
    return centroids


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data-dir")
    p.add_argument("--num-samples", type=int, default=10000)
    p.add_argument("--kmeans-steps", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    model = load_model(args.model).eval()
    valid, _ = load_mnist(args.data_dir, "validation")
    train, _ = load_mnist(args.data_dir, "train")
    logits = decoder_logits(model, args.num_samples, args.seed)
    result: Dict[str, Dict[str, float]] = {}
    for t in TEMPERATURES:
        result[f"samples_T{t:g}"] = validation_score(torch.sigmoid(logits / t), valid)
    for pixels in BLURS:
        result[f"samples_blur{pixels:g}px"] = validation_score(blur(torch.sigmoid(logits), pixels), valid)
    result["kmeans_centroids"] = validation_score(
        kmeans_centroids(train, args.num_samples, args.kmeans_steps, args.seed), valid)
    g = torch.Generator().manual_seed(args.seed)
    result["training_images"] = validation_score(train[torch.randperm(len(train), generator=g)[:args.num_samples]],
                                                 valid)
    report = {"model": str(args.model), "num_samples": args.num_samples, "scores": result}
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
