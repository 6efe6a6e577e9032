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
