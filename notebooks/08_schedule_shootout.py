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
# # 08 · Schedule shoot-out
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/08_schedule_shootout.ipynb)
#
# The course ended with a wish: *compare the schedules' performance and their effect on
# the model's accuracy*. This lesson does it fairly, and on the way repairs the PyTorch
# walkthrough that tried:
#
# 1. `ReduceLROnPlateau` in Keras and in PyTorch: the same name, two different rules
#    (how patience is counted, what counts as an improvement, what cooldown shields),
#    written as small pure functions (`lrlab.plateau`) and run side by side;
# 2. the walkthrough's three traps: `scheduler.step()` before `optimizer.step()`,
#    `get_lr()` read instead of `get_last_lr()`, and a plateau schedule fed a stale
#    metric on a reused optimizer; the right way in Keras and in PyTorch;
# 3. the shoot-out: the lessons' ConvNet, the same data and the same budget of epochs
#    for nine schedules (constant, exponential and step decay, cosine, warm-up + cosine,
#    triangular2, one-cycle, `ReduceLROnPlateau`, warmup-stable-decay) and one control,
#    three seeds each; a table of final and best validation accuracy (mean and standard
#    deviation), test accuracy and time to a target accuracy, the validation curves, the
#    rate curves, and a conclusion computed from those numbers and no further;
# 4. an exercise: Keras's plateau rule.
#
# It assumes lessons 01 to 07 (schedules, one-cycle, the range test, the course's
# exercise). The schedules come from the registry of `python -m lrlab.train`, so every run
# here can be repeated from the shell.

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
import os
import shlex
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lrlab import checks, notebook
from lrlab.callbacks import LearningRateLogger, current_learning_rate
from lrlab.data import load_gtsrb
from lrlab.finder import find_lr
from lrlab.models import build_convnet, compile_classifier
from lrlab.paths import default_data_dir, project_root
from lrlab.plateau import keras_reduce_on_plateau, torch_reduce_on_plateau
from lrlab.plotting import learning_rate_curve, savefig
from lrlab.train import SCHEDULES, fit_schedule

notebook.setup(seed=0)

# %% [markdown]
# ## 0. Parameters
#
# The next cell (tagged `parameters`, so papermill can set it) chooses the data, the
# budget and the seeds. The data folder is, in this order: the environment variable
# `LRLAB_SHOOTOUT_DATA` (for instance the full GTSRB, the official archives unpacked, which
# `lrlab.data` reads as they are); else `gtsrb-small` beside the checkout
# (`../shared/data/gtsrb-small`: 4300 training images, 100 per class, and 1290 test images
# from held-out tracks); else the tiny subset of every lesson (`data/gtsrb-tiny`).
# A relative folder is read from the repository's root.
# `LRLAB_SHOOTOUT_EPOCHS` and `LRLAB_SHOOTOUT_SEEDS` set the budget. The outputs stored in
# this notebook were produced on gtsrb-small with
#
# ```bash
# LRLAB_SHOOTOUT_DATA=../shared/data/gtsrb-small .venv/bin/jupyter nbconvert --to notebook \
#     --execute --inplace --ExecutePreprocessor.timeout=3600 notebooks/08_schedule_shootout.ipynb
# ```
#
# `make test` runs it on the tiny subset with fewer epochs: every cell whose numbers come
# from training is marked `# NBVAL_IGNORE_OUTPUT`; the cells that are checked print the
# same on any data.

# %% tags=["parameters"]
gtsrb_small = project_root().parent / "shared" / "data" / "gtsrb-small"
data_dir = os.environ.get("LRLAB_SHOOTOUT_DATA") or (
    str(gtsrb_small) if gtsrb_small.is_dir() else None  # None: the tiny subset, data/gtsrb-tiny
)
epochs = int(os.environ.get("LRLAB_SHOOTOUT_EPOCHS", "12"))
seeds = int(os.environ.get("LRLAB_SHOOTOUT_SEEDS", "3"))
learning_rate = 1e-3  # Adam's usual rate: the constant rate and the peak of every other schedule
batch_size = 32

# %% [markdown]
# The validation images are split off the training folder **by track**
# (`group_by_track=True`). GTSRB filmed each physical sign as a track of about 30 frames
# a fraction of a second apart: frames of one track are near duplicates. A random split
# puts frames of the same sign on both sides, and validation accuracy then measures
# recognition of signs the model has already seen: it reads optimistic, and it cannot
# tell schedules apart honestly. Split by track, no sign is on both sides, like the test
# set, which comes from held-out tracks.

