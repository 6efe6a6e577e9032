# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Custom schedules
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/03_custom_schedules.ipynb)
#
# Keras offers two ways to give a learning rate a shape of your own: a Python function of
# the **epoch**, applied by the `LearningRateScheduler` callback, and a schedule **object**,
# a function of the **step** that the optimizer evaluates before every update. This lesson
# shows both and when to use which, builds the schedules the course uses (step decay;
# ramp-up, sustain and decay; warm-up then cosine; warm-up, stable, decay; one-cycle),
# chains schedules, explains the `TypeError` Keras 3 raises when the two mechanisms are
# mixed, and maps every PyTorch scheduler to its Keras or lrlab equivalent, with the values
# compared against PyTorch's own.
#
# It assumes lessons 01 and 02.

# %%
# Colab, or any Jupyter without lrlab: install lrlab from its repository (`make lab` did it here).
import importlib
import importlib.util
import os
import subprocess
import sys

LRLAB_REPOSITORY = "lrlab-course/lrlab"  # `make colab-links REPOSITORY=owner/name` rewrites it
if importlib.util.find_spec("lrlab") is None:
    source = os.environ.get("LRLAB_INSTALL") or f"git+https://github.com/{LRLAB_REPOSITORY}"
    pip = [sys.executable, "-m", "pip", "install", "-q", f"lrlab @ {source}"]
    if subprocess.run(pip).returncode == 0:
        importlib.invalidate_caches()
    else:
        print(
            f"Could not install lrlab from {source} (pip says why above). Check the network, or\n"
            "name another source in a cell run before this one, then run this cell again:\n"
            "    %env LRLAB_INSTALL=git+https://github.com/<owner>/<fork>\n"
            "    %env LRLAB_INSTALL=file:///content/lrlab-0.1.0-py3-none-any.whl"
        )

# %%
import math
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown

from lrlab import checks, notebook
from lrlab.callbacks import OneCycleMomentum
from lrlab.plateau import torch_reduce_on_plateau
from lrlab.plotting import learning_rate_curve, savefig, show_schedules
from lrlab.reference import load_reference, max_relative_error
from lrlab.schedules import (
    ChainedSchedule,
    InverseSqrtDecay,
    LinearRamp,
    OneCycle,
    RampSustainDecay,
    StepDecay,
    WarmupStableDecay,
    ramp_sustain_decay,
)
from lrlab.torch_equivalents import TABLE, markdown_table, schedule_of_case

notebook.setup(seed=0)
schedules = keras.optimizers.schedules

# %% [markdown]
# ## 1. Two mechanisms, and when to use which
#
# An **epoch function** applied by `keras.callbacks.LearningRateScheduler(function)`:
#
# - is called once, at the start of every epoch, with the epoch index (and the current rate);
# - is plain Python: any `if`, any state;
# - needs an optimizer built with a float rate, which the callback overwrites;
# - is not saved with the model (callbacks never are);
# - combines with `ReduceLROnPlateau`, which also overwrites the float rate.
#
# A **schedule object**, a `keras.optimizers.schedules.LearningRateSchedule`:
#
# - is called before every update, with `optimizer.iterations`;
# - is tensor operations (`keras.ops`) on the step;
# - *is* the optimizer's `learning_rate`;
# - is saved with the model, through its `get_config`;
# - cannot be combined with a callback that sets the rate (the `TypeError` of section 6).
#
# Use an epoch function for coarse policies counted in epochs that you want to read at a
# glance (step decay, ramp-up/sustain/decay). Use a schedule object when the rate must move
# *within* an epoch (a warm-up of a few hundred steps, cyclical rates, one-cycle), when the
# schedule must travel with a saved model, or in a custom training loop.
#
# A tiny regression problem stands in for a network in this lesson, so that every run takes
# a fraction of a second: 64 examples in batches of 16, so 4 steps per epoch.

# %%
features = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
targets = features @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
steps_per_epoch = 64 // 16


