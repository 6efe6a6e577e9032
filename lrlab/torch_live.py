"""PyTorch's ``ReduceLROnPlateau`` and ``StepLR``, run for real.

``lrlab/reference/torch_plateau.json`` holds what these functions returned under PyTorch
2.13 (``tools/reference_torch_plateau.py`` writes it with ``record``), so that lessons and
tests can show PyTorch's behaviour without PyTorch. Where PyTorch is installed (the torch
backend of Keras: ``KERAS_BACKEND=torch``, ``pip install "lrlab[torch]"``), lesson 08 and the
tests run them again and compare. Importing this module does not import PyTorch; each
function does, and says how to install it when it is missing.
"""

from __future__ import annotations

import warnings

__all__ = [
    "CREEPING_LOSS",
    "LESSON_ACCURACY",
    "PLATEAU_CASES",
    "plateau_case",
    "plateau_rates",
    "record",
    "step_lr_orders",
]

#: The hand-made validation-accuracy sequence of lesson 08 (12 epochs).
LESSON_ACCURACY = [0.40, 0.55, 0.63, 0.61, 0.66, 0.66, 0.65, 0.68, 0.67, 0.69, 0.69, 0.68]
#: A validation loss that falls quickly, then creeps down by less than 1e-4 at a time.
CREEPING_LOSS = [2.0, 1.2, 0.9, 0.8999, 0.89985, 0.8998, 0.85, 0.85, 0.86, 0.8499, 0.84995, 0.7]

#: name, metric values, initial rate, ReduceLROnPlateau keyword arguments
PLATEAU_CASES = [
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
]  # fmt: skip


def _torch():
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "lrlab.torch_live runs PyTorch's schedulers and needs PyTorch: "
            'pip install "lrlab[torch]" (or torch), or run under KERAS_BACKEND=torch'
        ) from error
    return torch


def _optimizer(torch, learning_rate):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=learning_rate)


def plateau_rates(metric_values, initial_learning_rate, arguments):
    """``get_last_lr()[0]`` after ``ReduceLROnPlateau.step(value)`` at the end of each epoch
    (each after an ``optimizer.step()``), for ``metric_values`` one per epoch."""
    torch = _torch()
    optimizer = _optimizer(torch, initial_learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **arguments)
    rates = []
    for value in metric_values:
        optimizer.step()
        scheduler.step(value)
        rates.append(scheduler.get_last_lr()[0])
    return rates


def plateau_case(name, metric_values, initial_learning_rate, arguments):
    """One recorded plateau case: its inputs and ``plateau_rates`` of them."""
    return {
        "name": name,
        "metric_values": list(metric_values),
        "initial_learning_rate": initial_learning_rate,
        "arguments": dict(arguments),
        "rates_after_step": plateau_rates(metric_values, initial_learning_rate, arguments),
    }


def step_lr_orders(initial_learning_rate=0.1, step_size=2, gamma=0.1, epochs=6):
    """``StepLR`` stepped after ``optimizer.step()`` (right) and before it (wrong): the rate
    each epoch's ``optimizer.step()`` used, ``get_last_lr()`` and ``get_lr()`` after each
    ``scheduler.step()``, and the warnings PyTorch gave."""
    torch = _torch()
    result = {"initial_learning_rate": initial_learning_rate, "step_size": step_size,
              "gamma": gamma}
    for order in ("optimizer_first", "scheduler_first"):
        optimizer = _optimizer(torch, initial_learning_rate)
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


def record():
    """Everything ``lrlab/reference/torch_plateau.json`` holds, from the PyTorch installed."""
    torch = _torch()
    return {
        "torch_version": torch.__version__,
        "plateau": [plateau_case(*case) for case in PLATEAU_CASES],
        "step_lr": step_lr_orders(),
    }
