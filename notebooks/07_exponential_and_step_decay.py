# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Exponential and step decay on GTSRB
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/07_exponential_and_step_decay.ipynb)
#
# The course's exercise, done right in Keras 3: train the LeNet-style ConvNet on GTSRB
# traffic signs with a constant learning rate, with an exponential decay (a schedule object,
# evaluated at every optimizer step) and with a step decay (a callback, applied at every
# epoch), and compare them. On the way:
#
# 1. why the loss must be compiled with `from_logits=True` for a network that outputs
#    logits, and what the course's `from_logits=False` did to training;
# 2. how to read the learning rate in Keras 3 (`optimizer._decayed_lr` is gone) and how
#    `lrlab.callbacks.LearningRateLogger` records it in the history;
# 3. `ExponentialDecay`'s `decay_steps` counts optimizer steps, not epochs;
# 4. why `LearningRateScheduler` and a schedule object cannot be combined (a `TypeError`).
#
# It assumes lesson 01 (the decay formulas, steps and epochs) and a first look at Keras's
# `model.fit`.

# %%
# On Colab only: install lrlab from the repository and fetch the data (`make lab` did both elsewhere).
import sys

if "google.colab" in sys.modules:
    import subprocess

    repository = "https://github.com/lrlab-course/lrlab"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"lrlab @ git+{repository}"], check=True)
    subprocess.run([sys.executable, "-m", "lrlab.data", "fetch", "--dest", "data/gtsrb-tiny"], check=True)

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from lrlab import checks, notebook
from lrlab.callbacks import LearningRateLogger, current_learning_rate
from lrlab.data import load_gtsrb
from lrlab.models import build_convnet, compile_classifier
from lrlab.plotting import display_metrics, learning_rate_curve, savefig

notebook.setup(seed=0)
tf.get_logger().setLevel("ERROR")  # every run builds a new model: no "retracing" warnings

# %% [markdown]
# ## 1. Data, model and the training loop
#
# The tiny GTSRB subset: 20 images for each of the 43 classes, a fifth of them held out for
# validation, and a test set from other physical signs. `model.fit` takes one optimizer
# *step* per batch, so an *epoch* is `ceil(num_train / batch size)` steps; keep that number in
# mind for section 4.

# %%
BATCH_SIZE = 32
EPOCHS = 30
INITIAL_LR = 1e-3

data = load_gtsrb(batch_size=BATCH_SIZE)
print(data.summary())
steps_per_epoch = math.ceil(data.num_train / BATCH_SIZE)
print(f"steps per epoch: ceil({data.num_train} / {BATCH_SIZE}) = {steps_per_epoch}")

# %% [markdown]
# Every run starts from the same initial weights, so the learning rate is the only
# difference between runs. `LearningRateLogger` goes into every run's callbacks: it writes
# the rate each epoch used into `history.history["lr"]`.

# %%
initial_weights = build_convnet().get_weights()


def fresh_convnet():
    """The course's ConvNet (logits out), with this lesson's initial weights."""
    model = build_convnet()
    model.set_weights(initial_weights)
    return model


def train(model, callbacks, epochs=EPOCHS):
    """Fit on the training split, validating after each epoch; return the History."""
    return model.fit(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        callbacks=callbacks,
        shuffle=False,  # data.train reshuffles itself every epoch (seeded)
        verbose=0,
    )


fresh_convnet().summary()

# %% [markdown]
# ## 2. `from_logits=True`: the loss must know what the network outputs
#
# The last layer is a `Dense(43)` without softmax: it outputs *logits* z, any real numbers.
# `SparseCategoricalCrossentropy(from_logits=True)` applies the softmax itself and computes
# −log softmax(z)_y = log Σ_j e^{z_j} − z_y, whose gradient softmax(z) − onehot(y) is never
# zero. With `from_logits=False` (the course's setting) Keras takes z to *be* probabilities:
# it clips each z_j into [10⁻⁷, 1 − 10⁻⁷], takes the log and renormalises. Every logit
# outside (10⁻⁷, 1) is cut off by the clip and gets no gradient at all.
#
# On one batch of the untrained network, the two losses and their gradients with respect
# to the logits:

# %%
def loss_and_gradient_share(loss_function, labels, logits):
    """The batch's loss and the fraction of the logits whose gradient is not zero."""
    logits = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = loss_function(labels, logits)
    return float(loss), float(np.mean(tape.gradient(loss, logits).numpy() != 0))


images, labels = (tensor.numpy() for tensor in next(iter(data.validation)))
logits = fresh_convnet()(images).numpy()
manual = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(len(labels)), labels]
print(f"softmax cross-entropy by hand:     {manual.mean():.4f}")
for from_logits in (True, False):
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    loss, share = loss_and_gradient_share(loss_function, labels, logits)
    print(f"from_logits={from_logits!s:5}: loss {loss:7.4f}, logits with a gradient: {share:6.1%}")
inside = np.mean((logits > 1e-7) & (logits < 1 - 1e-7))
print(f"logits inside (1e-7, 1 - 1e-7):    {inside:6.1%}")

# %% [markdown]
# `from_logits=True` is the cross-entropy computed by hand and every logit gets a gradient;
# `from_logits=False` is another number, and only the logits that happen to lie in
# (10⁻⁷, 1) get one. Training with it finds the easy way out: push every logit below 10⁻⁷,
# where all 43 clipped "probabilities" are equal. The loss is then log 43, a uniform guess,
# and every gradient is zero, so training stops for good. Ten epochs with the course's
# loss show it:

# %%
course_model = fresh_convnet()
course_model.compile(
    optimizer=keras.optimizers.Adam(INITIAL_LR),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
    metrics=["accuracy"],
)
course_history = train(course_model, [], epochs=10)
print(f"log 43 = {math.log(43):.4f}, chance accuracy 1/43 = {1 / 43:.4f}")
for epoch in range(10):
    loss = course_history.history["loss"][epoch]
    accuracy = course_history.history["val_accuracy"][epoch]
    print(f"from_logits=False, epoch {epoch + 1:2d}: loss {loss:.4f}, val_accuracy {accuracy:.4f}")

stuck_logits = course_model.predict(images, verbose=0)
loss, share = loss_and_gradient_share(course_model.loss, labels, stuck_logits)
print(
    f"after 10 epochs, on the batch: loss {loss:.4f}, logits below 1e-7: "
    f"{np.mean(stuck_logits < 1e-7):.1%}, logits with a gradient: {share:.1%}"
)

# %% [markdown]
# The loss ends exactly at log 43, validation accuracy at chance, every logit below 10⁻⁷
# and no gradient left: the network is stuck. `lrlab.models.compile_classifier` compiles
# with `from_logits=True`, and so do the exercises below.
#
# ## 3. The baseline: a constant rate, and reading the rate in Keras 3
#
# Keras 2 code read the rate of a decaying optimizer with `optimizer._decayed_lr(tf.float32)`
# or `optimizer.lr`; Keras 3 removed both. `optimizer.learning_rate` now gives the rate of
# the *next* step, evaluating a schedule at `optimizer.iterations` when there is one.
# `lrlab.callbacks.current_learning_rate` converts it to a float, and `LearningRateLogger`
# calls it at the first batch of each epoch: after `LearningRateScheduler` has set the
# epoch's rate and after `ReduceLROnPlateau` has lowered it, whatever the callback order.

# %%
optimizer = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-3, 220, 0.5))
print("Keras 3 optimizer has _decayed_lr:", hasattr(optimizer, "_decayed_lr"))
for step in (0, 220, 440):
    optimizer.iterations.assign(step)
    print(f"after {step:3d} steps: rate {current_learning_rate(optimizer):.3e}")

# %%
histories = {}
constant_model = compile_classifier(fresh_convnet(), keras.optimizers.Adam(INITIAL_LR))
histories["constant"] = train(constant_model, [LearningRateLogger()])

fig = display_metrics(histories["constant"], title=f"Constant rate {INITIAL_LR:g}")
savefig(fig, "07_metrics_constant")
plt.show()

# %% [markdown]
# With a constant rate the training loss keeps falling for all 30 epochs, while the validation
# loss levels off in the second half and the validation accuracy wobbles from epoch to epoch,
# well below the training accuracy: the network fits its 688 training images much better than
# held-out ones. The rate panel is flat.