# %%
# NBVAL_IGNORE_OUTPUT
data_dir = project_root() / data_dir if data_dir else default_data_dir()  # relative: to the root
data = load_gtsrb(data_dir, batch_size=batch_size, seed=0, group_by_track=True)
steps_per_epoch = math.ceil(data.num_train / batch_size)
print(data.summary())
print(f"budget: {epochs} epochs of {steps_per_epoch} steps, {seeds} seeds, "
      f"{len(SCHEDULES)} schedules and one control")

# %% [markdown]
# ## 1. `ReduceLROnPlateau`: one name, two rules
#
# Both libraries multiply the rate by `factor` when a monitored metric stops improving.
# Read their sources (`keras/src/callbacks/reduce_lr_on_plateau.py`,
# `torch/optim/lr_scheduler.py`) and they count differently:
#
# | | Keras | PyTorch |
# | --- | --- | --- |
# | an improvement (mode max) | m − min_delta > best | m > best · (1 + threshold) |
# | min_delta / threshold | absolute, default 1e-4 | relative, default 1e-4 (or `"abs"`) |
# | reduce when | `wait >= patience` | `num_bad_epochs > patience` |
# | so `patience=1` reduces after | one bad epoch | two bad epochs in a row |
# | `cooldown=c` shields | c − 1 epochs | c epochs |
# | at `min_lr` | stops reducing | max(rate · factor, min_lr), skipped if the change ≤ 1e-8 |
#
# (Keras counts its cooldown down *before* it judges the epoch, so `cooldown=1` shields
# nothing.)
#
# `lrlab.plateau` holds both rules as pure functions of the metric sequence. Each is
# tested against its library: the Keras rule against the real `keras.callbacks.ReduceLROnPlateau`,
# the PyTorch rule against values recorded from PyTorch 2.13 (`tools/reference_torch_plateau.py`).
# Here they get the same hand-made validation accuracy and the walkthrough's settings:
# mode `"max"`, `factor=0.5`, `patience=1`.

# %%
validation_accuracy = [0.40, 0.55, 0.63, 0.61, 0.66, 0.66, 0.65, 0.68, 0.67, 0.69, 0.69, 0.68]
walkthrough = {"mode": "max", "factor": 0.5, "patience": 1}
keras_rule = keras_reduce_on_plateau(validation_accuracy, 0.01, **walkthrough)
torch_rule = torch_reduce_on_plateau(validation_accuracy, 0.01, **walkthrough)

print("epoch  val_acc  best so far  rate of the next epoch: Keras      PyTorch")
best_so_far = np.maximum.accumulate(validation_accuracy)
for epoch, (value, best) in enumerate(zip(validation_accuracy, best_so_far, strict=True), 1):
    keras_mark = "v" if epoch in keras_rule.reductions else " "
    torch_mark = "v" if epoch in torch_rule.reductions else " "
    keras_rate, torch_rate = keras_rule.learning_rates[epoch], torch_rule.learning_rates[epoch]
    print(
        f"{epoch:>5}  {value:7.2f}  {best:11.2f}  {keras_rate:27.6f} {keras_mark}"
        f"  {torch_rate:.6f} {torch_mark}"
    )
print(f"Keras reduces after epochs {list(keras_rule.reductions)}")
print(f"PyTorch reduces after epochs {list(torch_rule.reductions)}")
for cooldown in (1, 2):
    cooled = {**walkthrough, "cooldown": cooldown}
    keras_cooled = keras_reduce_on_plateau(validation_accuracy, 0.01, **cooled)
    torch_cooled = torch_reduce_on_plateau(validation_accuracy, 0.01, **cooled)
    print(
        f"cooldown={cooldown}: Keras {list(keras_cooled.reductions)}, "
        f"PyTorch {list(torch_cooled.reductions)}"
    )

# %% [markdown]
# `v` marks an epoch after which the rate was halved. With the same `patience=1`, Keras
# halves after every epoch that fails to beat the best so far (six times here), PyTorch only
# after two such epochs in a row (twice). With `cooldown=1` Keras does exactly what it did
# without cooldown. To get PyTorch's behaviour in Keras, use `patience` one larger.

