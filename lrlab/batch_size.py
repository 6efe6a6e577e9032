"""Batch size and the learning rate: the scaling rules, warm-up, the gradient noise scale.

- ``scaled_learning_rate``: the rate for a batch of ``batch`` examples from one tuned at
  ``base_batch``. ``"linear"``: ``base_rate * batch / base_batch`` (Goyal et al. 2017,
  "Accurate, Large Minibatch SGD", https://arxiv.org/abs/1706.02677, for SGD with momentum);
  ``"sqrt"``: ``base_rate * sqrt(batch / base_batch)`` (Hoffer et al. 2017,
  https://arxiv.org/abs/1705.08741; Malladi et al. 2022, https://arxiv.org/abs/2205.10287,
  the SDE view of Adam); ``"none"``: ``base_rate``.
- ``gradual_warmup``: Goyal et al.'s gradual warm-up, from the base rate up to the scaled rate
  linearly over the first steps, then constant (``lrlab.schedules.LinearRamp``).
- ``noise_scale_from_norms`` / ``simple_noise_scale``: McCandlish et al. 2018, "An Empirical
  Model of Large-Batch Training" (https://arxiv.org/abs/1812.06162), Appendix A: the unbiased
  estimates of ``|G|^2`` and ``tr(Sigma)`` from the mean squared norms of gradients of batches
  of two sizes, and the simple noise scale ``B_simple = tr(Sigma) / |G|^2``.
- ``batch_gradients``: the gradients of a Keras model's loss on random batches (any Keras
  backend: ``loss_gradient``), one flat float64 vector per batch.
- ``critical_batch``: the paper's trade-off ``(S / S_min - 1)(E / E_min - 1) = 1`` fitted to
  measured steps to a target, ``S(B) = S_min + E_min / B``; ``B_crit = E_min / S_min``.
- ``accuracy``: a model's accuracy, called eagerly; ``AccuracyEvery``: a callback that
  measures it every few steps (for the steps to a target);
  ``steps_to_target``: the first step whose accuracy reaches a target.
- ``batch_increase_phases`` / ``count_updates``: Smith et al. 2018, "Don't Decay the Learning
  Rate, Increase the Batch Size" (https://arxiv.org/abs/1711.00489): a step decay of the rate
  and its equivalent increase of the batch size, as phases trained one ``fit`` each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from lrlab import _validate

__all__ = [
    "RULES",
    "AccuracyEvery",
    "NoiseScale",
    "accuracy",
    "batch_gradients",
    "loss_gradient",
    "batch_increase_phases",
    "count_updates",
    "critical_batch",
    "gradual_warmup",
    "noise_scale_from_norms",
    "scaled_learning_rate",
    "simple_noise_scale",
    "steps_to_target",
]

RULES = ("linear", "sqrt", "none")


def scaled_learning_rate(base_rate, base_batch, batch, rule="linear"):
    """The learning rate for batches of ``batch`` examples, given ``base_rate`` at ``base_batch``.

    ``"linear"``: ``base_rate * batch / base_batch`` (Goyal et al. 2017: when the batch grows
    k times, k times fewer SGD steps each average k times more gradients; with the rate k
    times larger, k small steps and one large step move the weights about alike, as long as
    the gradient changes little over k steps). ``"sqrt"``: ``base_rate * sqrt(batch /
    base_batch)`` (Hoffer et al. 2017; Malladi et al. 2022: for Adam the update's noise
    scales as ``rate / sqrt(batch)``). ``"none"``: ``base_rate``.

    Example: ``scaled_learning_rate(0.1, 256, 8192)`` is 3.2 (Goyal et al.'s ImageNet rate).
    """
    base_rate = _validate.real("base_rate", base_rate, low=0, low_open=True)
    base_batch = _validate.integer("base_batch", base_batch, minimum=1)
    batch = _validate.integer("batch", batch, minimum=1)
    rule = _validate.choice("rule", rule, RULES)
    ratio = batch / base_batch
    return base_rate * {"linear": ratio, "sqrt": math.sqrt(ratio), "none": 1.0}[rule]


def gradual_warmup(base_rate, target_rate, warmup_steps):
    """Goyal et al.'s gradual warm-up: ``base_rate`` at step 0, rising by a constant amount per
    step to ``target_rate`` at ``warmup_steps``, then constant (``LinearRamp(base_rate,
    target_rate, warmup_steps)``). ``warmup_steps`` 0 means no warm-up: ``target_rate``, a
    float."""
    base_rate = _validate.real("base_rate", base_rate, low=0)
    target_rate = _validate.real("target_rate", target_rate, low=0, low_open=True)
    warmup_steps = _validate.integer("warmup_steps", warmup_steps, minimum=0)
    if warmup_steps == 0:
        return target_rate
    from lrlab.schedules import LinearRamp

    return LinearRamp(base_rate, target_rate, warmup_steps, name="gradual_warmup")


# --------------------------------------------------------------------------- the noise scale


@dataclass(frozen=True)
class NoiseScale:
    """McCandlish et al.'s estimates: ``gradient_norm_squared`` (``|G|^2``), ``trace_sigma``
    (``tr(Sigma)``, the summed variance of one example's gradient) and ``b_simple``
    (``tr(Sigma) / |G|^2``; ``inf`` when the estimate of ``|G|^2`` is not positive, which
    noise can make it)."""

    gradient_norm_squared: float
    trace_sigma: float
    b_simple: float


def noise_scale_from_norms(small_norm_squared, big_norm_squared, batch_small, batch_big):
    """``NoiseScale`` from the mean squared norm of batch gradients at two batch sizes.

    For a batch of B examples drawn independently, ``E|G_B|^2 = |G|^2 + tr(Sigma) / B``, so
    two sizes ``b < B`` give (McCandlish et al. 2018, Appendix A, equations A.2-A.3)::

        |G|^2      = (B * big_norm_squared - b * small_norm_squared) / (B - b)
        tr(Sigma)  = (small_norm_squared - big_norm_squared) / (1 / b - 1 / B)
        B_simple   = tr(Sigma) / |G|^2

    each unbiased when the two norms are (means over many batches). Example: ``|G|^2 = 1``,
    ``tr(Sigma) = 100``: at ``b = 10`` the mean is 11, at ``B = 100`` it is 2, and
    ``noise_scale_from_norms(11, 2, 10, 100).b_simple`` is 100.
    """
    small = _validate.real("small_norm_squared", small_norm_squared, low=0)
    big = _validate.real("big_norm_squared", big_norm_squared, low=0)
    batch_small = _validate.integer("batch_small", batch_small, minimum=1)
    batch_big = _validate.integer(
        "batch_big", batch_big, minimum=batch_small + 1,
        allowed=f"an integer > batch_small = {batch_small}",
    )
    g_squared = (batch_big * big - batch_small * small) / (batch_big - batch_small)
    trace = (small - big) / (1 / batch_small - 1 / batch_big)
    return NoiseScale(g_squared, trace, trace / g_squared if g_squared > 0 else math.inf)


def _gradient_matrix(name, gradients):
    try:
        array = np.asarray(gradients, dtype=np.float64)
    except (TypeError, ValueError):
        raise _validate.ArgumentTypeError(
            f"{name} must be an array of gradient vectors (batches x parameters), got {gradients!r}"
        ) from None
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-d array (batches x parameters), got shape "
                         f"{array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds a value that is not finite")
    return array


def simple_noise_scale(small_gradients, big_gradients, batch_small, batch_big):
    """``NoiseScale`` from gradient vectors: ``small_gradients`` (one row per batch of
    ``batch_small`` examples) and ``big_gradients`` (batches of ``batch_big``), the rows the
    mean-loss gradients of independently drawn batches (``batch_gradients``). The mean of
    ``|g|^2`` over the rows of each goes into ``noise_scale_from_norms``."""
    small = _gradient_matrix("small_gradients", small_gradients)
    big = _gradient_matrix("big_gradients", big_gradients)
    if small.shape[1] != big.shape[1]:
        raise ValueError(f"small_gradients and big_gradients must have as many parameters, got "
                         f"{small.shape[1]} and {big.shape[1]}")
    return noise_scale_from_norms(float(np.mean(np.sum(small**2, axis=1))),
                                  float(np.mean(np.sum(big**2, axis=1))),
                                  batch_small, batch_big)


def batch_gradients(model, images, labels, batch_size, n_batches, seed=0, loss=None):
    """The gradient of ``model``'s mean loss on each of ``n_batches`` random batches of
    ``batch_size`` examples: an array ``(n_batches, parameters)`` of float64.

    Each batch is drawn with replacement from ``images``/``labels``
    (``numpy.random.default_rng([seed, batch_size])``), so its examples are independent, as
    ``noise_scale_from_norms`` assumes (without replacement, a batch that is a large part of
    the set has less variance than ``tr(Sigma) / B``). ``loss`` defaults to sparse
    cross-entropy on logits (the lessons' ConvNet). The model runs with ``training=False``
    and its weights are not changed. Any Keras backend (``loss_gradient``).
    """
    if not isinstance(model, keras.Model):
        raise _validate.ArgumentTypeError(f"model must be a keras.Model, got {model!r}")
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"images and labels must be non-empty and of the same length, got "
                         f"{len(images)} and {len(labels)}")
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    n_batches = _validate.integer("n_batches", n_batches, minimum=1)
    seed = _validate.integer("seed", seed, minimum=0)
    if loss is None:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = np.random.default_rng([seed, batch_size])
    rows = []
    for _ in range(n_batches):
        chosen = rng.integers(0, len(images), size=batch_size)
        grads = loss_gradient(model, loss, images[chosen], labels[chosen])
        rows.append(np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in grads]))
    return np.stack(rows)


def loss_gradient(model, loss, x, y):
    """The gradient of ``loss(y, model(x, training=False))`` with respect to the model's
    trainable variables, as a list of NumPy arrays, on whichever Keras backend runs:
    ``tf.GradientTape`` on TensorFlow, ``jax.grad`` of the model's ``stateless_call`` on JAX,
    ``torch.autograd.grad`` on PyTorch. The weights are not changed."""
    variables = list(model.trainable_variables)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=False))
        grads = tape.gradient(value, variables)
    elif backend == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def value_of(trainable_values):
            outputs, _ = model.stateless_call(
                trainable_values, non_trainable, x, training=False
            )
            return loss(y, outputs)

        grads = jax.grad(value_of)([v.value for v in variables])
    elif backend == "torch":
        import torch

        value = loss(y, model(x, training=False))
        grads = torch.autograd.grad(value, [v.value for v in variables])
    else:
        raise ValueError(f"the Keras backend must be tensorflow, jax or torch, got {backend!r}")
    return [np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]


# --------------------------------------------------------------------------- steps to target


def critical_batch(batch_sizes, steps):
    """``(S_min, E_min, B_crit)``: McCandlish et al.'s ``S(B) = S_min * (1 + B_crit / B)``,
    equivalently ``(S / S_min - 1)(E / E_min - 1) = 1`` with ``E = B * S``, fitted by least
    squares to measured ``steps`` to a target at ``batch_sizes`` (linear in ``1 / B``:
    ``S = S_min + E_min / B``), and ``B_crit = E_min / S_min``. Needs two distinct sizes.

    Example: steps 1100, 200 and 110 at sizes 1, 10 and 100 are ``S = 100 + 1000 / B``
    exactly: ``(100, 1000, 10)``.
    """
    sizes = np.asarray([_validate.integer(f"batch_sizes[{i}]", b, minimum=1)
                        for i, b in enumerate(batch_sizes)], dtype=np.float64)
    counts = np.asarray([_validate.real(f"steps[{i}]", s, low=0, low_open=True)
                         for i, s in enumerate(steps)], dtype=np.float64)
    if sizes.size != counts.size:
        raise ValueError(f"batch_sizes and steps must be paired, got {sizes.size} and "
                         f"{counts.size} values")
    if np.unique(sizes).size < 2:
        raise ValueError(f"critical_batch needs at least two distinct batch sizes, got "
                         f"{sizes.tolist()}")
    design = np.stack([np.ones_like(sizes), 1.0 / sizes], axis=1)
    (s_min, e_min), *_ = np.linalg.lstsq(design, counts, rcond=None)
    s_min, e_min = float(s_min), float(e_min)
    return s_min, e_min, (e_min / s_min if s_min > 0 else math.inf)


def steps_to_target(steps, accuracies, target):
    """The first of ``steps`` whose accuracy reaches ``target`` (``>=``), else None."""
    steps, accuracies = list(steps), list(accuracies)
    if len(steps) != len(accuracies):
        raise ValueError(f"steps and accuracies must be paired, got {len(steps)} and "
                         f"{len(accuracies)} values")
    target = _validate.real("target", target)
    return next((int(s) for s, a in zip(steps, accuracies, strict=True) if a >= target), None)


def accuracy(model, images, labels, batch_size=1024):
    """The fraction of ``images`` whose largest logit (``model(images, training=False)``, in
    batches of ``batch_size``, called eagerly: nothing is traced) is the label."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"images and labels must be non-empty and of the same length, got "
                         f"{len(images)} and {len(labels)}")
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = np.asarray(keras.ops.convert_to_numpy(
            model(images[start:start + batch_size], training=False)))
        correct += int(np.sum(np.argmax(logits, axis=1) == labels[start:start + batch_size]))
    return correct / len(images)


class AccuracyEvery(keras.callbacks.Callback):
    """Accuracy on ``(images, labels)`` every ``every`` training steps and at the end of
    ``fit``, in ``steps`` and ``accuracies``; the step is the optimizer's ``iterations``, so
    a second ``fit`` goes on counting."""

    def __init__(self, images, labels, every):
        super().__init__()
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        if len(self.images) != len(self.labels) or len(self.images) == 0:
            raise ValueError(f"images and labels must be non-empty and of the same length, "
                             f"got {len(self.images)} and {len(self.labels)}")
        self.every = _validate.integer("every", every, minimum=1)
        self.steps, self.accuracies = [], []

    def _measure(self):
        step = int(self.model.optimizer.iterations.numpy())
        if self.steps and self.steps[-1] == step:
            return
        self.steps.append(step)
        self.accuracies.append(accuracy(self.model, self.images, self.labels))

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) % self.every == 0:
            self._measure()

    def on_train_end(self, logs=None):
        self._measure()


# --------------------------------------------------------------------------- Smith et al.


def batch_increase_phases(epochs, boundaries, base_rate, base_batch, factor, mode):
    """The phases ``[(epochs, batch, rate), ...]`` of a run of ``epochs`` epochs that changes
    at the epochs ``boundaries`` (increasing, each in ``(0, epochs)``).

    ``mode="decay"``: the rate is divided by ``factor`` at each boundary, the batch stays
    ``base_batch`` (step decay). ``mode="batch"``: the batch is multiplied by ``factor`` at
    each boundary, the rate stays ``base_rate`` (Smith et al. 2018: the same noise scale
    ``rate * N / batch`` as the decay, with fewer updates). Example: 6 epochs, boundaries
    ``(3, 5)``, factor 4 from 0.1 at 16: decay ``[(3, 16, 0.1), (2, 16, 0.025), (1, 16,
    0.00625)]``; batch ``[(3, 16, 0.1), (2, 64, 0.1), (1, 256, 0.1)]``.
    """
    epochs = _validate.integer("epochs", epochs, minimum=1)
    boundaries = [_validate.integer(f"boundaries[{i}]", b, minimum=1, maximum=epochs - 1)
                  for i, b in enumerate(boundaries)]
    if any(later <= earlier for earlier, later in zip(boundaries, boundaries[1:], strict=False)):
        raise ValueError(f"boundaries must increase, got {boundaries}")
    base_rate = _validate.real("base_rate", base_rate, low=0, low_open=True)
    base_batch = _validate.integer("base_batch", base_batch, minimum=1)
    factor = _validate.integer("factor", factor, minimum=2)
    mode = _validate.choice("mode", mode, ("decay", "batch"))
    edges = [0, *boundaries, epochs]
    phases = []
    for i, (start, stop) in enumerate(zip(edges, edges[1:], strict=False)):
        if mode == "decay":
            phases.append((stop - start, base_batch, base_rate / factor**i))
        else:
            phases.append((stop - start, base_batch * factor**i, base_rate))
    return phases


def count_updates(phases, num_examples):
    """The optimizer steps of ``phases`` (``batch_increase_phases``) over ``num_examples``
    training examples: ``sum(epochs * ceil(num_examples / batch))`` (Keras's ``fit`` keeps
    the last, smaller batch of an epoch)."""
    num_examples = _validate.integer("num_examples", num_examples, minimum=1)
    total = 0
    for i, phase in enumerate(phases):
        epochs, batch = phase[0], phase[1]
        epochs = _validate.integer(f"phases[{i}] epochs", epochs, minimum=0)
        batch = _validate.integer(f"phases[{i}] batch", batch, minimum=1)
        total += epochs * math.ceil(num_examples / batch)
    return total
