"""Record what PyTorch's schedulers really do, for tests/test_plateau.py and lessons 03 and 08.

Run with a Python that has PyTorch (not a dependency of lrlab), from the repository root:

    /work/side/torch/bin/python tools/reference_torch_plateau.py

It writes ``lrlab/reference/torch_plateau.json`` (package data of lrlab, read through
``lrlab.reference.load_reference``; the file is replaced whole, never half-written) with

- ``plateau``: for each case, a metric sequence, the ``ReduceLROnPlateau`` arguments and
  ``get_last_lr()[0]`` after ``scheduler.step(metric)`` at the end of every epoch;
- ``step_lr``: ``StepLR`` stepped in the right and the wrong order around
  ``optimizer.step()``: the rate each epoch's ``optimizer.step()`` used, and what
  ``get_last_lr()`` and ``get_lr()`` report after each ``scheduler.step()``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

TARGET = Path(__file__).resolve().parents[1] / "lrlab" / "reference" / "torch_plateau.json"

# The hand-made validation-accuracy sequence of lesson 08 (12 epochs).
LESSON_ACCURACY = [0.40, 0.55, 0.63, 0.61, 0.66, 0.66, 0.65, 0.68, 0.67, 0.69, 0.69, 0.68]
# A validation loss that falls quickly, then creeps down by less than 1e-4 at a time.
CREEPING_LOSS = [2.0, 1.2, 0.9, 0.8999, 0.89985, 0.8998, 0.85, 0.85, 0.86, 0.8499, 0.84995, 0.7]

PLATEAU_CASES = [
    # name, metric values, initial rate, ReduceLROnPlateau keyword arguments
    ("lesson_patience1", LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 1}),
    ("lesson_patience0", LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 0}),
    ("lesson_cooldown1", LESSON_ACCURACY, 0.01,
     {"mode": "max", "factor": 0.5, "patience": 1, "cooldown": 1}),
    ("lesson_cooldown2_patience0", LESSON_ACCURACY, 0.01,
     {"mode": "max", "factor": 0.5, "patience": 0, "cooldown": 2}),
    ("lesson_min_lr", LESSON_ACCURACY, 0.01,
     {"mode": "max", "factor": 0.1, "patience": 0, "min_lr": 2e-4}),
    ("lesson_abs_threshold", LESSON_ACCURACY, 0.01,
     {"mode": "max", "factor": 0.5, "patience": 0, "threshold": 0.02, "threshold_mode": "abs"}),
    ("loss_defaults_patience2", CREEPING_LOSS, 0.1, {"patience": 2}),
    ("loss_rel_threshold", CREEPING_LOSS, 0.1, {"patience": 0, "threshold": 1e-4}),
    ("loss_abs_threshold", CREEPING_LOSS, 0.1,
     {"patience": 0, "threshold": 1e-4, "threshold_mode": "abs"}),
    ("loss_large_eps", CREEPING_LOSS, 0.1, {"patience": 0, "factor": 0.5, "eps": 0.02}),
]


def _optimizer(learning_rate):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=learning_rate)


def plateau_case(name, metric_values, initial_learning_rate, arguments):
    optimizer = _optimizer(initial_learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **arguments)
    rates_after_step = []
    for value in metric_values:
        optimizer.step()
        scheduler.step(value)
        rates_after_step.append(scheduler.get_last_lr()[0])
    return {
        "name": name,
        "metric_values": metric_values,
        "initial_learning_rate": initial_learning_rate,
        "arguments": arguments,
        "rates_after_step": rates_after_step,
    }


def step_lr_orders(initial_learning_rate=0.1, step_size=2, gamma=0.1, epochs=6):
    """StepLR in both orders; get_last_lr() and get_lr() after each scheduler.step()."""
    result = {
        "initial_learning_rate": initial_learning_rate,
        "step_size": step_size,
        "gamma": gamma,
    }
    for order in ("optimizer_first", "scheduler_first"):
        optimizer = _optimizer(initial_learning_rate)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
        used, last_lr, get_lr = [], [], []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(epochs):
                if order == "scheduler_first":
                    scheduler.step()
                used.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                if order == "optimizer_first":
                    scheduler.step()
                last_lr.append(scheduler.get_last_lr()[0])
                get_lr.append(scheduler.get_lr()[0])
        result[order] = {
            "rate_used_by_optimizer_step": used,
            "get_last_lr": last_lr,
            "get_lr": get_lr,
            "warnings": sorted({str(w.message) for w in caught}),
        }
    return result


def main() -> None:
    reference = {
        "torch_version": torch.__version__,
        "plateau": [plateau_case(*case) for case in PLATEAU_CASES],
        "step_lr": step_lr_orders(),
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    temporary = TARGET.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(reference, indent=1) + "\n")
    temporary.replace(TARGET)
    print(f"wrote {TARGET} (torch {torch.__version__}, {len(PLATEAU_CASES)} plateau cases)")


if __name__ == "__main__":
    main()
