"""Keras callbacks of the lessons."""

from __future__ import annotations

import keras


def current_learning_rate(optimizer) -> float:
    """The rate the optimizer uses for its next step, for a float rate or a schedule (Keras 3).

    Keras 3 evaluates a schedule at ``optimizer.iterations`` when
    ``optimizer.learning_rate`` is read; ``optimizer._decayed_lr`` and
    ``optimizer.lr`` of Keras 2 no longer exist.
    """
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class LearningRateLogger(keras.callbacks.Callback):
    """Record the learning rate of every epoch in ``history.history["lr"]``.

    The rate of an epoch is the one its first batch uses: read at the first
    ``on_train_batch_begin`` of the epoch, after ``LearningRateScheduler`` (which
    sets it at ``on_epoch_begin``) and after ``ReduceLROnPlateau`` (which lowers it
    at the end of the previous epoch), whatever the order of the callbacks.
    With ``per_batch=True`` the rate of every batch is kept in ``batch_learning_rates``.
    """

    def __init__(self, per_batch: bool = False):
        super().__init__()
        self.per_batch = bool(per_batch)
        self.batch_learning_rates: list[float] = []
        self._epoch_rate: float | None = None

    def on_train_begin(self, logs=None):
        self.batch_learning_rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_rate = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_rate is None or self.per_batch:
            rate = current_learning_rate(self.model.optimizer)
            if self._epoch_rate is None:
                self._epoch_rate = rate
            if self.per_batch:
                self.batch_learning_rates.append(rate)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._epoch_rate is not None:
            logs["lr"] = self._epoch_rate


class OneCycleMomentum(keras.callbacks.Callback):
    """Cycle the optimizer's momentum against a ``OneCycle`` rate, like PyTorch's ``OneCycleLR``.

    torch's ``cycle_momentum`` (Smith 2018, https://arxiv.org/abs/1803.09820): the momentum
    falls from ``max_momentum`` to ``base_momentum`` while the rate rises and climbs back
    while it falls (three-phase: then stays at ``max_momentum``), annealed like the rate;
    see ``lrlab.schedules.OneCycle.momentum``. Before every batch the callback sets
    ``SGD.momentum``, or ``beta_1`` for the Adam family (Adam, AdamW, Adamax, Nadam, Lamb,
    Lion), to ``schedule.momentum(optimizer.iterations, base_momentum, max_momentum)``.

    Keras bakes a Python-float momentum into the traced train step, so at the start of
    training the callback puts a float32 variable in its place (outside the optimizer's
    saved state), rebuilds the train function (once: a later ``fit`` with the same callback
    and model reuses both), evaluates the whole momentum curve once
    (``total_steps`` values; it stays at its last value after), and assigns the step's
    value before each batch. At the end it puts back a plain float (the last value), so
    ``model.save`` works as before. With ``steps_per_execution > 1`` the momentum changes
    once per execution.

    Example:

    ```python
    schedule = OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9), loss=...)
    model.fit(..., epochs=epochs, callbacks=[OneCycleMomentum(schedule)])
    ```

    Args:
        schedule: the ``lrlab.schedules.OneCycle`` the optimizer's rate follows.
        base_momentum: the momentum at the peak rate, in [0, 1).
        max_momentum: the momentum at the start and the end, in [0, 1).
    """

    class _Coefficient(keras.Variable):
        """A float32 variable standing in for ``momentum`` or ``beta_1``.

        Optimizers use it in tensor math, so the traced step reads its current value;
        ``==`` and ``!=`` compare, in plain Python, the value it was created with, because
        ``SGD`` tests ``momentum != 0`` in Python while tracing.
        """

        def __init__(self, value, name):
            super().__init__(float(value), dtype="float32", trainable=False, name=name)
            self._created_value = float(value)

        def __eq__(self, other):
            return self._created_value == other

        def __ne__(self, other):
            return self._created_value != other

        __hash__ = keras.Variable.__hash__

    def __init__(self, schedule, base_momentum=0.85, max_momentum=0.95):
        super().__init__()
        from lrlab.schedules import OneCycle

        if not isinstance(schedule, OneCycle):
            raise TypeError(f"schedule must be an lrlab.schedules.OneCycle, got {schedule!r}")
        for name, value in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            if isinstance(value, (bool, str)) or not 0 <= float(value) < 1:
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
        self.schedule = schedule
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
        self._attribute = None
        self._coefficient = None
        self._momenta = None
        self._train_function = None

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if isinstance(optimizer, keras.optimizers.SGD):
            if optimizer.momentum == 0:
                raise ValueError(
                    "OneCycleMomentum needs an SGD created with momentum > 0 (e.g. "
                    "SGD(schedule, momentum=0.9)) so that Keras keeps momentum buffers; got 0"
                )
            self._attribute = "momentum"
        elif hasattr(optimizer, "beta_1"):
            self._attribute = "beta_1"
        else:
            raise ValueError(
                "OneCycleMomentum cycles SGD's momentum or the beta_1 of the Adam family; "
                f"{type(optimizer).__name__} has neither"
            )
        steps = keras.ops.arange(self.schedule.total_steps)
        momenta = self.schedule.momentum(steps, self.base_momentum, self.max_momentum)
        self._momenta = keras.ops.convert_to_numpy(keras.ops.cast(momenta, "float32"))
        if self._coefficient is None:
            self._coefficient = self._Coefficient(self.max_momentum, name="cycled_momentum")
        object.__setattr__(optimizer, self._attribute, self._coefficient)  # not optimizer state
        if self.model.train_function is not self._train_function:  # not traced with it yet
            self.model.make_train_function(force=True)
            self._train_function = self.model.train_function

    def on_train_batch_begin(self, batch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self._coefficient.assign(self._momenta[min(step, len(self._momenta) - 1)])

    def on_train_end(self, logs=None):
        last_value = float(keras.ops.convert_to_numpy(self._coefficient))
        object.__setattr__(self.model.optimizer, self._attribute, last_value)