def tiny_model(optimizer):
    """A linear model compiled with mean squared error (only its optimizer matters here)."""
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def fit_tiny(model, epochs, callbacks=()):
    """Train ``model`` on the tiny problem for ``epochs`` epochs of 4 batches, silently."""
    return model.fit(
        features, targets, batch_size=16, epochs=epochs, verbose=0, callbacks=list(callbacks)
    )


# %% [markdown]
# ## 2. Per epoch: the course's step decay and ramp-up / sustain / decay
#
# The course's step decay of lesson 01, η_n = η_0 · d^⌊(1+n)/r⌋, as an epoch function.
# `LearningRateScheduler` sets the rate at the start of each epoch and logs it in
# `history.history["learning_rate"]`:


# %%
# exact output: it prints the rates the callback set, which do not depend on the weights
def course_step_decay(epoch):
    """0.01 * 0.5 ** floor((1 + epoch) / 3): halve every 3 epochs, the first time at epoch 2."""
    return 0.01 * 0.5 ** math.floor((1 + epoch) / 3)


model = tiny_model(keras.optimizers.SGD(learning_rate=0.01))
history = fit_tiny(model, 9, [keras.callbacks.LearningRateScheduler(course_step_decay)])
epoch_rates = np.array(history.history["learning_rate"])
print("rates of epochs 0..8:", [f"{rate:.5f}" for rate in epoch_rates])
print(
    "equal to StepDecay(0.01, 0.5, 3) at the epoch index (rtol 1e-6):",
    np.allclose(epoch_rates, learning_rate_curve(StepDecay(0.01, 0.5, 3), 9), rtol=1e-6),
)

# %% [markdown]
# The rate that a whole epoch uses is the one `LearningRateScheduler` set at its start;
# `lrlab.schedules.StepDecay` evaluated at the epoch index gives the same numbers.
#
# The **ramp-up / sustain / decay** schedule of many Kaggle notebooks starts low, ramps up
# linearly for a few epochs (a warm-up), holds the maximum, then decays by a factor every
# few epochs towards a floor. `lrlab.schedules.ramp_sustain_decay(epoch, ...)` is the epoch
# function (the course's defaults: 1e-5 to 1e-2 in 2 epochs, 1 epoch at the top, ×0.75 every
# 2 epochs, floor 1e-5), and `RampSustainDecay` the same policy per step, ramping smoothly
# inside the ramp epochs:

# %%
num_epochs = 16
per_step_ramp = RampSustainDecay(
    1e-5,
    1e-2,
    ramp_steps=2 * steps_per_epoch,
    sustain_steps=1 * steps_per_epoch,
    decay_rate=0.75,
    decay_every_steps=2 * steps_per_epoch,
)
epochs = np.arange(num_epochs)
per_epoch_ramp = np.array([ramp_sustain_decay(int(epoch)) for epoch in epochs])
all_steps = np.arange(num_epochs * steps_per_epoch)
per_step_values = learning_rate_curve(per_step_ramp, all_steps)
print("epoch function, epochs 0..5:", [f"{rate:.2e}" for rate in per_epoch_ramp[:6]])
print(
    "per-step schedule == epoch function at the first step of every epoch:",
    np.allclose(per_step_values[::steps_per_epoch], per_epoch_ramp, rtol=1e-6),
)

fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(all_steps / steps_per_epoch, per_step_values, label="RampSustainDecay (per step)")
ax.step(epochs, per_epoch_ramp, where="post", ls="--", label="ramp_sustain_decay (per epoch)")
ax.set_yscale("log")
ax.set_xlabel(f"epoch ({steps_per_epoch} steps each)")
ax.set_ylabel("learning rate")
ax.set_title("Ramp-up, sustain, decay: 1e-5 → 1e-2 in 2 epochs, hold 1, ×0.75 every 2")
ax.legend()
savefig(fig, "03_ramp_sustain_decay")
plt.show()

# %% [markdown]
# On the log scale the ramp covers three decades in two epochs; the two versions agree at
# every epoch start, and inside the ramp the per-step one rises smoothly instead of in jumps.

