"""ReduceLROnPlateau as two pure functions: Keras's rule and PyTorch's rule.

Both lower the rate to ``max(rate * factor, min_lr)`` when a monitored metric
stops improving, but they count differently. For metric values m_1, m_2, ...
logged at the end of epochs 1, 2, ... (mode ``"max"``; ``"min"`` mirrors it):

Keras 3 (``keras/src/callbacks/reduce_lr_on_plateau.py``), at the end of each epoch::

    if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
    if best is None or m - min_delta > best: best = m; wait = 0      # absolute, in float32
    elif cooldown_counter == 0:
        wait += 1
        if wait >= patience and rate > min_lr:                         # patience 1: 1 bad epoch
            rate = max(rate * factor, min_lr); cooldown_counter = cooldown; wait = 0

PyTorch (``torch/optim/lr_scheduler.py``, ``ReduceLROnPlateau.step``)::

    if m > best * (1 + threshold) [rel] or m > best + threshold [abs]: best = m; bad = 0
    else: bad += 1                                                     # best starts at -inf
    if cooldown_counter > 0: cooldown_counter -= 1; bad = 0
    if bad > patience:                                                 # patience 1: 2 bad epochs
        new = max(rate * factor, min_lr)
        if rate - new > eps: rate = new
        cooldown_counter = cooldown; bad = 0

So Keras reduces after ``max(patience, 1)`` epochs without improvement and PyTorch
after ``patience + 1``; Keras's cooldown is counted down before the epoch is judged,
so ``cooldown=c`` shields c - 1 epochs (``cooldown=1`` changes nothing), while
PyTorch's shields c epochs. Defaults are each library's own.

Keras keeps its rate in a float32 variable and compares in float32; the Keras
rule here does the same, so its rates equal those read from a Keras optimizer.
PyTorch's rule works in float64, like PyTorch's Python floats.

A NaN metric value is kept, as both libraries keep it: every comparison with NaN is
false, so a NaN epoch counts as an epoch without improvement (and, in the Keras rule,
a NaN first epoch becomes the best value, which nothing beats afterwards, as in Keras).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from lrlab import _validate

MODES = ("min", "max")
THRESHOLD_MODES = ("rel", "abs")


@dataclass(frozen=True)
class PlateauDecisions:
    """What a plateau rule did with a metric sequence of n epochs.

    ``learning_rates[k]`` is the rate of epoch k + 1 (n + 1 values: the last is the
    rate the next epoch would use); ``reductions`` are the epochs, counted from 1,
    at whose end the rate was lowered.
    """

    learning_rates: np.ndarray
    reductions: tuple[int, ...]


def keras_reduce_on_plateau(
    metric_values,
    initial_learning_rate: float,
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
) -> PlateauDecisions:
    """The rates ``keras.callbacks.ReduceLROnPlateau`` sets for ``metric_values`` (Keras 3.15).

    ``mode`` is ``"min"`` or ``"max"`` (Keras's ``"auto"`` needs the metric's name:
    choose it yourself). An epoch improves when it beats the best value so far by
    more than the absolute ``min_delta``; the rate is lowered after ``patience``
    epochs in a row without improvement. A NaN value never improves (as in Keras).
    See the module docstring for the rule.
    """
    values, rate = _validated(
        metric_values, initial_learning_rate, mode, factor, patience, cooldown, min_lr
    )
    min_delta = _real("min_delta", min_delta, ">= 0", low=0)
    float32 = np.float32
    rate = float(float32(rate))
    best = None
    wait = cooldown_counter = 0
    rates, reductions = [rate], []
    for epoch, value in enumerate(values, start=1):
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        if mode == "max":
            improved = best is None or float32(value - min_delta) > float32(best)
        else:
            improved = best is None or float32(value + min_delta) < float32(best)
        if improved:
            best = value
            wait = 0
        elif cooldown_counter == 0:
            wait += 1
            if wait >= patience and rate > float32(min_lr):
                rate = float(float32(max(rate * factor, min_lr)))
                reductions.append(epoch)
                cooldown_counter = cooldown
                wait = 0
        rates.append(rate)
    return PlateauDecisions(np.array(rates, dtype=np.float64), tuple(reductions))


def torch_reduce_on_plateau(
    metric_values,
    initial_learning_rate: float,
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> PlateauDecisions:
    """The rates ``torch.optim.lr_scheduler.ReduceLROnPlateau`` sets for ``metric_values``.

    ``scheduler.step(m)`` is called once at the end of each epoch. An epoch improves
    when it beats ``best * (1 + threshold)`` (``"rel"``, mode ``"max"``) or
    ``best + threshold`` (``"abs"``), mirrored for ``"min"``; the rate is lowered
    when the epochs without improvement exceed ``patience``, unless the change would
    be at most ``eps``. A NaN value never improves (as in PyTorch). Checked against
    PyTorch 2.13 (tools/reference_torch_plateau.py).
    """
    values, rate = _validated(
        metric_values, initial_learning_rate, mode, factor, patience, cooldown, min_lr
    )
    _validate.choice("threshold_mode", threshold_mode, THRESHOLD_MODES)
    threshold = _real("threshold", threshold, ">= 0", low=0)
    eps = _real("eps", eps, ">= 0", low=0)
    best = -math.inf if mode == "max" else math.inf
    bad_epochs = cooldown_counter = 0
    rates, reductions = [rate], []
    for epoch, value in enumerate(values, start=1):
        if _torch_improves(value, best, mode, threshold, threshold_mode):
            best = value
            bad_epochs = 0
        else:
            bad_epochs += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            bad_epochs = 0
        if bad_epochs > patience:
            lowered = max(rate * factor, min_lr)
            if rate - lowered > eps:
                rate = lowered
                reductions.append(epoch)
            cooldown_counter = cooldown
            bad_epochs = 0
        rates.append(rate)
    return PlateauDecisions(np.array(rates, dtype=np.float64), tuple(reductions))


def _torch_improves(value, best, mode, threshold, threshold_mode) -> bool:
    """PyTorch's ``is_better``: ``value`` beats ``best`` by the ``threshold`` (relative or
    absolute) in the direction of ``mode``; False for NaN."""
    if mode == "max":
        bar = best * (1.0 + threshold) if threshold_mode == "rel" else best + threshold
        return value > bar
    bar = best * (1.0 - threshold) if threshold_mode == "rel" else best - threshold
    return value < bar


def _validated(metric_values, initial_learning_rate, mode, factor, patience, cooldown, min_lr):
    """The metric values as a 1-D float64 array and the initial rate as a float, after the
    checks of the arguments both rules share (``_validate``: ArgumentTypeError or ValueError)."""
    values = _metric_values(metric_values)
    _validate.choice("mode", mode, MODES)
    _real("factor", factor, "in (0, 1)", low=0, high=1, low_open=True, high_open=True)
    _validate.integer("patience", patience, minimum=0)
    _validate.integer("cooldown", cooldown, minimum=0)
    infinite = isinstance(initial_learning_rate, numbers.Real) and math.isinf(initial_learning_rate)
    rate = _real(
        "initial_learning_rate",
        initial_learning_rate,
        "a finite number > 0" if infinite else "> 0",
        low=0,
        low_open=True,
    )
    _real("min_lr", min_lr, ">= 0", low=0)
    return values, rate


def _metric_values(metric_values) -> np.ndarray:
    """``metric_values`` as a 1-D float64 array (NaN kept), or a TypeError/ValueError."""
    wrong = f"metric_values must be a sequence of numbers (one per epoch), got {metric_values!r}"
    if isinstance(metric_values, (str, bytes)):
        raise _validate.ArgumentTypeError(wrong)
    try:
        values = np.asarray(metric_values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise _validate.ArgumentTypeError(f"{wrong} ({error})") from None
    if values.ndim != 1:
        raise ValueError(
            f"metric_values must be a 1-D sequence (one value per epoch), got shape {values.shape}"
        )
    return values


def _real(name: str, value, allowed: str, **bounds) -> float:
    """``_validate.real`` with the wrong kind worded ``"<name> must be a number, got ..."``."""
    return _validate.real(name, value, allowed=allowed, kind="a number", **bounds)
