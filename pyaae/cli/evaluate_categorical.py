"""'eval classification' and 'eval clustering': the MNIST test error of a trained categorical AAE,
as in the paper's Tables 2 and 3. Classification: argmax_y q(y|x) against the test labels.
Clustering: each cluster labelled on the validation split (the paper's rule: the label of the
validation image with the highest q(y=k|x); and by majority vote), then the test error, with what
each cluster holds."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict

from .._atomic import write_atomically
from ..data import load_mnist
from ..eval import classification_error, cluster_composition, cluster_labels_by_rule, errors_from_composition
from ..models import CategoricalAAE, load_model


def add_parsers(kinds: argparse._SubParsersAction) -> None:
    """The 'classification' and 'clustering' evaluations and their options."""
    for name, what, handler in (("classification", "classification error of a semi-supervised model", _classification),
                                ("clustering", "clustering error of a clustering (or any categorical) model",
                                 _clustering)):
        p = kinds.add_parser(name, help=f"MNIST test {what}", description=__doc__)
        p.add_argument("--model", type=Path, required=True, help="model.safetensors written by 'train'")
        p.add_argument("--data-dir", help="MNIST folder (default: $PYAAE_DATA_DIR or the user cache)")
        p.add_argument("--no-download", dest="download", action="store_false", help="never fetch MNIST")
        p.add_argument("--device", default="cpu")
        p.add_argument("--out", type=Path, help="also write the result as JSON here")
        p.set_defaults(evaluate=handler)


def _load(args: argparse.Namespace) -> CategoricalAAE:
    model = load_model(args.model, map_location=args.device)
    if not isinstance(model, CategoricalAAE):
        raise ValueError(f"--model {args.model} holds a {type(model).__name__}; 'eval {args.evaluation}' needs a "
                         f"categorical model (variant semi_supervised, clustering or dim_reduction)")
    return model.eval()


def _classification(args: argparse.Namespace) -> None:
    model = _load(args)
    if model.config["num_labels"] is None:
        raise ValueError(f"--model {args.model} is an unlabelled {model.config['variant']!r} model: its categories "
                         f"are clusters, not classes; use 'eval clustering'")
    test, test_labels = load_mnist(args.data_dir, "test", download=args.download)
    error = classification_error(model, test, test_labels)
    print(f"classification error on {len(test)} MNIST test images: {100 * error:.2f}%")
    _write(args, {"classification_error": error, "num_test": len(test), "model": str(args.model)})


def _clustering(args: argparse.Namespace) -> None:
    model = _load(args)
    valid, valid_labels = load_mnist(args.data_dir, "validation", download=args.download)
    test, test_labels = load_mnist(args.data_dir, "test", download=args.download)
    counts = cluster_composition(model, test, test_labels)
    mappings = cluster_labels_by_rule(model, valid, valid_labels)
    errors = errors_from_composition(counts, mappings)
    print(f"clustering error on {len(test)} MNIST test images ({len(counts)} clusters labelled on {len(valid)} "
          f"validation images): {100 * errors['paper']:.2f}% by the paper's rule, {100 * errors['majority']:.2f}% "
          f"by majority vote")
    print("cluster  test images  label (paper's rule)  label (majority)  test purity")
    table = []
    for k, row in enumerate(counts.tolist()):
        size = sum(row)
        purity = max(row) / size if size else None
        table.append({"cluster": k, "test_images": size, "label_paper": int(mappings["paper"][k]),
                      "label_majority": int(mappings["majority"][k]), "test_purity": purity,
                      "test_label_counts": row})
        print(f"{k:7d}  {size:11d}  {table[-1]['label_paper']:20d}  {table[-1]['label_majority']:16d}  "
              f"{'-' if purity is None else f'{100 * purity:.1f}%':>11}")
    _write(args, {"clustering_error": errors, "num_valid": len(valid), "num_test": len(test), "clusters": table,
                  "model": str(args.model)})


def _write(args: argparse.Namespace, summary: Dict[str, Any]) -> None:
    if args.out is not None:
        write_atomically(args.out, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2)))
        print(f"wrote {args.out}")