# %% [markdown]
# ## 3. Per step: writing a schedule object
#
# A schedule object subclasses `keras.optimizers.schedules.LearningRateSchedule` and has
#
# - `__init__`, which checks and stores the arguments;
# - `__call__(step)`, pure tensor math (`keras.ops`) on the step: no Python `if` on its
#   value, so it runs inside a compiled training step and on a whole array of steps;
# - `get_config()`, the constructor's arguments, so that `model.save` can store it; with
#   `@keras.saving.register_keras_serializable()`, `load_model` finds the class again.
#
# Keras has no inverse-square-root schedule, the one of the Transformer (Vaswani et al. 2017,
# "Attention Is All You Need"): lrate = d_model^(−½) · min(s^(−½), s · w^(−3/2)) for
# s = step + 1 and w warm-up steps. Written with its peak rate p = (d_model · w)^(−½), it is
# p · min(s/w, √(w/s)): a linear warm-up, then a decay as 1/√s.


# %%
# exact output: the one-epoch fit only creates Adam's state; the cell prints schedule values and configs
@keras.saving.register_keras_serializable(package="lesson03")
class InverseSquareRootDecay(keras.optimizers.schedules.LearningRateSchedule):
    """peak * min(s / warmup_steps, sqrt(warmup_steps / s)), s = step + 1 (Vaswani et al. 2017)."""

    def __init__(self, peak_learning_rate, warmup_steps):
        super().__init__()
        if not peak_learning_rate > 0:
            raise ValueError(f"peak_learning_rate must be > 0, got {peak_learning_rate!r}")
        if not warmup_steps >= 1:
            raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps!r}")
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        s = keras.ops.cast(step, "float32") + 1.0
        warmup_steps = keras.ops.cast(self.warmup_steps, "float32")
        shape = keras.ops.minimum(s / warmup_steps, keras.ops.sqrt(warmup_steps / s))
        return self.peak_learning_rate * shape

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps}


d_model, warmup_steps = 512, 4000
transformer = InverseSquareRootDecay((d_model * warmup_steps) ** -0.5, warmup_steps)
transformer_steps = np.arange(0, 40_000, 100)
vaswani = d_model**-0.5 * np.minimum(
    (transformer_steps + 1.0) ** -0.5, (transformer_steps + 1.0) * warmup_steps**-1.5
)
print(f"peak rate (d_model * w)^-1/2 = {transformer.peak_learning_rate:.3e}")
print(
    "equal to Vaswani et al.'s formula (rtol 1e-5):",
    np.allclose(learning_rate_curve(transformer, transformer_steps), vaswani, rtol=1e-5),
)

model = tiny_model(keras.optimizers.Adam(learning_rate=transformer))
fit_tiny(model, 1)  # creates Adam's state
with tempfile.TemporaryDirectory() as folder:
    model.save(Path(folder) / "transformer_schedule.keras")
    restored = keras.models.load_model(Path(folder) / "transformer_schedule.keras")
restored_schedule = restored.optimizer.get_config()["learning_rate"]
print(
    f"after save and load: {restored_schedule['class_name']}, config {restored_schedule['config']}"
)

late_ratio = float(transformer(39_900)) / transformer.peak_learning_rate
print(f"rate at step 39,900 / peak rate = {late_ratio:.2f}")

show_schedules(
    {"InverseSquareRootDecay((512 · 4000)^-1/2, 4000)": transformer},
    transformer_steps,
    "03_inverse_square_root",
    title="The Transformer's schedule: warm-up for 4,000 steps, then 1/√step",
)

# %% [markdown]
# The rate climbs linearly to 7e-4 in 4,000 steps and then falls as 1/√s: slowly, so that
# near step 40,000 it is still a third of the peak (√(4000/40000) ≈ 0.32).

