"""Shared driver of the reproduction scripts: train epoch by epoch from the run's checkpoint until the
paper's epoch count or the time budget is reached (so a run resumes where the last one stopped),
then evaluate and write result.json (with the per-epoch history, which outlives the checkpoint of a
machine that is given back) beside the checkpoint. The test set is read once, when the run has
reached its --epochs; an unfinished run is evaluated on the validation split only, and each such
evaluation is kept in result.json's "validation" list (the record that settings and epochs are
chosen on)."""
from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch

import pyaae
from pyaae._atomic import write_atomically


def parser(description: str, epochs: int) -> argparse.ArgumentParser:
    """The options every script takes."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", help="MNIST folder (default: $PYAAE_DATA_DIR or the user cache)")
    p.add_argument("--budget", type=float, default=60.0, help="minutes of training in this invocation")
    p.add_argument("--epochs", type=int, default=epochs, help="the run's total epochs (the paper's by default)")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoint, model, result.json")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0,
                   help="initialization, shuffling, labelled subset and noise (runs of one setting differ by seed)")
    return p


def run(args: argparse.Namespace, config: pyaae.TrainConfig, evaluate: Callable[[torch.nn.Module, bool], Dict],
        paper: Dict) -> Dict:
    """Train under ``config`` within args.budget minutes (resuming), evaluate (``evaluate(model, finished)``:
    the test set only when finished), write and print the result."""
    path = args.out / "result.json"
    # Read first: a file it cannot read stops the run before training.
    earlier, validations = _earlier_record(path)
    config = config.replace(data_dir=args.data_dir, checkpoint_dir=str(args.out), resume=True, device=args.device,
                            progress=False, download=True, epochs=args.epochs, max_minutes=args.budget,
                            seed=args.seed)
    done = pyaae.train(config)
    # With a weight average, it is the model that is evaluated (model_last.safetensors: the last weights).
    model = done.averaged_model or done.model
    model.save(args.out / "model.safetensors")
    if done.averaged_model is not None:
        done.model.save(args.out / "model_last.safetensors")
    history = done.history
    invocation = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                  "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads, "
                             f"device {args.device}".replace("  ", " "),
                  "epochs_after": len(history),
                  "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    finished = len(history) >= args.epochs
    scores = evaluate(model.eval(), finished)
    if not finished:
        validations = [v for v in validations if v["epoch"] != len(history)] + [{"epoch": len(history), **scores}]
    result = {"paper": paper, "pyaae": scores if finished else None, "finished": finished,
              "validation": validations, "epochs": len(history),
              "paper_epochs": args.epochs, "seed": args.seed,
              "train_seconds": round(sum(h["seconds"] for h in history), 1),
              "machine": invocation["machine"], "versions": {"pyaae": pyaae.__version__, "torch": torch.__version__},
              "command": invocation["command"], "recipe": config.to_json(),
              "invocations": [*earlier, invocation],
              "history": history}
    write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
    print(json.dumps(result, indent=2))
    return result


def _earlier_record(path: Path) -> Tuple[List[Dict], List[Dict]]:
    """The invocations and validation evaluations recorded in an earlier result.json of the run (a
    resumed run keeps them all; a file from before invocations were recorded contributes its one
    command, one from before validations were recorded none)."""
    if not path.is_file():
        return [], []
    try:
        earlier = json.loads(path.read_text())
        if "invocations" in earlier:
            invocations = list(earlier["invocations"])
        else:
            invocations = [{"command": earlier["command"], "machine": earlier["machine"],
                            "epochs_after": earlier["epochs"]}]
        return invocations, list(earlier.get("validation", []))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a result.json of this driver ({type(error).__name__}: {error}); move it "
                         f"aside to resume the run with a fresh record") from error