# %% [markdown]
# ## 4. Why decay, and `decay_steps` counts steps
#
# A large rate makes fast progress early, but each step also carries the noise of its
# mini-batch; near a minimum the weights keep bouncing around it by an amount that grows with
# the rate. Lowering the rate later lets them settle (stochastic approximation asks for
# Σ η_t = ∞ but Σ η_t² < ∞, Robbins & Monro 1951). Both schedules here halve the rate every
# 10 epochs: the exponential one smoothly, η(step) = η₀ · 0.5^(step / decay_steps); the step
# one at once, η(epoch) = η₀ · 0.5^⌊epoch / 10⌋ (Keras's 0-based epochs; lesson 01's course
# formula ⌊(1 + epoch) / 10⌋ drops one epoch earlier).
#
# `ExponentialDecay` is evaluated at the optimizer's step count, so `decay_steps` is in
# *steps*: 10 epochs are 10 × 22 = 220 steps here. Reading it as epochs (`decay_steps=10`)
# halves the rate every 10 batches, 2.2 times per epoch:

# %%
epoch_starts = np.arange(EPOCHS) * steps_per_epoch  # the step at which each epoch begins
for decay_steps in (10, 10 * steps_per_epoch):
    schedule = keras.optimizers.schedules.ExponentialDecay(INITIAL_LR, decay_steps, 0.5)
    rates = learning_rate_curve(schedule, epoch_starts)
    print(
        f"decay_steps={decay_steps:3d}: rate at the start of epoch 2 {rates[1]:.2e}, "
        f"epoch 11 {rates[10]:.2e}, epoch 30 {rates[29]:.2e}"
    )

# %% [markdown]
# With `decay_steps=10` the rate is already a fifth of η₀ in the second epoch and about
# 10⁻²² by the last: training would stop after a few epochs. With 220 it is exactly half
# at epoch 11, as intended.
#
# ## Exercises
#
# **1.** Write `exponential_decay(model, callbacks, initial_lr)`, the course's signature:
# compile `model` with Adam whose learning rate is a `keras.optimizers.schedules.ExponentialDecay`
# starting at `initial_lr` and halving every 10 epochs of 22 steps (not a staircase), the loss
# `SparseCategoricalCrossentropy(from_logits=True)` and `metrics=["accuracy"]`; return the
# model and the callbacks.

# %% tags=["solution"]
import keras


def exponential_decay(model, callbacks, initial_lr):
    """Compile model with Adam on an ExponentialDecay halving the rate every 220 steps.

    220 steps are 10 epochs of 22 batches: rate(step) = initial_lr * 0.5 ** (step / 220).
    Loss: sparse cross-entropy on logits; metric: accuracy. Return (model, callbacks).
    """
    schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_lr, decay_steps=10 * 22, decay_rate=0.5
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, callbacks


# %%
checks.check_exponential_decay_training(exponential_decay)

# %% [markdown]
# **2.** Write `step_decay(model, callbacks, initial_lr)`: compile `model` with Adam at the
# float rate `initial_lr` (same loss and metric), and return it with the callbacks plus a
# `keras.callbacks.LearningRateScheduler` whose rate for epoch `epoch` (from 0) is
# `initial_lr * 0.5 ** (epoch // 10)`.

# %% tags=["solution"]
import keras


