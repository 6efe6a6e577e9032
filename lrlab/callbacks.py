"""Keras callbacks of the lessons."""

from __future__ import annotations

import keras

# Keras exports ``keras.StatelessScope`` but no public way to ask whether one is active; the
# JAX momentum test in tests/test_callbacks.py fails if this internal module moves.
from keras.src.backend.common.stateless_scope import in_stateless_scope

from lrlab import _validate


def unwrap_optimizer(optimizer):
    """The optimizer that makes the updates: the ``inner_optimizer`` of a ``LossScaleOptimizer``
    (which Keras wraps around the optimizer under the ``mixed_float16`` policy), else itself."""
    while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


def current_learning_rate(optimizer) -> float:
    """The rate the optimizer uses for its next step, for a float rate or a schedule (Keras 3).

    Keras 3 evaluates a schedule at ``optimizer.iterations`` when
    ``optimizer.learning_rate`` is read; ``optimizer._decayed_lr`` and
    ``optimizer.lr`` of Keras 2 no longer exist. Under mixed precision the rate is the
    inner optimizer's (``unwrap_optimizer``).
    """
    return float(keras.ops.convert_to_numpy(unwrap_optimizer(optimizer).learning_rate))


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
        self.per_batch = _validate.flag("per_batch", per_batch)
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

    Keras bakes a Python-float momentum into the traced train step, so the callback
    rebuilds the train function (once: a later ``fit`` with the same callback and model
    reuses it) around a float32 variable (outside the optimizer's saved state), evaluates
    the whole momentum curve once (``total_steps`` values; it stays at its last value
    after), and assigns the step's value before each batch. The optimizer's attribute holds
    that variable only while a train step runs: the wrapped train function puts it there
    and, in a ``finally``, puts back a plain float (the step's value). So whether a fit
    ends, raises or is interrupted (Ctrl-C), the optimizer holds a plain float and the model
    saves, loads and trains as before. Under mixed precision (``LossScaleOptimizer``) the
    inner optimizer's momentum is cycled. With ``steps_per_execution > 1`` the momentum
    changes once per execution.

    On JAX, Keras's compiled step is a pure function of the state it is passed, which this
    variable is not part of; there the step reads the momentum table at the optimizer's
    iteration count, which is part of it (the same value the callback assigns before each
    batch elsewhere), and the callback reads ``self.model``, which makes Keras put the
    step's state back into the variables, before it reads ``optimizer.iterations``.

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

        On JAX the step is a pure function of the state Keras passes it, and this variable is
        not part of that state (a value assigned between batches would never reach the
        compiled step). So there, once ``follow`` gave it the momentum table and the
        optimizer, reading it inside a stateless scope (the optimizer's update in Keras's JAX
        step) gives ``table[min(iterations, len(table) - 1)]`` of the iterations the step
        was given: the value the callback assigns before each batch on the other backends.
        """

        def __init__(self, value, name):
            super().__init__(float(value), dtype="float32", trainable=False, name=name)
            self._created_value = float(value)
            self._table = None
            self._optimizer = None

        def follow(self, table, optimizer):
            self._table, self._optimizer = table, optimizer

        @property
        def value(self):
            if self._table is not None and in_stateless_scope():
                step = keras.ops.minimum(self._optimizer.iterations, len(self._table) - 1)
                return keras.ops.take(keras.ops.convert_to_tensor(self._table), step)
            return super().value

        def __eq__(self, other):
            return self._created_value == other

        def __ne__(self, other):
            return self._created_value != other

        __hash__ = keras.Variable.__hash__

    def __init__(self, schedule, base_momentum=0.85, max_momentum=0.95):
        super().__init__()
        from lrlab.schedules import OneCycle

        if not isinstance(schedule, OneCycle):
            raise _validate.ArgumentTypeError(
                f"schedule must be an lrlab.schedules.OneCycle, got {schedule!r}"
            )
        for name, value in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            _validate.real(name, value, low=0, high=1, high_open=True)
        self.schedule = schedule
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
        self._attribute = None
        self._coefficient = None
        self._momenta = None
        self._optimizer = None
        self._value = None
        self._train_function = None

    def on_train_begin(self, logs=None):
        optimizer = unwrap_optimizer(self.model.optimizer)
        if isinstance(optimizer, keras.optimizers.SGD):
            if optimizer.momentum == 0:
                raise ValueError(
                    "OneCycleMomentum needs an SGD created with momentum > 0 (e.g. "
                    "SGD(schedule, momentum=0.9)) so that Keras keeps momentum buffers; got 0"
                )
            attribute = "momentum"
        elif hasattr(optimizer, "beta_1"):
            attribute = "beta_1"
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
        if keras.backend.backend() == "jax":
            self._coefficient.follow(self._momenta, optimizer)
        if (
            self.model.train_function is not self._train_function
            or optimizer is not self._optimizer
            or attribute != self._attribute
        ):  # not traced with the coefficient yet
            self._optimizer, self._attribute = optimizer, attribute
            self.model.make_train_function(force=True)
            self._train_function = self._with_coefficient(self.model.train_function)
            self.model.train_function = self._train_function
        self._set_step_value()

    def _with_coefficient(self, train_function):
        """``train_function`` run with the coefficient in the optimizer's attribute, and a plain
        float there again afterwards, however the step ends."""
        optimizer, attribute, coefficient = self._optimizer, self._attribute, self._coefficient

        def train_with_cycled_momentum(*args, **kwargs):
            object.__setattr__(optimizer, attribute, coefficient)  # not optimizer state
            try:
                return train_function(*args, **kwargs)
            finally:
                object.__setattr__(optimizer, attribute, self._value)

        return train_with_cycled_momentum

    def _set_step_value(self):
        if keras.backend.backend() == "jax":
            self.model  # noqa: B018 -- on JAX, reading it puts the step's state into the variables
        step = int(keras.ops.convert_to_numpy(self._optimizer.iterations))
        value = self._momenta[min(step, len(self._momenta) - 1)]
        self._coefficient.assign(value)
        self._value = float(value)
        object.__setattr__(self._optimizer, self._attribute, self._value)

    def on_train_batch_begin(self, batch, logs=None):
        self._set_step_value()