# %% [markdown]
# lrlab ships this schedule as `lrlab.schedules.InverseSqrtDecay(peak, warmup_steps,
# initial_learning_rate=0)`, with what a package adds to the lesson's class: every argument
# checked (`_validate`), float64 when the rates are `np.float64`, negative steps refused, a
# warm-up that may start above 0. It counts steps as Keras's `optimizer.iterations` and
# fairseq's `inverse_sqrt` do, from 0 for the first update, where the paper's s counts from 1:
# its rate at step k + 1 is the lesson's at step k.

# %%
# exact output: compares schedule values; the lesson's class comes from the cell above, which also fits
packaged = InverseSqrtDecay((d_model * warmup_steps) ** -0.5, warmup_steps)
print(
    "InverseSqrtDecay at step k + 1 == the lesson's class at step k (rtol 1e-6):",
    np.allclose(
        learning_rate_curve(packaged, transformer_steps + 1),
        learning_rate_curve(transformer, transformer_steps),
        rtol=1e-6,
    ),
)
try:
    InverseSqrtDecay(1e-3, warmup_steps=0.5)
except TypeError as error:
    print(f"TypeError: {error}")

# %% [markdown]
# ## 4. Warm-up then cosine, warm-up–stable–decay, and chaining
#
# A warm-up followed by a cosine decay is the default of much recent training. Three ways to
# write the same curve (1,000 steps: 100 of warm-up from 0 to 1e-2, then 900 of cosine to 0):
#
# - Keras's `CosineDecay` with `warmup_target` and `warmup_steps` (lesson 02);
# - `lrlab.schedules.ChainedSchedule([LinearRamp(...), CosineDecay(...)], boundaries=[100])`:
#   schedule i takes over at `boundaries[i-1]` and counts its steps from there (PyTorch's
#   `SequentialLR`);
# - `lrlab.schedules.WarmupStableDecay` with no stable phase and a cosine decay.
#
# **Warm-up–stable–decay** (WSD; Hu et al. 2024, "MiniCPM"; Hägele et al. 2024, "Scaling Laws
# and Compute-Optimal Training Beyond Fixed Training Durations") keeps the peak rate for most
# of training and decays only at the end, so a run can be extended, or stopped early with a
# short decay, without knowing its length in advance.

# %%
keras_warmup_cosine = schedules.CosineDecay(
    0.0, decay_steps=900, warmup_target=1e-2, warmup_steps=100
)
chained = ChainedSchedule(
    [LinearRamp(0.0, 1e-2, ramp_steps=100), schedules.CosineDecay(1e-2, decay_steps=900)],
    boundaries=[100],
)
wsd_cosine = WarmupStableDecay(
    1e-2, warmup_steps=100, stable_steps=0, decay_steps=900, decay_shape="cosine"
)
steps_1000 = np.arange(1001)
reference_curve = learning_rate_curve(keras_warmup_cosine, steps_1000)
for label, schedule in (
    ("ChainedSchedule", chained),
    ("WarmupStableDecay(stable_steps=0)", wsd_cosine),
):
    same = np.allclose(
        learning_rate_curve(schedule, steps_1000), reference_curve, rtol=1e-5, atol=1e-9
    )
    print(f"{label:34s} == CosineDecay(warmup_target=...): {same}")

three_part_chain = ChainedSchedule(
    [
        LinearRamp(0.0, 1e-2, ramp_steps=100),
        LinearRamp(1e-2, 1e-2, ramp_steps=1),  # a constant
        schedules.CosineDecay(1e-2, decay_steps=200),
    ],
    boundaries=[100, 800],
)
wsd = {
    shape: WarmupStableDecay(
        1e-2, warmup_steps=100, stable_steps=700, decay_steps=200, decay_shape=shape
    )
    for shape in ("linear", "cosine", "sqrt")
}
print(
    "3-part ChainedSchedule == WarmupStableDecay(100, 700, 200, 'cosine'):",
    np.allclose(
        learning_rate_curve(three_part_chain, steps_1000),
        learning_rate_curve(wsd["cosine"], steps_1000),
        rtol=1e-5,
        atol=1e-9,
    ),
)

