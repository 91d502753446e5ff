"""Paper Table 2: semi-supervised classification error on the MNIST test set with 100, 1000 or all
labels. Paper: 1.90 +- 0.10 (100), 1.60 +- 0.08 (1000), 0.85 +- 0.02 (all) percent. pyaae's recipe:
Adam, noise 0.3 on the encoder's and the discriminators' inputs, 10 categories, 10-D style prior
N(0, I), and the classification phase's rate 1e-3 with 100 or 1000 labels, 3e-3 (the library's
default) with all."""
import sys

from _runner import parser, run

import pyaae
from pyaae.data import load_mnist
from pyaae.eval import classification_error

PAPER = {100: 1.90, 1000: 1.60, None: 0.85}
# With few labels the classification steps revisit each of them often (550 times an epoch with 100,
# 55 with 1000), and the library's default rate (3e-3) pulls the encoder toward them harder than
# helps. 100 labels, validation error after 6 epochs: 16.10 and 16.15 % on two seeds at 3e-3,
# against 15.0 % at 1e-3, 14.1 % at 3e-4, 29.4 % at 1e-2 and 42.9 % at 1e-4 (too slow to learn the
# labels); the test error of a full run at 1e-3 after 29 epochs was 5.57 %, where 3e-3 had 10.3 %
# after 32. 1000 labels, validation error after 2 / 4 / 6 epochs: 6.16 / 4.79 / 4.70 % at 1e-3
# against 6.56 / 7.23 / 8.99 % at 3e-3.
CLASSIFICATION_RATE = {100: 1e-3, 1000: 1e-3}


def main() -> None:
    p = parser(__doc__, epochs=1000)
    p.add_argument("--labels", default="1000", choices=("100", "1000", "all"))
    args = p.parse_args()
    labels = None if args.labels == "all" else int(args.labels)
    config = pyaae.TrainConfig(variant="semi_supervised", num_labeled=labels, latent_dim=10, prior_std=1.0,
                               optimizer="adam", lr_classification=CLASSIFICATION_RATE.get(labels))

    def evaluate(model):
        test, test_labels = load_mnist(args.data_dir, "test")
        return {"error_percent": round(100 * classification_error(model, test, test_labels), 2)}

    run(args, config, evaluate, {"error_percent": PAPER[labels], "labels": args.labels})


if __name__ == "__main__":
    sys.exit(main())