# %%
fig, (metric_ax, rate_ax) = plt.subplots(1, 2, figsize=(12, 3.8))
epochs_axis = np.arange(1, len(validation_accuracy) + 1)
metric_ax.plot(epochs_axis, validation_accuracy, "o-", label="validation accuracy")
metric_ax.plot(epochs_axis, best_so_far, "--", color="0.5", label="best so far")
metric_ax.set_xlabel("epoch")
metric_ax.set_ylabel("validation accuracy")
metric_ax.set_title("A hand-made validation accuracy")
metric_ax.legend()
rate_epochs = np.arange(1, len(validation_accuracy) + 2)
for rule, name, style in ((keras_rule, "Keras", "o-"), (torch_rule, "PyTorch", "s--")):
    rate_ax.step(rate_epochs, rule.learning_rates, style, where="post", ms=4, label=name)
rate_ax.set_yscale("log")
rate_ax.set_xlabel("epoch")
rate_ax.set_ylabel("learning rate used in the epoch")
rate_ax.set_title("ReduceLROnPlateau(mode='max', factor=0.5, patience=1)")
rate_ax.legend()
fig.tight_layout()
savefig(fig, "08_plateau_keras_vs_torch")
plt.show()

# %% [markdown]
# Fed the same metric, Keras's rule (circles) halves the rate six times and ends 64 times
# lower; PyTorch's (squares) halves it twice.

# %% [markdown]
# ## 2. The walkthrough's three traps
#
# **Trap 1: `scheduler.step()` before `optimizer.step()`.** Since PyTorch 1.1 a scheduler
# is stepped *after* the optimizer. Called first, it moves the schedule one step ahead
# before the first update is made, so the schedule's first value is skipped. With
# `StepLR(step_size=2, gamma=0.1)` from 0.1, six epochs train at
# 0.1, 0.01, 0.01, 0.001, 0.001, 0.0001 instead of 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, and
# PyTorch warns "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
# (values recorded from PyTorch 2.13 by `tools/reference_torch_plateau.py`, checked in
# `tests/test_plateau.py`).
#
# **Trap 2: `get_lr()` instead of `get_last_lr()`.** `get_lr()` is the method a scheduler
# uses *inside* `step()` to compute the next rate from the current one. Called from
# outside, it applies the step again: after the second `step()` of the `StepLR` above it
# reports 0.001 while the optimizer uses 0.01 (PyTorch warns "To get the last learning rate
# computed by the scheduler, please use `get_last_lr()`"). The rate in use is
# `scheduler.get_last_lr()[0]`, the same as `optimizer.param_groups[0]["lr"]`.
#
# **Trap 3: a plateau schedule fed a stale metric, on a reused optimizer.** The
# walkthrough measured accuracy only every 500 iterations, with 235 iterations per epoch,
# and passed the last measured value to `ReduceLROnPlateau` at the end of each epoch; and
# it reused the optimizer of an earlier cell, whose rate had already been lowered. A value
# repeated from an earlier epoch never improves on the best, so every repetition counts as
# a bad epoch, and the rate fell to 6.6e-8 while the printed accuracy sat at 88.74 for five
# epochs. The right loop in PyTorch: a fresh model and optimizer per experiment, the metric
# computed on the whole validation set every epoch, the scheduler stepped once per epoch
# after the optimizer, and the rate read with `get_last_lr()`:
#
# ```python
# model = build_model()                                  # fresh for every experiment
# optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
# scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
#     optimizer, mode="max", factor=0.5, patience=1)
# for epoch in range(epochs):
#     model.train()
#     for images, labels in train_loader:
#         optimizer.zero_grad()
#         loss_fn(model(images), labels).backward()
#         optimizer.step()           # a per-batch scheduler (OneCycleLR) steps here, after it
#     val_accuracy = evaluate(model, val_loader)        # every epoch, the whole validation set
#     scheduler.step(val_accuracy)   # after the epoch's optimizer steps (StepLR: step() alone)
#     print(epoch + 1, val_accuracy, scheduler.get_last_lr()[0])
# ```
#
# Below, a made-up accuracy curve that improves at every iteration shows the mechanism with
# the PyTorch rule: measured every epoch, the metric never plateaus and the rate stays; read
# from a measurement every 500 iterations, with the earlier run's 0.8874 standing in until
# the first measurement, the same training looks stuck and the rate is cut again and again.

# %%
iterations_per_epoch, measure_every, num_epochs = 235, 500, 12
earlier_run_accuracy = 0.8874  # what the reused variable held before the first measurement


def true_accuracy(iteration):
    """A made-up accuracy that rises at every iteration, from 0.3 towards 0.95."""
    return 0.95 - 0.65 * math.exp(-iteration / 1500)