show_schedules(
    {"warm-up + cosine (all three ways)": keras_warmup_cosine}
    | {f"WSD, {shape} decay": schedule for shape, schedule in wsd.items()},
    steps_1000,
    "03_warmup_cosine_wsd",
    title="Warm-up then cosine vs warm-up–stable–decay (peak 1e-2, 1,000 steps)",
)

# %% [markdown]
# The three ways of writing warm-up + cosine give one curve; WSD holds the peak until step
# 800 and spends only the last 200 steps decaying, its "sqrt" shape dropping fastest at first.

# %% [markdown]
# ## 5. One-cycle
#
# Smith's one-cycle policy (Smith and Topin 2019, "Super-Convergence"; Smith 2018, "A
# Disciplined Approach to Neural Network Hyper-Parameters") uses a single cycle for the
# whole run: the rate rises from max/`div_factor` to the maximum during the first
# `pct_start` of the steps, then anneals to max/(`div_factor` · `final_div_factor`), far
# below where it started. The momentum moves the opposite way, from 0.95 down to 0.85 while
# the rate rises and back up while it falls: a large rate with a large momentum would take
# too long steps. `lrlab.schedules.OneCycle` is PyTorch's `OneCycleLR` (same arguments and
# values, section 7) and `lrlab.callbacks.OneCycleMomentum` cycles the optimizer's momentum
# (SGD's `momentum` or Adam's `beta_1`).

# %%
one_cycle = OneCycle(0.1, total_steps=200)
one_cycle_three_phase = OneCycle(0.1, total_steps=200, three_phase=True)
cycle_steps = np.arange(200)
fig, (rate_ax, momentum_ax) = plt.subplots(1, 2, figsize=(12, 4))
for label, schedule, style in (
    ("two phases (default)", one_cycle, "-"),
    ("three_phase=True", one_cycle_three_phase, "--"),
):
    rate_ax.plot(cycle_steps, learning_rate_curve(schedule, cycle_steps), style, label=label)
    momentum_ax.plot(cycle_steps, np.asarray(schedule.momentum(cycle_steps)), style, label=label)
rate_ax.set_yscale("log")
rate_ax.set_title("OneCycle(0.1, total_steps=200): learning rate (log scale)")
rate_ax.set_ylabel("learning rate")
momentum_ax.set_title("momentum (OneCycleMomentum, 0.85 to 0.95)")
momentum_ax.set_ylabel("momentum")
for ax in (rate_ax, momentum_ax):
    ax.set_xlabel("step")
    ax.legend()
fig.tight_layout()
savefig(fig, "03_one_cycle")
plt.show()
print(
    f"start {float(one_cycle(0)):.1e}, peak {float(one_cycle(59)):.1e} at step 59, "
    f"end {float(one_cycle(199)):.1e}"
)

# %% [markdown]
# The rate climbs 25-fold in the first 30 % of the steps and then falls to 4e-7, 10,000 times
# below its start, while the momentum mirrors it; three phases come back down symmetrically
# before the final anneal.
#
# In training, the rate follows the schedule and the callback sets the momentum before every
# batch; a `LambdaCallback` placed after it records the momentum each batch used:

# %%
# exact output: it prints the momenta the callback set, which do not depend on the weights
total_steps = 5 * steps_per_epoch
schedule = OneCycle(0.05, total_steps=total_steps)
model = tiny_model(keras.optimizers.SGD(learning_rate=schedule, momentum=0.9))
used_momenta = []
record = keras.callbacks.LambdaCallback(
    on_train_batch_end=lambda batch, logs: used_momenta.append(float(model.optimizer.momentum))
)
fit_tiny(model, 5, [OneCycleMomentum(schedule), record])
print(
    "momentum of every batch == schedule.momentum(step) (float32):",
    np.allclose(used_momenta, np.asarray(schedule.momentum(np.arange(total_steps))), rtol=1e-6),
)
print(f"momenta of the first 6 batches: {[round(m, 4) for m in used_momenta[:6]]}")

