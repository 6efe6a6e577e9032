"""The course's named schedule recipes, the registry of ``python -m lrlab.train`` and lesson 08.

Every recipe is a builder ``builder(learning_rate, steps_per_epoch, epochs)`` that returns
``(rate, callbacks)``: the float or ``keras.optimizers.schedules.LearningRateSchedule`` to
give Adam, and the Keras callbacks that the schedule needs during ``fit`` (a
``LearningRateScheduler``, ``ReduceLROnPlateau``, one-cycle's momentum). ``learning_rate``
is the largest rate of every recipe: the constant rate, the start of a decay, the peak of a
warm-up or of a cycle.

``SCHEDULES`` maps each name to its builder; ``MIN_TOTAL_STEPS`` and ``check_total_steps``
say how many optimizer steps (epochs x steps per epoch) a recipe needs at least.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from lrlab import _validate
from lrlab.callbacks import OneCycleMomentum
from lrlab.schedules import OneCycle, Triangular2CyclicalLearningRate, WarmupStableDecay

__all__ = [
    "EPOCHS_PER_HALVING",
    "MIN_TOTAL_STEPS",
    "SCHEDULES",
    "ScheduleBuilder",
    "check_total_steps",
    "constant",
    "cosine",
    "exponential",
    "one_cycle",
    "plateau",
    "step",
    "triangular2",
    "warmup_cosine",
    "wsd",
]

# ``exponential`` and ``step`` both halve the rate every 10 epochs (smoothly / at once).
EPOCHS_PER_HALVING = 10


def constant(learning_rate: float, steps_per_epoch: int, epochs: int):
    """The same rate for every step."""
    return learning_rate, []


def exponential(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``ExponentialDecay``: learning_rate * 0.5 ** (step / (10 * steps_per_epoch)).

    ``decay_steps`` counts optimizer steps, not epochs: 10 epochs are
    ``10 * steps_per_epoch`` steps, so the rate halves every 10 epochs, smoothly.
    """
    schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=EPOCHS_PER_HALVING * steps_per_epoch, decay_rate=0.5
    )
    return schedule, []


def step(learning_rate: float, steps_per_epoch: int, epochs: int):
    """``LearningRateScheduler``: learning_rate * 0.5 ** (epoch // 10), epochs counted from 0."""

    def halve_every_ten_epochs(epoch: int) -> float:
        return learning_rate * 0.5 ** (epoch // EPOCHS_PER_HALVING)

    return learning_rate, [keras.callbacks.LearningRateScheduler(halve_every_ten_epochs)]


def cosine(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``CosineDecay`` from learning_rate to 0 over the whole run (Loshchilov & Hutter 2017).

    learning_rate * (1 + cos(pi * step / total_steps)) / 2.
    """
    total_steps = steps_per_epoch * epochs
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps), []


def warmup_cosine(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``CosineDecay`` with a linear warm-up from 0 over the first 10% of the steps.

    Warm-up (Goyal et al. 2017) then cosine decay to 0 over the remaining steps.
    """
    total_steps = steps_per_epoch * epochs
    warmup_steps = max(1, total_steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, total_steps - warmup_steps),
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )
    return schedule, []


def triangular2(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Smith's triangular2 cycles between learning_rate / 10 and learning_rate, halving the height.

    ``lrlab.schedules.Triangular2CyclicalLearningRate`` with a half-cycle of 5 epochs of steps
    (Smith 2017 advises 2 to 10 epochs).
    """
    schedule = Triangular2CyclicalLearningRate(
        initial_learning_rate=learning_rate / 10,
        maximal_learning_rate=learning_rate,
        step_size=5 * steps_per_epoch,
    )
    return schedule, []


def one_cycle(learning_rate: float, steps_per_epoch: int, epochs: int):
    """The 1cycle policy over the whole run, peaking at learning_rate (``schedules.OneCycle``).

    Smith & Topin 2017 with PyTorch's ``OneCycleLR`` defaults: 30% of the steps rising from
    learning_rate / 25, then a cosine down to learning_rate / 25 / 1e4, while Adam's beta_1
    cycles 0.95 -> 0.85 -> 0.95 against it (``callbacks.OneCycleMomentum``).
    """
    schedule = OneCycle(learning_rate, total_steps=steps_per_epoch * epochs)
    return schedule, [OneCycleMomentum(schedule)]


def wsd(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Warm-up 10% of the steps, stay at learning_rate, decay linearly to 0 over the last 20%.

    ``lrlab.schedules.WarmupStableDecay`` (Hu et al. 2024, MiniCPM).
    """
    total_steps = steps_per_epoch * epochs
    warmup_steps = total_steps // 10
    decay_steps = max(1, total_steps // 5)
    schedule = WarmupStableDecay(
        learning_rate,
        warmup_steps=warmup_steps,
        stable_steps=max(0, total_steps - warmup_steps - decay_steps),
        decay_steps=decay_steps,
    )
    return schedule, []


def plateau(learning_rate: float, steps_per_epoch: int, epochs: int):
    """``ReduceLROnPlateau``: halve the rate after an epoch whose val_accuracy did not improve."""
    reduce = keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy", mode="max", factor=0.5, patience=1
    )
    return learning_rate, [reduce]


ScheduleBuilder = Callable[[float, int, int], tuple]

# The fewest optimizer steps (epochs x steps per epoch) a schedule needs; others need 1.
# one_cycle rises over 30% of the steps, which must be more than one step (0.3 x 4 > 1);
# warmup_cosine spends its first step at rate 0, so one step alone would never train.
MIN_TOTAL_STEPS = {"one_cycle": 4, "warmup_cosine": 2}

SCHEDULES: dict[str, ScheduleBuilder] = {
    "constant": constant,
    "exponential": exponential,
    "step": step,
    "cosine": cosine,
    "warmup_cosine": warmup_cosine,
    "triangular2": triangular2,
    "one_cycle": one_cycle,
    "plateau": plateau,
    "wsd": wsd,
}


def check_total_steps(schedule_name: str, steps_per_epoch: int, epochs: int) -> None:
    """Raise a ValueError when ``schedule_name`` gets fewer steps than ``MIN_TOTAL_STEPS``.

    ``schedule_name`` must be a key of ``SCHEDULES``, ``steps_per_epoch`` and ``epochs``
    non-negative integers (``lrlab._validate``'s errors otherwise; 0 is refused as too few).
    """
    _validate.choice("schedule_name", schedule_name, SCHEDULES)
    steps_per_epoch = _validate.integer("steps_per_epoch", steps_per_epoch, minimum=0)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    needed = MIN_TOTAL_STEPS.get(schedule_name, 1)
    if steps_per_epoch * epochs < needed:
        raise ValueError(
            f"{schedule_name} needs epochs x steps per epoch >= {needed}, got {epochs} x "
            f"{steps_per_epoch} = {epochs * steps_per_epoch}: train more epochs (-e) or use a "
            "smaller --batch-size (steps per epoch = training images / batch size, rounded up)"
        )