fresh = [true_accuracy(epoch * iterations_per_epoch) for epoch in range(1, num_epochs + 1)]
stale = []
for epoch in range(1, num_epochs + 1):
    last_measured = (epoch * iterations_per_epoch // measure_every) * measure_every
    stale.append(true_accuracy(last_measured) if last_measured else earlier_run_accuracy)

fresh_rule = torch_reduce_on_plateau(fresh, 1e-3, **walkthrough)
stale_rule = torch_reduce_on_plateau(stale, 1e-3, **walkthrough)
print("epoch  measured every epoch  every 500 iterations   rate after the epoch: fresh   stale")
for epoch in range(1, num_epochs + 1):
    print(
        f"{epoch:>5}  {fresh[epoch - 1]:20.4f}  {stale[epoch - 1]:20.4f}"
        f"  {fresh_rule.learning_rates[epoch]:27.2e}  {stale_rule.learning_rates[epoch]:.2e}"
    )
print(f"fresh metric: {len(fresh_rule.reductions)} reductions; stale metric: "
      f"{len(stale_rule.reductions)} reductions, after epochs {list(stale_rule.reductions)}")
reused = torch_reduce_on_plateau(stale, stale_rule.learning_rates[-1], **walkthrough)
print(f"the same loop again on the reused optimizer: from {reused.learning_rates[0]:.2e} "
      f"down to {reused.learning_rates[-1]:.2e}")

# %% [markdown]
# The stale metric repeats a value every other epoch and starts with a number from another
# run, so the rule sees plateaus that training never had; a second run on the same
# optimizer starts where the first one stopped and goes lower still.
#
# **In Keras** the three traps cannot happen the same way: `fit` calls the callbacks in
# order (a `LearningRateScheduler` sets the rate at the start of each epoch, before its
# first batch; `ReduceLROnPlateau` acts at the end of each epoch, after validation);
# `float(model.optimizer.learning_rate)` (`lrlab.callbacks.current_learning_rate`) is the
# rate of the next update; `ReduceLROnPlateau(monitor="val_accuracy")` reads the metric
# that `fit` computed on the whole validation set that same epoch. What is left to you is
# a fresh model and optimizer for each experiment, which the shoot-out below does. The
# course's step decay from the `lrlab.train` registry shows the first two points: twelve
# epochs of one batch each.

# %%
notebook.setup(seed=0)
rate, step_callbacks = SCHEDULES["step"](learning_rate, 1, 12)
model = compile_classifier(build_convnet(), keras.optimizers.Adam(rate))
step_history = model.fit(
    data.train.take(1),
    epochs=12,
    shuffle=False,
    callbacks=[*step_callbacks, LearningRateLogger()],
    verbose=0,
)
step_rates = step_history.history["lr"]
print("rate of each epoch:", " ".join(f"{r:.4g}" for r in step_rates))
print("epoch 1 trains at the schedule's first value:",
      step_rates[0] == float(np.float32(learning_rate)))
print("the rate halves after epoch 10:", step_rates[10] == float(np.float32(learning_rate / 2)))
print("the optimizer's rate is the last epoch's rate:",
      current_learning_rate(model.optimizer) == step_rates[-1])

# %% [markdown]
# ## 3. The shoot-out
#
# Every run: a fresh `build_convnet()` with Adam, seeded by `notebook.setup(seed)` (the
# weights) and a fresh `load_gtsrb(seed=seed)` (the split and the order of the batches), the
# same number of epochs, and its schedule's builder from `lrlab.train.SCHEDULES`. The runs
# of one seed thus differ in their schedule only: same initial weights, same batches in the
# same order.
#
#
# - `constant`: 1e-3 throughout;
# - `exponential`, `step`: halve the rate every 10 epochs, smoothly or at once (so with 10
#   epochs or fewer `step` never fires and is the constant rate; with the 12 epochs stored
#   here it halves once, after epoch 10);
# - `cosine`: cosine decay to 0 over the run; `warmup_cosine`: the same after a linear
#   warm-up over the first 10% of the steps;
# - `triangular2`: cycles between 1e-4 and 1e-3, half-cycles of 5 epochs, height halved
#   every cycle;
# - `one_cycle`: up over 30% of the steps, then down; its peak comes from the range test of
#   lesson 06, run once here on seed 0's data;
# - `plateau`: `ReduceLROnPlateau` on validation accuracy (mode max, factor 0.5, patience 1,
#   as the walkthrough);
# - `wsd`: warmup-stable-decay, 10% warm-up, decay to 0 over the last 20%;
# - and a control, `constant_at_peak`: the constant rate at one-cycle's peak. One-cycle is
#   the only schedule whose peak comes from the range test; without this control a lead of
#   one-cycle could not be told apart from the effect of its higher rate.

# %%
# NBVAL_IGNORE_OUTPUT
notebook.setup(seed=0)
started = time.perf_counter()
probe = compile_classifier(build_convnet(), keras.optimizers.Adam(learning_rate))
range_test = find_lr(probe, data.train, start_lr=1e-6, end_lr=1.0, num_steps=100)
range_test_seconds = time.perf_counter() - started
one_cycle_maximum = float(f"{range_test.suggest('valley'):.1g}")  # one significant digit
print(f"range test: {range_test.learning_rates.size} steps in {range_test_seconds:.1f} s, "
      f"stopped: {range_test.stop_reason}")
print(f"valley suggestion {range_test.suggest('valley'):.2e}: "
      f"one-cycle peaks at {one_cycle_maximum:g}")
fig = range_test.plot(suggestions=["valley"], title="Range test of the ConvNet with Adam (seed 0)")
savefig(fig, "08_range_test")
plt.show()

# %% [markdown]
# The range test's loss curve with its valley suggestion, which becomes the peak of
# one-cycle (the other schedules peak at 1e-3). Its cost, printed above, is part of
# one-cycle's real budget.

# %%
# NBVAL_IGNORE_OUTPUT
class EpochClock(keras.callbacks.Callback):
    """Write the seconds since the start of ``fit`` into the logs of every epoch ("seconds")."""

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = time.perf_counter() - self.started


def run_schedule(name, seed, peak_rate):
    """One run, exactly as `python -m lrlab.train` makes it (`lrlab.train.fit_schedule`)."""
    run = fit_schedule(
        name, seed, data_dir, epochs, peak_rate, batch_size=batch_size, group_by_track=True,
        callbacks=[EpochClock()],
    )
    return {
        "logs": run.history.history,
        "test_accuracy": run.model.evaluate(run.data.test, verbose=0, return_dict=True)["accuracy"],
        "rate": run.learning_rate,
        "callbacks": run.schedule_callbacks,
        "steps_per_epoch": run.steps_per_epoch,
    }


# table row -> (schedule in SCHEDULES, its peak rate)
variants = {name: (name, learning_rate) for name in SCHEDULES}
variants["one_cycle"] = ("one_cycle", one_cycle_maximum)
variants["constant_at_peak"] = ("constant", one_cycle_maximum)  # the control
names = list(variants)
runs = {}  # (row, seed) -> what the run produced
for seed in range(seeds):
    seed_started = time.perf_counter()
    for name, (schedule_name, peak_rate) in variants.items():
        runs[name, seed] = run_schedule(schedule_name, seed, peak_rate)
    seed_seconds = time.perf_counter() - seed_started
    print(f"seed {seed}: {len(variants)} runs of {epochs} epochs in {seed_seconds:.0f} s")

# %% [markdown]
# ### Results
#
# For every schedule, over the seeds: the validation accuracy after the last epoch (final)
# and at its best epoch (best), as mean and sample standard deviation; the test accuracy of
# the final model; and the time to a target, the first epoch whose validation accuracy
# reaches 90% of the constant rate's mean best (epochs, and wall-clock seconds of training
# plus validation up to that epoch; they depend on the machine and on what else runs on
# it), averaged over the seeds that reached it.

# %%
# NBVAL_IGNORE_OUTPUT
def seed_values(name, metric):
    """The value of ``metric`` for every seed of schedule ``name``."""
    return np.array([metric(runs[name, seed]) for seed in range(seeds)])


def final_validation(run):
    return run["logs"]["val_accuracy"][-1]


def best_validation(run):
    return max(run["logs"]["val_accuracy"])


def test_accuracy(run):
    return run["test_accuracy"]


def first_epoch_at(values, level):
    """The first epoch (from 1) whose value reaches ``level``, else None."""
    return next((epoch for epoch, value in enumerate(values, start=1) if value >= level), None)


target = math.floor(90 * seed_values("constant", best_validation).mean()) / 100
rows = []
for name in names:
    columns = {"schedule": name}
    for label, metric in (("final val", final_validation), ("best val", best_validation),
                          ("test", test_accuracy)):
        values = seed_values(name, metric)
        columns[f"{label} mean"] = values.mean()
        columns[f"{label} std"] = values.std(ddof=1) if seeds > 1 else math.nan
    reached = []  # (epoch, seconds) of every seed that reached the target
    for seed in range(seeds):
        logs = runs[name, seed]["logs"]
        epoch = first_epoch_at(logs["val_accuracy"], target)
        if epoch is not None:
            reached.append((epoch, logs["seconds"][epoch - 1]))
    columns["seeds at target"] = len(reached)
    columns["epochs to target"] = np.mean([e for e, _ in reached]) if reached else math.nan
    columns["seconds to target"] = np.mean([s for _, s in reached]) if reached else math.nan
    columns["seconds per run"] = seed_values(name, lambda run: run["logs"]["seconds"][-1]).mean()
    rows.append(columns)
table = pd.DataFrame(rows).set_index("schedule")

shown = pd.DataFrame(
    {
        **{
            f"{label} acc": [f"{m:.3f} ± {s:.3f}" for m, s in
                             zip(table[f"{label} mean"], table[f"{label} std"], strict=True)]
            for label in ("final val", "best val", "test")
        },
        "at target": [f"{count}/{seeds}" for count in table["seeds at target"]],
        "epochs": table["epochs to target"].map("{:.1f}".format),
        "seconds": table["seconds to target"].map("{:.1f}".format),
        "s/run": table["seconds per run"].map("{:.0f}".format),
    },
    index=table.index,
)
print(f"{data.source}: {epochs} epochs, {seeds} seeds (mean ± std); "
      f"target: validation accuracy {target:.2f}")
print(shown.to_string())

# %%
# NBVAL_IGNORE_OUTPUT
epoch_axis = np.arange(1, epochs + 1)
curves = {name: np.array([runs[name, seed]["logs"]["val_accuracy"] for seed in range(seeds)])
          for name in names}
fig, axes = plt.subplots(2, 5, figsize=(19, 7.5), sharex=True, sharey=True)
for ax, name in zip(axes.ravel(), names, strict=True):
    constant_mean = curves["constant"].mean(axis=0)
    ax.plot(epoch_axis, constant_mean, "--", color="0.55", label="constant rate, mean")
    ax.fill_between(epoch_axis, curves[name].min(axis=0), curves[name].max(axis=0), alpha=0.25,
                    color="C0", label="this schedule, worst to best seed")
    ax.plot(epoch_axis, curves[name].mean(axis=0), color="C0", label="this schedule, mean")
    ax.axhline(target, color="C3", lw=0.8, ls=":", label=f"target {target:.2f}")
    ax.set_title(name)
for ax in axes[-1]:
    ax.set_xlabel("epoch")
for ax in axes[:, 0]:
    ax.set_ylabel("validation accuracy")
axes[0, 0].legend(loc="lower right")
fig.suptitle(f"Validation accuracy of each schedule over {seeds} seeds; {data.source}")
fig.tight_layout()
savefig(fig, "08_validation_curves")
plt.show()

# %% [markdown]
# Each panel is one schedule: its mean validation accuracy over the seeds (blue), the
# range between its worst and best seed (shaded), the constant rate's mean for reference
# (grey dashes) and the target (red dots).

# %% [markdown]
# The rate curves are those the runs used: a schedule object is evaluated at every step
# (`lrlab.plotting.learning_rate_curve`); a callback (`step`, `plateau`) sets one rate per
# epoch, kept for that epoch's steps. The next cell checks both against what
# `LearningRateLogger` logged during training at each epoch's first step.

# %%
def rates_of_run(run):
    """The rate of every step of a run: its schedule evaluated, or its logged epoch rates held."""
    steps = run["steps_per_epoch"] * epochs
    if isinstance(run["rate"], keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate_curve(run["rate"], steps)
    return np.repeat(run["logs"]["lr"], run["steps_per_epoch"])


logged_match = all(
    np.allclose(rates_of_run(runs[name, seed])[:: runs[name, seed]["steps_per_epoch"]],
                runs[name, seed]["logs"]["lr"], rtol=1e-6)
    for name in names for seed in range(seeds)
)
print("every run's logged epoch rates equal its curve at each epoch's first step:", logged_match)

# %%
# NBVAL_IGNORE_OUTPUT
fig, axes = plt.subplots(2, 5, figsize=(19, 7), sharex=True)
for ax, name in zip(axes.ravel(), names, strict=True):
    seed_rates = rates_of_run(runs[name, 0])
    ax.plot(np.arange(seed_rates.size) / runs[name, 0]["steps_per_epoch"], seed_rates)
    ax.set_ylim(0, 1.1 * seed_rates.max())
    ax.set_title(f"{name} (peak {seed_rates.max():.1e})")
for ax in axes[-1]:
    ax.set_xlabel("epoch")
for ax in axes[:, 0]:
    ax.set_ylabel("learning rate")
fig.suptitle("The learning rate of every step, seed 0 (each panel on its own scale)")
fig.tight_layout()
savefig(fig, "08_learning_rate_curves")
plt.show()

# %% [markdown]
# Each panel is the rate of every step of one schedule's seed-0 run, from 0 to 1.1 times
# its peak (one-cycle peaks higher than the others): `plateau` follows what that seed's
# validation accuracy did, the others are fixed before training starts.

# %% [markdown]
# ### `ReduceLROnPlateau` reduced at the right epochs
#
# Each `plateau` run logged its validation accuracy and, with `LearningRateLogger`, the
# rate of each epoch. Feeding the logged accuracy to the Keras rule of section 1, with the
# callback's own settings, must give back exactly the logged rates: a fresh optimizer, a
# metric computed every epoch, reductions where the rule says.

# %%
matches, fresh_starts = [], []
for seed in range(seeds):
    logs = runs["plateau", seed]["logs"]
    fresh_starts.append(logs["lr"][0] == float(np.float32(learning_rate)))
    (callback,) = runs["plateau", seed]["callbacks"]
    predicted = keras_reduce_on_plateau(
        logs["val_accuracy"],
        logs["lr"][0],
        mode=callback.mode,
        factor=callback.factor,
        patience=callback.patience,
        min_delta=abs(callback.min_delta),
        cooldown=callback.cooldown,
        min_lr=callback.min_lr,
    )
    matches.append(np.array_equal(predicted.learning_rates[:-1], logs["lr"]))
print("every plateau run starts at the full rate (a fresh optimizer):", all(fresh_starts))
print("reductions at the epochs the rule predicts:", all(matches))

# %%
# NBVAL_IGNORE_OUTPUT
for seed in range(seeds):
    logs = runs["plateau", seed]["logs"]
    reductions = [epoch for epoch in range(1, epochs) if logs["lr"][epoch] < logs["lr"][epoch - 1]]
    print(f"seed {seed}: rate halved after epochs {reductions}, final rate {logs['lr'][-1]:.2e}")

# %% [markdown]
# ### What the numbers support
#
# The next cell names the schedule with the highest mean final validation accuracy and
# asks whether its lead over the constant rate is larger than the spread between seeds
# (the larger of the two standard deviations), whether one-cycle beats the control (the
# constant rate at one-cycle's peak) by more than that spread, and whether the leader also
# leads on the test set. With three seeds, a lead smaller than the spread is no evidence
# of a better schedule. The runs of one seed share their initial weights and batches, so
# one-cycle and the control are also compared seed by seed.

# %%
# NBVAL_IGNORE_OUTPUT
final_mean, final_std = table["final val mean"], table["final val std"]


def lead_over(name, reference):
    """(mean final validation accuracy of name minus reference, the larger std, lead > std)."""
    difference = final_mean[name] - final_mean[reference]
    spread = max(final_std[name], final_std[reference])
    return difference, spread, bool(difference > spread)


schedules_only = [name for name in names if name != "constant_at_peak"]
leader = final_mean[schedules_only].idxmax()
lead, spread, clear_lead = lead_over(leader, "constant")
print(f"highest mean final validation accuracy: {leader} "
      f"{final_mean[leader]:.3f} ± {final_std[leader]:.3f}; constant "
      f"{final_mean['constant']:.3f} ± {final_std['constant']:.3f}")
print(f"lead over constant {lead:+.3f}, larger than the larger std {spread:.3f}: {clear_lead}")
behind = [name for name in schedules_only if lead_over(leader, name)[2]]
print(f"schedules behind {leader} by more than the larger std: {behind}")
control_lead, control_spread, beats_control = lead_over("one_cycle", "constant_at_peak")
print(f"one_cycle minus the constant rate at its peak {one_cycle_maximum:g}: {control_lead:+.3f}, "
      f"larger than the larger std {control_spread:.3f}: {beats_control}")
one_cycle_finals = seed_values("one_cycle", final_validation)
control_finals = seed_values("constant_at_peak", final_validation)
ahead = int(np.sum(one_cycle_finals > control_finals))
print("final validation accuracy per seed: one_cycle",
      " ".join(f"{value:.3f}" for value in one_cycle_finals), "| constant_at_peak",
      " ".join(f"{value:.3f}" for value in control_finals),
      f"| one_cycle ahead on {ahead} of {seeds} seeds")
test_leader = table["test mean"][schedules_only].idxmax()
print(f"highest mean test accuracy: {test_leader} ({table['test mean'][test_leader]:.3f}); "
      f"the same schedule: {test_leader == leader}")

if not clear_lead:
    verdict = "no schedule beat the constant rate by more than the seed-to-seed spread."
elif leader != "one_cycle":
    verdict = f"{leader} beat the constant rate by more than the seed-to-seed spread."
elif beats_control:
    verdict = ("one_cycle beat the constant rate by more than the seed-to-seed spread, and a "
               "constant rate at its own peak as well: its shape mattered, not only its rate.")
else:
    verdict = ("one_cycle beat the constant rate by more than the seed-to-seed spread; its lead "
               "over a constant rate at its own peak is within that spread (it is ahead on "
               f"{ahead} of {seeds} seeds), so these seeds do not separate the effect of its "
               "shape from that of its higher rate.")
print(f"Conclusion: on this data and budget, {verdict}")

# %% [markdown]
# Read the verdict above rather than the ranking: the order of schedules whose means lie
# within one standard deviation of each other changes with the seeds, the data and the
# budget. What does carry over is the method: the same model, data, budget and seeds for
# every schedule, several seeds, validation split by track, a control for what differs
# besides the schedule, the test set looked at once at the end, and a claim no stronger
# than the spread allows.
#
# ### The same runs from the shell
#
# `python -m lrlab.train` builds its schedules from the same `SCHEDULES` registry, trains the
# same ConvNet with Adam, seeds each run the same way and writes one row per run to
# `results.csv` (final and best validation accuracy, test accuracy, seconds). The two commands
# for this table, from the repository's root (the second runs one-cycle and the control at
# one-cycle's peak):

# %%
# NBVAL_IGNORE_OUTPUT
command = ["python", "-m", "lrlab.train", "-d", os.path.relpath(data_dir, project_root()),
           "-e", str(epochs), "--seeds", str(seeds), "--group-by-track", "--quiet"]
others = [name for name in SCHEDULES if name != "one_cycle"]
print(shlex.join([*command, "--schedule", *others, "--learning-rate", f"{learning_rate:g}",
                  "--output-dir", "results/08_shootout"]))
print(shlex.join([*command, "--schedule", "one_cycle", "constant",
                  "--learning-rate", f"{one_cycle_maximum:g}", "--output-dir", "results/08_shootout_peak"]))

# %% [markdown]
# `run_schedule` above does for one run what the shell command does (the same seeding, data
# split, batch order, model, optimizer and builder), so on the same machine `results.csv`
# holds the same accuracies as the runs of this table.
#
# ## 4. Exercise: Keras's plateau rule
#
# Write `plateau_reductions(metric_values, patience, min_delta)`: the epochs (counted from
# 1) at whose end Keras's `ReduceLROnPlateau(mode="max", cooldown=0)` lowers the rate. The
# first epoch sets the best value; an epoch improves when `value - min_delta > best`
# (then it becomes the best and the waiting count goes back to 0); otherwise the waiting
# count grows by one, and when it reaches `patience` the rate is lowered and the count
# starts again from 0.

# %% tags=["solution"]
def plateau_reductions(metric_values, patience, min_delta):
    """Epochs (from 1) after which Keras's ReduceLROnPlateau(mode="max") lowers the rate."""
    best = None
    wait = 0
    reductions = []
    for epoch, value in enumerate(metric_values, start=1):
        if best is None or value - min_delta > best:
            best = value
            wait = 0
        else:
            wait += 1
            if wait >= patience:
                reductions.append(epoch)
                wait = 0
    return reductions


# %%
checks.check_plateau_reductions(plateau_reductions)

# %% [markdown]
# ## What to take away
#
# - `ReduceLROnPlateau` is not one rule: Keras's `patience=p` is PyTorch's `patience=p-1`,
#   Keras's `min_delta` is absolute where PyTorch's `threshold` is relative, and Keras's
#   `cooldown=1` shields nothing. Check the rule of the library you use.
# - A scheduler needs the right order (optimizer step first), the right read-out
#   (`get_last_lr()`, or `float(model.optimizer.learning_rate)` in Keras), a metric measured
#   every epoch, and a fresh optimizer for every experiment.
# - A comparison of schedules needs the same model, data, budget and seeds for each, a
#   control for anything else that differs (one-cycle's peak rate), and a conclusion no
#   stronger than the spread between seeds: the verdict printed above.