# %% [markdown]
# ## 6. Mixing the two mechanisms: Keras 3's `TypeError`
#
# An optimizer built with a schedule object owns its rate: it computes it from the step.
# `LearningRateScheduler` (and `ReduceLROnPlateau`) work by *assigning* a new float to
# `optimizer.learning_rate`, and Keras 3 refuses that assignment with a `TypeError`. Keras 2
# refused too, with a less helpful message: tf.keras's callback first read the current rate
# as `float(optimizer.lr)`, and a schedule object is not a number, so the first epoch
# stopped with `TypeError: float() argument must be a string or a number, not
# 'ExponentialDecay'` (keras-team/keras issue 14331, TensorFlow 2.4; `ReduceLROnPlateau`
# failed the same way, tensorflow/tensorflow issue 36612).

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
model = tiny_model(keras.optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.01, 100, 0.5)))
fit_tiny(model, 2, [keras.callbacks.LearningRateScheduler(course_step_decay)])

# %% [markdown]
# The message says it: *"This optimizer was created with a `LearningRateSchedule` object as
# its `learning_rate` constructor argument, hence its learning rate is not settable."* Choose
# one mechanism per run:
#
# - keep the schedule object and drop the callback; express epochs as steps
#   (`decay_steps = epochs × steps_per_epoch`);
# - or build the optimizer with a float (`SGD(learning_rate=0.01)`) and let the callback set it.
#
# `ReduceLROnPlateau` reacts to the validation metric, which no function of the step can
# know in advance, so it always needs a float rate.

# %% [markdown]
# ## 7. PyTorch's schedulers in Keras
#
# The table below gives, for every class of `torch.optim.lr_scheduler`, the Keras or lrlab
# schedule, or the function of the step, with the same values; η is the optimizer's rate and
# γ torch's `gamma`. Its rows are data, `lrlab.torch_equivalents.TABLE`: each row also holds
# the function that builds the equivalent from torch's arguments.

# %%
Markdown(markdown_table())

# %% [markdown]
# PyTorch steps a scheduler by calling `scheduler.step()` after `optimizer.step()`; a Keras
# schedule is a function of `optimizer.iterations`. `tools/reference_torch.py` recorded with
# PyTorch 2.13 the rate of every optimizer step k for a set of cases, which is exactly what
# the Keras equivalent returns at step k. lrlab ships those values as package data,
# `lrlab/reference/torch_schedulers.json` (and `torch_plateau.json` for `ReduceLROnPlateau`),
# read with `lrlab.reference.load_reference`. `lrlab.torch_equivalents.torch_equivalent(name,
# learning_rate, arguments)` builds the equivalent of the table from a scheduler's torch
# arguments (use it to translate your own PyTorch code); `schedule_of_case(case)` does so for
# a recorded case (JSON holds no functions: it names each `lr_lambda` by its source), in
# float64 (`np.float64` arguments, so that Keras does not round through float32). The tests
# of lrlab compare through the same function:

# %%
# Keras's own schedules (ExponentialDecay, CosineDecay, ...) compute in float64 on TensorFlow
# but in float32 on JAX and PyTorch, whatever their arguments (see the note below the table):
# a relative 1e-12 there would test float32 rounding, so those backends get float32's 1e-5.
TOLERANCE = 1e-12 if keras.backend.backend() == "tensorflow" else 1e-5
torch_reference = load_reference("torch_schedulers")  # lrlab/reference/torch_schedulers.json
errors = {}
for case in torch_reference["cases"]:
    schedule = schedule_of_case(case)
    torch_rates = case["learning_rates"]
    errors.setdefault(case["scheduler"], []).append(
        max_relative_error(learning_rate_curve(schedule, len(torch_rates)), torch_rates)
    )
    if "momenta" in case:
        momenta = schedule.momentum(
            np.arange(len(torch_rates)),
            case["arguments"].get("base_momentum", 0.85),
            case["arguments"].get("max_momentum", 0.95),
        )
        errors.setdefault("OneCycleLR (momentum)", []).append(
            max_relative_error(momenta, case["momenta"])
        )