def step_decay(model, callbacks, initial_lr):
    """Compile model with Adam at initial_lr; add a LearningRateScheduler halving it per 10 epochs.

    rate(epoch) = initial_lr * 0.5 ** (epoch // 10), epochs from 0. Loss: sparse cross-entropy
    on logits; metric: accuracy. Return (model, callbacks + [the scheduler]).
    """

    def halve_every_ten_epochs(epoch):
        return initial_lr * 0.5 ** (epoch // 10)

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=initial_lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, [*callbacks, keras.callbacks.LearningRateScheduler(halve_every_ten_epochs)]


# %%
checks.check_step_decay_training(step_decay)

# %% [markdown]
# ## 5. Training with both schedules

# %%
for name, learner in (("exponential", exponential_decay), ("step", step_decay)):
    model, callbacks = learner(fresh_convnet(), [LearningRateLogger()], INITIAL_LR)
    histories[name] = train(model, callbacks)

# %%
fig = display_metrics(histories["exponential"], title="Exponential decay (halving every 220 steps)")
savefig(fig, "07_metrics_exponential")
plt.show()

# %% [markdown]
# The exponential schedule's rate panel is a straight line on the log scale, from 10⁻³ down
# by a factor 0.5^2.9 ≈ 0.13 at the start of the last epoch.

# %%
fig = display_metrics(histories["step"], title="Step decay (halving every 10 epochs)")
savefig(fig, "07_metrics_step")
plt.show()

# %% [markdown]
# The step schedule's rate panel is a staircase: the rate halves at the start of epochs 11 and
# 21 (Keras's epochs 10 and 20, counted from 0).
#
# ## 6. Comparison

# %%
print(f"{'run':<12} {'final val acc':>13} {'best val acc (epoch)':>21} {'final lr':>10}")
for name, history in histories.items():
    val_accuracy = np.array(history.history["val_accuracy"])
    best = int(np.argmax(val_accuracy))
    print(
        f"{name:<12} {val_accuracy[-1]:>13.4f} {val_accuracy[best]:>14.4f} ({best + 1:>2d})"
        f"   {history.history['lr'][-1]:>10.3e}"
    )
print(f"one validation image is {1 / data.num_validation:.2%} of the validation accuracy")

# %%
fig, (rate_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(12, 4))
epochs = np.arange(1, EPOCHS + 1)
for name, history in histories.items():
    rate_ax.plot(epochs, history.history["lr"], marker="o", ms=3, label=name)
    accuracy_ax.plot(epochs, history.history["val_accuracy"], marker="o", ms=3, label=name)
rate_ax.set_yscale("log")
rate_ax.set_ylabel("learning rate (logged per epoch)")
rate_ax.set_title("Learning rate")
accuracy_ax.set_ylabel("validation accuracy")
accuracy_ax.set_title("Validation accuracy")
for ax in (rate_ax, accuracy_ax):
    ax.set_xlabel("epoch")
    ax.legend()
fig.suptitle("Constant, exponential and step decay from the same initial weights")
fig.tight_layout()
savefig(fig, "07_schedules_compared")
plt.show()

# %% [markdown]
# The left panel shows the rates the three runs actually used (read by `LearningRateLogger`),
# the right one their validation accuracy epoch by epoch.
#
# Here the constant rate ends highest and the exponential decay lowest (the table above). At
# η₀ = 10⁻³ the network is still improving when the step schedule first halves the rate, so
# both decays mainly slow it down, and the exponential one, which lowers the rate from the
# first step, falls furthest behind. Decay is meant for the phase where a constant rate has
# stalled on a noisy plateau; whether a run has reached it is something to measure, not to
# assume. The validation split is small, so differences of a few points are a handful of
# images and can change with the seed:
# `python -m lrlab.train --schedule constant exponential step --seeds 3` repeats the three runs
# over seeds 0, 1, 2 and writes the table to `results/results.csv`.
#
# ## 7. A schedule object and `LearningRateScheduler` do not mix
#
# In Keras 2, adding a `LearningRateScheduler` to a model whose optimizer was built on a
# schedule object silently did nothing. Keras 3 refuses: the scheduler sets
# `optimizer.learning_rate` at the start of the first epoch, and that rate is not settable.

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
model, callbacks = exponential_decay(fresh_convnet(), [], INITIAL_LR)
callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch: INITIAL_LR))
train(model, callbacks, epochs=1)

# %% [markdown]
# Choose one: a schedule object (per step, no callback) or a float rate with a callback that
# changes it (per epoch). `ReduceLROnPlateau` raises the same `TypeError`.
#
# ## Summary
#
# - Compile a network that outputs logits with `from_logits=True`; with `from_logits=False`
#   the clip zeroes the gradients and this network got stuck at loss log 43.
# - `ExponentialDecay(decay_steps=...)` counts optimizer steps: multiply epochs by the steps
#   per epoch.
# - In Keras 3 read the rate with `float(optimizer.learning_rate)`; `LearningRateLogger`
#   records it per epoch in `history.history["lr"]`.
# - Per-step schedules and per-epoch callbacks are two separate mechanisms; Keras 3 raises a
#   `TypeError` when they are combined.
