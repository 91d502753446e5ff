"""bench/reproduce's shared driver: a run resumes from its checkpoint, and result.json keeps every
invocation that trained it (command, machine, epochs reached) beside the totals; the test set is read
(``finished``) only once the run reaches its epochs, and the validation scores of unfinished
invocations are kept."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

import pyaae

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench" / "reproduce"))
from _runner import run  # noqa: E402

CONFIG = pyaae.TrainConfig(variant="clustering", dataset="blobs", train_size=100, hidden=(8,), batch_size=50,
                           optimizer="adam")


def test_resumed_run_keeps_every_invocation(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    for epochs in (1, 3):
        monkeypatch.setattr(sys, "argv", ["clustering_mnist.py", "--epochs", str(epochs)])
        args = argparse.Namespace(data_dir=None, budget=60.0, epochs=epochs, out=out, device="cpu", seed=0)
        result = run(args, CONFIG, lambda model, finished: {"categories": model.config["num_categories"]},
                     {"value": 1.0})
    saved = json.loads((out / "result.json").read_text())
    assert saved == result
    assert saved["epochs"] == 3 and saved["pyaae"] == {"categories": 16} and saved["paper"] == {"value": 1.0}
    assert [i["epochs_after"] for i in saved["invocations"]] == [1, 3]
    assert [i["command"] for i in saved["invocations"]] == ["clustering_mnist.py --epochs 1",
                                                            "clustering_mnist.py --epochs 3"]
    assert saved["command"] == "clustering_mnist.py --epochs 3" and "device cpu" in saved["machine"]
    assert [h["epoch"] for h in saved["history"]] == [1, 2, 3] and "reconstruction" in saved["history"][0]
    assert (out / "model.safetensors").stat().st_size > 0


def test_a_result_from_before_invocations_is_carried_over(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "result.json").write_text(json.dumps({"command": "old.py --budget 5", "machine": "m", "epochs": 0}))
    monkeypatch.setattr(sys, "argv", ["clustering_mnist.py"])
    args = argparse.Namespace(data_dir=None, budget=60.0, epochs=1, out=out, device="cpu", seed=0)
    result = run(args, CONFIG, lambda model, finished: {}, {})
    assert result["invocations"][0] == {"command": "old.py --budget 5", "machine": "m", "epochs_after": 0}
    assert result["invocations"][1]["epochs_after"] == 1


@pytest.mark.parametrize("text", ["{not json", json.dumps({"command": "old.py"}), json.dumps([1, 2])])
def test_an_unreadable_result_stops_the_run_before_training(tmp_path, monkeypatch, text) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "result.json").write_text(text)
    monkeypatch.setattr(sys, "argv", ["clustering_mnist.py"])
    args = argparse.Namespace(data_dir=None, budget=60.0, epochs=1, out=out, device="cpu", seed=0)
    with pytest.raises(ValueError, match="result.json is not a result.json of this driver"):
        run(args, CONFIG, lambda model, finished: {}, {})
    assert [p.name for p in out.iterdir()] == ["result.json"] and (out / "result.json").read_text() == text


def test_an_unfinished_run_is_scored_on_validation_only_and_keeps_each_score(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    calls = []

    def evaluate(model, finished):
        calls.append(finished)
        return {"score": len(calls)}

    monkeypatch.setattr(sys, "argv", ["clustering_mnist.py"])
    for budget in (1e-6, 1e-6, 60.0):  # a budget past its end stops each invocation after one epoch
        args = argparse.Namespace(data_dir=None, budget=budget, epochs=3, out=out, device="cpu", seed=0)
        result = run(args, CONFIG, evaluate, {})
        if budget < 1:
            assert result["finished"] is False and result["pyaae"] is None
    assert calls == [False, False, True]
    assert result["finished"] is True and result["pyaae"] == {"score": 3}
    assert result["validation"] == [{"epoch": 1, "score": 1}, {"epoch": 2, "score": 2}]
    assert result["recipe"]["variant"] == "clustering"
