"""One run, many budgets: branch a training run at a checkpoint into a cool-down.

A warmup-stable-decay run (``lrlab.schedules.WarmupStableDecay``) is the same as a warm-up +
constant run until its decay starts. So one warm-up + constant run (the *trunk*) serves every
budget: capture it at step ``budget - cooldown_steps``, and a branch that continues from
there with the decay is exactly the WSD run of that budget (Hu et al. 2024, "MiniCPM",
https://arxiv.org/abs/2404.06395; Hägele et al. 2024, "Scaling Laws and Compute-Optimal
Training Beyond Fixed Training Durations", https://arxiv.org/abs/2405.18392). Each branch
costs only its own cool-down steps; the trunk is paid once.

- ``cooldown_schedule``: the WSD schedule of a branch (``WarmupStableDecay`` expresses it:
  ``stable_steps = start_step - warmup_steps``); ``trunk_schedule``: the warm-up + constant
  trunk, equal to every branch before its start.
- ``StepBatches``: the training batches indexed by step, so that a branch from step ``k``
  sees the batches a run from step 0 sees at steps ``k, k + 1, ...`` (``tf.data``'s
  reshuffling depends on how many passes a dataset object has made; this does not).
- ``capture`` / ``restore``: a model's weights and optimizer variables (``iterations``,
  Adam's moments) in memory, and back, optionally with a new schedule.
- ``train_steps``: train a compiled model from ``optimizer.iterations`` up to a step.
- ``cooldown_length``: the steps of a budget's cool-down; ``branching_cost``: the steps a
  family of budgets costs with and without branching.

Bit for bit on one machine: a branch from step ``k`` of the trunk equals a run that had the
branch's schedule from step 0 (``tests/test_branching.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import keras
import numpy as np

from lrlab import _validate
from lrlab.schedules import WarmupStableDecay

__all__ = [
    "Checkpoint",
    "StepBatches",
    "branching_cost",
    "capture",
    "cooldown_length",
    "cooldown_schedule",
    "restore",
    "train_steps",
    "trunk_schedule",
]

SHAPES = ("linear", "cosine", "sqrt")


def cooldown_schedule(
    peak_learning_rate, warmup_steps, start_step, cooldown_steps, shape="linear",
    final_learning_rate=0.0,
):
    """The branch that leaves the trunk at ``start_step`` and decays over ``cooldown_steps``.

    ``WarmupStableDecay(peak_learning_rate, warmup_steps, start_step - warmup_steps,
    cooldown_steps, final_learning_rate=final_learning_rate, decay_shape=shape)``: a linear
    warm-up from 0, the peak until ``start_step``, then (``t = (step - start_step) /
    cooldown_steps``) ``final + (peak - final) * (1 - t)``, ``(1 + cos(pi t)) / 2`` or
    ``1 - sqrt(t)`` (Hägele et al. 2024's "1-sqrt"). Before ``start_step`` it equals
    ``trunk_schedule(peak_learning_rate, warmup_steps, ...)`` at every step.
    """
    warmup_steps = _validate.integer("warmup_steps", warmup_steps, minimum=0)
    start_step = _validate.integer("start_step", start_step, minimum=warmup_steps,
                                   allowed=f"an integer >= warmup_steps = {warmup_steps}")
    cooldown_steps = _validate.integer("cooldown_steps", cooldown_steps, minimum=1)
    shape = _validate.choice("shape", shape, SHAPES)
    return WarmupStableDecay(
        peak_learning_rate, warmup_steps, start_step - warmup_steps, cooldown_steps,
        final_learning_rate=final_learning_rate, decay_shape=shape,
        name=f"cooldown_{shape}",
    )


def trunk_schedule(peak_learning_rate, warmup_steps, steps):
    """The trunk: a linear warm-up from 0 over ``warmup_steps``, then ``peak_learning_rate``
    for the ``steps`` after (a ``WarmupStableDecay`` whose decay starts at ``warmup_steps +
    steps``; train it no further than that)."""
    warmup_steps = _validate.integer("warmup_steps", warmup_steps, minimum=0)
    steps = _validate.integer("steps", steps, minimum=1)
    return WarmupStableDecay(peak_learning_rate, warmup_steps, steps, 1, name="trunk")


def cooldown_length(budget, cooldown_fraction):
    """The cool-down of a run of ``budget`` steps: ``max(1, round(cooldown_fraction *
    budget))`` steps (``cooldown_fraction`` in (0, 1]), the run leaving the trunk at
    ``budget - cooldown_length(...)``."""
    budget = _validate.integer("budget", budget, minimum=1)
    fraction = _validate.real("cooldown_fraction", cooldown_fraction, low=0, high=1,
                              low_open=True)
    return max(1, round(fraction * budget))


def branching_cost(budgets, cooldown_fraction):
    """``(with_branching, from_scratch)``: the steps that a run of every budget costs.

    From scratch each budget is its own run: ``sum(budgets)``. Branched, the trunk runs to
    the last start, ``max(b - c(b))``, and each budget adds its cool-down ``c(b) =
    round(cooldown_fraction * b)`` (at least 1): ``max(b - c(b)) + sum(c(b))``.
    """
    budgets = [_validate.integer(f"budgets[{i}]", b, minimum=1) for i, b in enumerate(budgets)]
    if not budgets:
        raise ValueError("budgets must hold at least one budget (a number of steps), got []")
    cooldowns = [cooldown_length(b, cooldown_fraction) for b in budgets]
    trunk = max(b - c for b, c in zip(budgets, cooldowns, strict=True))
    return trunk + sum(cooldowns), sum(budgets)


class StepBatches:
    """The training batches of a run, indexed by step: step ``s`` is batch ``s % n`` of epoch
    ``s // n`` (``n = steps_per_epoch = len(images) // batch_size``; each epoch leaves out the
    last ``len(images) % batch_size`` images of its order), an epoch's order being
    ``numpy.random.default_rng([seed, epoch]).permutation(len(images))``.

    Args:
        images, labels: the training set as arrays of the same length.
        batch_size: images per step (>= 1, at most ``len(images)``).
        seed: the seed of the orders (>= 0).
    """

    def __init__(self, images, labels, batch_size=32, seed=0):
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        if len(self.images) != len(self.labels):
            raise ValueError(f"images and labels must have the same length, got "
                             f"{len(self.images)} and {len(self.labels)}")
        self.batch_size = _validate.integer("batch_size", batch_size, minimum=1,
                                            maximum=max(1, len(self.images)))
        self.seed = _validate.integer("seed", seed, minimum=0)
        self.steps_per_epoch = len(self.images) // self.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError("images must hold at least one batch, got none")

    @classmethod
    def from_dataset(cls, dataset, batch_size=32, seed=0):
        """The images and labels of a ``tf.data`` dataset of (image, label) batches, sorted by
        label and then by the SHA-1 of the image's bytes, so that the result does not depend
        on the order of the pass (a reshuffling dataset's order depends on its pass)."""
        pairs = [(np.asarray(x), np.asarray(y)) for x, y in dataset]
        images = np.concatenate([x for x, _ in pairs])
        labels = np.concatenate([y for _, y in pairs])
        digests = [hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()
                   for image in images]
        order = sorted(range(len(labels)), key=lambda i: (int(labels[i]), digests[i]))
        return cls(images[order], labels[order], batch_size, seed)

    def order(self, epoch):
        """The permutation of the images in ``epoch``."""
        epoch = _validate.integer("epoch", epoch, minimum=0)
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def arrays(self, start, stop):
        """``(images, labels)`` of steps ``start`` to ``stop - 1``, in order, one batch after
        another (``(stop - start) * batch_size`` images)."""
        start = _validate.integer("start", start, minimum=0)
        stop = _validate.integer("stop", stop, minimum=start)
        n, size = self.steps_per_epoch, self.batch_size
        chosen = []
        for epoch in range(start // n, -(-stop // n)):  # the epochs the steps touch
            first, last = max(start, epoch * n) - epoch * n, min(stop, (epoch + 1) * n) - epoch * n
            chosen.append(self.order(epoch)[first * size:last * size])
        indices = np.concatenate(chosen) if chosen else np.zeros(0, dtype=int)
        return self.images[indices], self.labels[indices]


@dataclass(frozen=True)
class Checkpoint:
    """A model's state at a step, in memory: ``weights`` (``model.get_weights()``) and the
    optimizer's variables (``iterations`` first, then Adam's moments), copies in NumPy."""

    step: int
    weights: tuple
    optimizer_variables: tuple


def _optimizer_of(model):
    if not isinstance(model, keras.Model) or getattr(model, "optimizer", None) is None:
        raise _validate.ArgumentTypeError(f"model must be a compiled keras.Model, got {model!r}")
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    return optimizer


def capture(model) -> Checkpoint:
    """The state of a compiled ``model`` now (its optimizer is built if it was not)."""
    optimizer = _optimizer_of(model)
    return Checkpoint(
        int(optimizer.iterations.numpy()),
        tuple(np.array(w, copy=True) for w in model.get_weights()),
        tuple(np.array(v.numpy(), copy=True) for v in optimizer.variables),
    )


def restore(model, checkpoint, learning_rate=None):
    """Put ``checkpoint`` back into the compiled ``model`` and its optimizer, and, when
    ``learning_rate`` (a schedule) is given, make it the optimizer's rate; the next ``fit``
    then traces its training step again with it. Returns ``model``."""
    if not isinstance(checkpoint, Checkpoint):
        raise _validate.ArgumentTypeError(f"checkpoint must be a Checkpoint, got {checkpoint!r}")
    optimizer = _optimizer_of(model)
    if learning_rate is not None:
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise _validate.ArgumentTypeError(
                f"learning_rate must be a keras LearningRateSchedule or None, got {learning_rate!r}"
            )
        optimizer.learning_rate = learning_rate
        model.train_function = None  # traced with the old schedule
    variables = optimizer.variables
    if len(variables) != len(checkpoint.optimizer_variables):
        raise ValueError(
            f"the optimizer has {len(variables)} variables, the checkpoint "
            f"{len(checkpoint.optimizer_variables)}: restore into a model compiled like the "
            "one captured (the same optimizer, a schedule as learning rate in both)"
        )
    model.set_weights(checkpoint.weights)
    for variable, value in zip(variables, checkpoint.optimizer_variables, strict=True):
        variable.assign(value)
    return model


def train_steps(model, batches, stop, callbacks=()):
    """Train the compiled ``model`` on ``batches`` (``StepBatches``) from its optimizer's
    ``iterations`` up to step ``stop``, one ``fit`` per epoch of steps. Returns ``model``."""
    if not isinstance(batches, StepBatches):
        raise _validate.ArgumentTypeError(f"batches must be StepBatches, got {batches!r}")
    step = int(_optimizer_of(model).iterations.numpy())
    stop = _validate.integer("stop", stop, minimum=step,
                             allowed=f"an integer >= the model's step {step}")
    n = batches.steps_per_epoch
    while step < stop:
        end = min(stop, (step // n + 1) * n)
        images, labels = batches.arrays(step, end)
        model.fit(images, labels, batch_size=batches.batch_size, epochs=1, shuffle=False,
                  callbacks=list(callbacks), verbose=0)
        step = end
    return model