plateau_reference = load_reference("torch_plateau")  # lrlab/reference/torch_plateau.json
for case in plateau_reference["plateau"]:
    decisions = torch_reduce_on_plateau(
        case["metric_values"], case["initial_learning_rate"], **case["arguments"]
    )
    errors.setdefault("ReduceLROnPlateau", []).append(
        max_relative_error(decisions.learning_rates[1:], case["rates_after_step"])
    )

print(f"PyTorch {torch_reference['torch']}")
torch_classes = [row.name for row in TABLE]
torch_classes.insert(torch_classes.index("OneCycleLR") + 1, "OneCycleLR (momentum)")
for scheduler in torch_classes:
    cases = errors[scheduler]
    print(
        f"{scheduler:28s} {len(cases):2d} case(s), "
        f"max relative error <= TOLERANCE: {max(cases) <= TOLERANCE}"
    )

power_case = next(case for case in torch_reference["cases"] if case["scheduler"] == "LambdaLR")
exponential_decay = schedules.ExponentialDecay(
    np.float64(power_case["optimizer_learning_rate"]), 1, np.float64(0.95)
)
power_error = max_relative_error(
    learning_rate_curve(exponential_decay, len(power_case["learning_rates"])),
    power_case["learning_rates"],
)
print(
    f"LambdaLR({power_case['arguments']['lr_lambda']}) == ExponentialDecay(η, 1, 0.95), "
    f"max relative error <= TOLERANCE: {power_error <= TOLERANCE}"
)

# %% [markdown]
# Every class of the table has at least one recorded case, and every case agrees with
# PyTorch to `TOLERANCE`. On TensorFlow that is a relative 1e-12, float64 rounding. On JAX and
# PyTorch (`KERAS_BACKEND=jax` or `torch`) Keras computes its own schedules in float32 even
# from float64 arguments (its type promotion maps float64 to float32 on every backend but
# TensorFlow), so the rows that use them agree to float32 rounding: `TOLERANCE` is 1e-5
# there, while lrlab's own schedules keep float64 on all three backends. `ReduceLROnPlateau` agrees through
# `lrlab.plateau.torch_reduce_on_plateau`, a model of PyTorch's rule, since Keras's own
# callback counts `patience` differently. The equivalents of `ChainedScheduler` and
# `LambdaLR` are plain functions of the step, which `learning_rate_curve` evaluates like any
# schedule; an optimizer needs a schedule object, so to train with one, wrap it as in
# section 3. `MultiplicativeLR` multiplies the rate by `lr_lambda(k)` at every step k ≥ 1,
# so a constant factor is an exponential decay, as is `LambdaLR` with `0.95 ** step`.

# %% [markdown]
# ## Exercise
#
# Write the epoch function `warmup_cosine(epoch, peak_learning_rate, warmup_epochs,
# total_epochs, final_learning_rate=0.0)` for `LearningRateScheduler`:
#
# - during the warm-up, epoch n < `warmup_epochs` uses peak · (n + 1) / `warmup_epochs`
#   (so that no epoch is spent at rate 0, and the last warm-up epoch reaches the peak);
# - then a half cosine from the peak at epoch `warmup_epochs` to `final_learning_rate` at
#   epoch `total_epochs`: with p = (n − warmup_epochs) / (total_epochs − warmup_epochs),
#   final + (peak − final) · ½(1 + cos(π p));
# - from `total_epochs` on, `final_learning_rate`.

# %% tags=["solution"]
import numpy as np


def warmup_cosine(epoch, peak_learning_rate, warmup_epochs, total_epochs, final_learning_rate=0.0):
    """Linear warm-up over warmup_epochs, then a half cosine down to final_learning_rate."""
    if epoch < warmup_epochs:
        return peak_learning_rate * (epoch + 1) / warmup_epochs
    progress = min(1.0, (epoch - warmup_epochs) / (total_epochs - warmup_epochs))
    cosine = 0.5 * (1 + np.cos(np.pi * progress))
    return final_learning_rate + (peak_learning_rate - final_learning_rate) * cosine


# %%
checks.check_warmup_cosine(warmup_cosine)
