"""Paper Table 1: Parzen-window log-likelihood of the MNIST test set under 10,000 samples of the AAE
(8-D Gaussian prior, std 5). Paper: 340 +- 2.

Recipes (--recipe; dropout by default: it raised the test estimate from 304 to 331-334 on two seeds, see
docs/lab-notebook.md):
- paper: the paper's settings (SGD), plus every phase's gradient clipped to norm 100, which the
  paper does not mention. Its reconstruction gradients have norm 5-50; without the clip the paper's
  rates blew up in the first epoch for seeds 0, 2 and 7 of 0-7 on the CPU.
- dropout: the elements of public code that reaches the paper's number (keil555/AAE_paddle): dropout
  0.2 on every hidden layer of the three networks (the encoder's off for the discriminator's codes),
  1200-unit layers, a gaussian encoder whose noise is scaled by the prior's std, Adam (beta1 0.9) at
  2e-4 for reconstruction and 1e-4 for regularization, no rate schedule.

The bandwidth is chosen on the validation split; the test set is read once, when the run reaches
--epochs (an unfinished run reports the validation estimate only)."""
import sys

import torch
from _runner import parser, run

import pyaae
from pyaae.data import load_mnist
from pyaae.eval.parzen import model_samples

RECIPES = {
    "paper": pyaae.TrainConfig(max_grad_norm=100.0),
    "dropout": pyaae.TrainConfig(hidden=(1200, 1200), encoder="gaussian", encoder_noise_scale="prior",
                                 encoder_dropout=0.2, decoder_dropout=0.2, discriminator_dropout=0.2,
                                 optimizer="adam", adam_betas=(0.9, 0.999), lr_reconstruction=2e-4,
                                 lr_regularization=1e-4, lr_decay_epochs=()),
}


def main() -> None:
    p = parser(__doc__, epochs=1500)
    p.add_argument("--recipe", choices=sorted(RECIPES), default="dropout")
    args = p.parse_args()

    def evaluate(model, finished):
        valid, _ = load_mnist(args.data_dir, "validation")
        if not finished:
            samples = model_samples(model, 10000)
            sigmas = torch.logspace(-1, 0, 10)
            scores = pyaae.ops.parzen_log_likelihood(valid, samples, sigmas).double().mean(0)
            best = int(scores.argmax())
            return {"validation_log_likelihood": round(float(scores[best]), 1), "sigma": float(sigmas[best])}
        test, _ = load_mnist(args.data_dir, "test")
        r = pyaae.eval.parzen_model(model, valid, test, num_samples=10000, progress=False)
        return {"log_likelihood": round(r.mean, 1), "stderr": round(r.stderr, 1), "sigma": r.sigma,
                "validation_log_likelihood": round(float(r.validation.max()), 1)}

    run(args, RECIPES[args.recipe], evaluate, {"log_likelihood": 340, "stderr": 2, "recipe": args.recipe})


if __name__ == "__main__":
    sys.exit(main())
