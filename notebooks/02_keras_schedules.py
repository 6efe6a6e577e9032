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
# # 02 · The Keras built-in schedules
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/02_keras_schedules.ipynb)
#
# A tour of every schedule in `keras.optimizers.schedules`: `ExponentialDecay`,
# `PiecewiseConstantDecay`, `PolynomialDecay`, `InverseTimeDecay`, `CosineDecay` (with its
# warm-up) and `CosineDecayRestarts`. For each one: its formula, written here in NumPy and
# checked against Keras, and its curve on a linear and a log scale. Then the linear-cosine
# schedules that Keras 3 dropped (now in `lrlab.schedules`), how an optimizer consumes a
# schedule and how to read its current rate, and what happens to a schedule when a model
# is saved and loaded.
#
# It assumes lesson 01 (steps, epochs, exponential decay).

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
import tensorflow as tf

from lrlab import checks, notebook
from lrlab.callbacks import LearningRateLogger
from lrlab.explore import Slider, explore
from lrlab.plotting import learning_rate_curve, plot_schedules, savefig, show_schedules
from lrlab.schedules import LinearCosineDecay, NoisyLinearCosineDecay

notebook.setup(seed=0)
schedules = keras.optimizers.schedules

# %% [markdown]
# ## 1. A schedule is a function of the step
#
# A `keras.optimizers.schedules.LearningRateSchedule` is a callable: give it the step
# (the number of updates done so far, starting at 0) and it returns the learning rate for
# that step. Keras computes in float32, so we compare each schedule with its formula,
# evaluated in float64, to float32 precision (relative tolerance 1e-5).

# %%
steps = np.arange(61)


def agrees(schedule, formula, at_steps=steps):
    """True when the schedule equals the formula at every step, to float32 precision."""
    expected = np.array([formula(step) for step in at_steps], dtype=np.float64)
    return bool(
        np.allclose(learning_rate_curve(schedule, at_steps), expected, rtol=1e-5, atol=1e-10)
    )


example = schedules.ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)
for step in (0, 5, 10, 20):
    print(f"step {step:2d}: learning rate {float(example(step)):.6f}")

# %% [markdown]
# ## 2. `ExponentialDecay`
#
# η(s) = η_0 · d^(s/T), or with `staircase=True` η_0 · d^⌊s/T⌋: the rate is multiplied by
# d every T steps, smoothly or in jumps. This is lesson 01's exponential formula with the
# step s in place of the epoch.

# %%
exponential = schedules.ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.5)
exponential_stairs = schedules.ExponentialDecay(
    1e-2, decay_steps=10, decay_rate=0.5, staircase=True
)
print("smooth    == formula:", agrees(exponential, lambda s: 1e-2 * 0.5 ** (s / 10)))
print(
    "staircase == formula:", agrees(exponential_stairs, lambda s: 1e-2 * 0.5 ** math.floor(s / 10))
)

show_schedules(
    {"staircase=False": exponential, "staircase=True": exponential_stairs},
    steps,
    "02_exponential_decay",
    title="ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.5)",
)

# %% [markdown]
# On the log scale exponential decay is a straight line; the staircase version holds each
# level for 10 steps and touches the line at every multiple of 10.

# %% [markdown]
# **Move the parameters.** In JupyterLab or Colab the next cell is a panel of sliders: move
# one and release it, and the curve is redrawn over the grey curve of the starting values.
# Halve `decay_steps` and the rate halves twice as often; take `decay_rate` towards 1 and
# it hardly decays; `initial_learning_rate` only scales the curve, so on the log scale of
# the figure above it would shift the line without bending it. Where no widgets run (the
# site, nbval) the cell shows the curve at the starting values.

# %%
explore(
    lambda initial_learning_rate, decay_steps, decay_rate: schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=decay_steps, decay_rate=decay_rate
    ),
    steps=100,
    title="ExponentialDecay(initial_learning_rate, decay_steps, decay_rate), 100 steps",
    name="02_explore_exponential_decay",
    initial_learning_rate=Slider(1e-2, 1e-4, 1.0, log=True),
    decay_steps=Slider(10, 1, 100, integer=True),
    decay_rate=Slider(0.5, 0.05, 0.99),
)

# %% [markdown]
# ## 3. `PiecewiseConstantDecay`
#
# Constant values between boundaries: `values[0]` while s ≤ `boundaries[0]`, `values[i]`
# while `boundaries[i-1]` < s ≤ `boundaries[i]`, and `values[-1]` after the last boundary.
# Note the ≤: the new value starts one step *after* the boundary. This is the classic
# "divide by 10 at epochs 30, 60 and 90" of image classification, in steps.

# %%
boundaries, values = [15, 30, 45], [1e-2, 5e-3, 1e-3, 1e-4]
piecewise = schedules.PiecewiseConstantDecay(boundaries, values)
print(
    "PiecewiseConstantDecay == formula:",
    agrees(piecewise, lambda s: values[int(np.searchsorted(boundaries, s, side="left"))]),
)
print("rates at steps 15, 16:", [f"{float(piecewise(s)):.0e}" for s in (15, 16)])

show_schedules(
    {"PiecewiseConstantDecay([15, 30, 45], [1e-2, 5e-3, 1e-3, 1e-4])": piecewise},
    steps,
    "02_piecewise_constant",
    title="PiecewiseConstantDecay",
)

# %% [markdown]
# Four constant levels with jumps just after steps 15, 30 and 45; the log scale shows the
# drops by factors of 2, 5 and 10 at their true proportions.

# %% [markdown]
# ## 4. `PolynomialDecay`
#
# η(s) = (η_0 − η_end) · (1 − min(s, T)/T)^p + η_end: from η_0 down to η_end in T steps,
# then constant. p = 1 is a straight line, p > 1 falls fast first, p < 1 falls late. With
# `cycle=True` the horizon T is stretched to the next multiple of T that is ≥ s, so the
# rate jumps back up (to a lower peak each time) instead of staying at η_end.


# %%
def polynomial_formula(step, power, initial=1e-2, end=1e-4, decay_steps=40, cycle=False):
    if cycle:
        decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
    fraction = min(step, decay_steps) / decay_steps
    return (initial - end) * (1 - fraction) ** power + end


polynomials = {
    f"power={power}": schedules.PolynomialDecay(
        1e-2, decay_steps=40, end_learning_rate=1e-4, power=power
    )
    for power in (0.5, 1.0, 2.0)
}
polynomials["power=1.0, cycle=True"] = schedules.PolynomialDecay(
    1e-2, decay_steps=40, end_learning_rate=1e-4, power=1.0, cycle=True
)
for (label, schedule), power, cycle in zip(
    polynomials.items(), (0.5, 1.0, 2.0, 1.0), (False, False, False, True), strict=True
):
    matches = agrees(schedule, lambda s, p=power, c=cycle: polynomial_formula(s, p, cycle=c))
    print(f"PolynomialDecay(1e-2, 40, 1e-4, {label}) == formula: {matches}")

fig = plot_schedules(
    polynomials, steps, title="PolynomialDecay(1e-2, decay_steps=40, end_learning_rate=1e-4)"
)
for ax in fig.axes:  # dash the cycling curve: it hides the power=1.0 one until step 40
    ax.lines[-1].set_linestyle("--")
fig.axes[0].legend()
savefig(fig, "02_polynomial_decay")
plt.show()

# %% [markdown]
# All four reach 1e-4 at step 40; the power decides whether the rate falls early (2.0) or
# late (0.5), and `cycle=True` restarts from a lower peak at step 41 instead of staying flat.

# %% [markdown]
# ## 5. `InverseTimeDecay`
#
# η(s) = η_0 / (1 + k · s/T) (with `staircase=True`, ⌊s/T⌋): the classic 1/t decay of
# stochastic approximation. It falls fast at first and then ever more slowly: after
# 10·T/k steps the rate is still η_0/11.

# %%
inverse_time = schedules.InverseTimeDecay(1e-2, decay_steps=10, decay_rate=1.0)
inverse_time_stairs = schedules.InverseTimeDecay(
    1e-2, decay_steps=10, decay_rate=1.0, staircase=True
)
print("smooth    == formula:", agrees(inverse_time, lambda s: 1e-2 / (1 + s / 10)))
print(
    "staircase == formula:", agrees(inverse_time_stairs, lambda s: 1e-2 / (1 + math.floor(s / 10)))
)
print(
    f"at step 60: inverse time eta_0 / {1e-2 / float(inverse_time(60)):.0f}, "
    f"exponential eta_0 / {1e-2 / float(exponential(60)):.0f}"
)

show_schedules(
    {
        "InverseTimeDecay, staircase=False": inverse_time,
        "InverseTimeDecay, staircase=True": inverse_time_stairs,
        "ExponentialDecay(1e-2, 10, 0.5), for comparison": exponential,
    },
    steps,
    "02_inverse_time_decay",
    title="InverseTimeDecay(1e-2, decay_steps=10, decay_rate=1.0): η_0 / (1 + s/10)",
)

# %% [markdown]
# Inverse-time decay starts like the exponential one but bends away from it on the log
# scale: after 60 steps it is still at η_0/7, where exponential decay is at η_0/64.

# %% [markdown]
# ## 6. `CosineDecay`
#
# η(s) = η_0 · [(1 − α) · ½(1 + cos(π · min(s, T)/T)) + α] (Loshchilov and Hutter 2017,
# "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR): half a cosine from η_0
# down to the floor α·η_0 in T steps, then constant. It falls slowly at first, fastest in
# the middle, and slowly again near the end. The three settings of the original tour:


# %%
def cosine_formula(step, initial, decay_steps, alpha):
    fraction = min(step, decay_steps) / decay_steps
    return initial * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


cosine_settings = [(1e-2, 50, 1e-2), (1e-2, 50, 0.0), (1e-3, 50, 1e-2)]
cosines = {}
for initial, decay_steps, alpha in cosine_settings:
    label = f"CosineDecay({initial:.0e}, {decay_steps}, alpha={alpha:g})"
    cosines[label] = schedules.CosineDecay(initial, decay_steps=decay_steps, alpha=alpha)
    matches = agrees(
        cosines[label], lambda s, a=(initial, decay_steps, alpha): cosine_formula(s, *a)
    )
    print(f"{label:36s} == formula: {matches}")

show_schedules(cosines, steps, "02_cosine_decay", title="CosineDecay over 50 steps")

# %% [markdown]
# On the linear scale the three are the same half cosine at two heights; the log scale
# shows what α does: with α = 0.01 the rate stops at 1 % of η_0, with α = 0 it falls to 0
# (off the bottom of the log axis at step 50).

# %% [markdown]
# ## 7. Warm-up
#
# Large rates at the very start, when the weights are random and the gradients large and
# erratic, can throw training off; a **warm-up** raises the rate linearly to its peak over
# the first steps (Goyal et al. 2017, "Accurate, Large Minibatch SGD"). `CosineDecay` has
# one built in: with `warmup_target` set, the rate goes linearly from
# `initial_learning_rate` to `warmup_target` in `warmup_steps` steps, then decays by a
# cosine from `warmup_target` to α·`warmup_target` in `decay_steps` more steps.

# %%
warmup_cosine = schedules.CosineDecay(
    initial_learning_rate=0.0, decay_steps=40, alpha=0.0, warmup_target=1e-2, warmup_steps=10
)


def warmup_cosine_formula(step, peak=1e-2, warmup_steps=10, decay_steps=40):
    if step < warmup_steps:
        return peak * step / warmup_steps
    return cosine_formula(step - warmup_steps, peak, decay_steps, 0.0)


print("CosineDecay with warm-up == formula:", agrees(warmup_cosine, warmup_cosine_formula))
print(f"rate at steps 0, 5, 10, 30, 50: {learning_rate_curve(warmup_cosine, [0, 5, 10, 30, 50])}")

show_schedules(
    {"10 steps of warm-up, 40 of cosine decay": warmup_cosine},
    steps,
    "02_warmup_cosine",
    title="CosineDecay(0.0, decay_steps=40, warmup_target=1e-2, warmup_steps=10)",
)

# %% [markdown]
# The rate climbs from 0 to 1e-2 in 10 steps and then follows a 40-step half cosine down to
# 0 at step 50; the log panel drops out of sight at steps 0 and 50, where the rate is exactly 0.

# %% [markdown]
# **Move the parameters.** The same schedule with its four knobs on sliders: a longer
# warm-up moves the peak right and leaves fewer steps of the 100 for the decay; `alpha`
# lifts the floor the cosine ends on (α · `warmup_target`); a `decay_steps` shorter than
# what is left after the warm-up ends the cosine early and holds the floor from there.

# %%
explore(
    lambda warmup_target, warmup_steps, decay_steps, alpha: schedules.CosineDecay(
        0.0,
        decay_steps=decay_steps,
        alpha=alpha,
        warmup_target=warmup_target,
        warmup_steps=warmup_steps,
    ),
    steps=100,
    title="CosineDecay(0.0, decay_steps, alpha, warmup_target, warmup_steps), 100 steps",
    name="02_explore_warmup_cosine",
    warmup_target=Slider(1e-2, 1e-4, 1.0, log=True),
    warmup_steps=Slider(10, 0, 50, integer=True),
    decay_steps=Slider(40, 1, 100, integer=True),
    alpha=Slider(0.0, 0.0, 0.5),
)

# %% [markdown]
# ## 8. `CosineDecayRestarts`
#
# SGDR's *warm restarts*: a cosine decay over `first_decay_steps` = T steps, then a jump
# back up and another cosine, each cycle `t_mul` times longer and with a peak `m_mul`
# times lower than the one before. With cycle i starting at step S_i and lasting
# T_i = T · t_mul^i steps,
#
# η(s) = η_0 · [(1 − α) · m_mul^i · ½(1 + cos(π (s − S_i)/T_i)) + α].
#
# The jumps let the optimiser leave a narrow minimum, and the end of every cycle is a
# natural point to save a snapshot of the model.


# %%
def restarts_formula(step, initial, first_decay_steps, t_mul, m_mul, alpha=0.0):
    cycle_start, cycle_length, peak = 0.0, first_decay_steps, 1.0
    while step >= cycle_start + cycle_length:  # find the cycle that holds this step
        cycle_start, cycle_length, peak = (
            cycle_start + cycle_length,
            cycle_length * t_mul,
            peak * m_mul,
        )
    fraction = (step - cycle_start) / cycle_length
    return initial * ((1 - alpha) * peak * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


restart_steps = np.arange(151)
restart_settings = [(10, 2.0, 1.0), (10, 2.0, 0.7), (30, 1.0, 1.0)]
restarts = {}
for first_decay_steps, t_mul, m_mul in restart_settings:
    label = f"first_decay_steps={first_decay_steps}, t_mul={t_mul:g}, m_mul={m_mul:g}"
    restarts[label] = schedules.CosineDecayRestarts(
        1e-2, first_decay_steps=first_decay_steps, t_mul=t_mul, m_mul=m_mul, alpha=1e-3
    )
    matches = agrees(
        restarts[label],
        lambda s, a=(first_decay_steps, t_mul, m_mul): restarts_formula(s, 1e-2, *a, alpha=1e-3),
        restart_steps,
    )
    print(f"CosineDecayRestarts(1e-2, {label}) == formula: {matches}")

fig = plot_schedules(restarts, restart_steps, title="CosineDecayRestarts(1e-2, ..., alpha=1e-3)")
fig.axes[0].legend(loc="upper center", bbox_to_anchor=(1.1, -0.15), ncol=3)
savefig(fig, "02_cosine_restarts")
plt.show()

# %% [markdown]
# With `t_mul=2` the cycles last 10, 20, 40 and 80 steps, with `m_mul=0.7` each peak is 30 %
# lower than the one before, and with `t_mul=1` the 30-step cycles repeat unchanged.

# %% [markdown]
# ## 9. Linear-cosine decay (`lrlab.schedules`)
#
# Bello et al. (2017, "Neural Optimizer Search with Reinforcement Learning", ICML) found
# by search a cosine whose amplitude shrinks linearly:
#
# η(s) = η_0 · [(α + (T − s')/T) · ½(1 + cos(2π · k · s'/T)) + β],  s' = min(s, T),
#
# with k = `num_periods` oscillations over T steps, α a floor that keeps oscillating and β
# a constant floor. TF 2 had it as `tf.keras.experimental.LinearCosineDecay`; Keras 3
# removed `tf.keras.experimental`, so lrlab provides it as a Keras 3 schedule.
# TensorFlow still ships the TF 1 function `tf.compat.v1.train.linear_cosine_decay`, which
# runs eagerly and serves as a live reference. The three settings of the original tour:

# %%
linear_cosine_settings = [
    {"initial_learning_rate": 1e-2, "decay_steps": 50, "num_periods": 1, "beta": 1e-3},
    {"initial_learning_rate": 1e-3, "decay_steps": 50, "num_periods": 2},
    {
        "initial_learning_rate": 4e-3,
        "decay_steps": 50,
        "num_periods": 4,
        "alpha": 1e-5,
        "beta": 1e-8,
    },
]


def tf1_linear_cosine(step, initial_learning_rate, decay_steps, **options):
    """The TF 1 reference: tf.compat.v1.train.linear_cosine_decay, evaluated eagerly at one step."""
    decayed = tf.compat.v1.train.linear_cosine_decay(
        initial_learning_rate, step, decay_steps, **options
    )
    return float(decayed())


linear_cosines = {}
for setting in linear_cosine_settings:
    label = (
        "LinearCosineDecay("
        + ", ".join(f"{name}={value:g}" for name, value in setting.items())
        + ")"
    )
    label = label.replace("initial_learning_rate=", "").replace("decay_steps=", "")
    linear_cosines[label] = LinearCosineDecay(**setting)
    reference = np.array([tf1_linear_cosine(int(step), **setting) for step in steps])
    error = np.max(np.abs(learning_rate_curve(linear_cosines[label], steps) - reference))
    relative_to_peak = error / setting["initial_learning_rate"]
    print(label)
    print(f"    max |lrlab - tf.compat.v1| / initial rate <= 1e-6: {relative_to_peak <= 1e-6}")
    print(f"    rate at steps 50 and 60: {reference[50]:.1e}, {reference[60]:.1e}")

fig = plot_schedules(
    linear_cosines, steps, title="LinearCosineDecay: the original tour's three settings"
)
fig.axes[0].legend(fontsize=8)
savefig(fig, "02_linear_cosine")
plt.show()

# %% [markdown]
# Each curve is a cosine of 1, 2 or 4 periods inside a linearly shrinking envelope; from step
# 50 on it stays at η_0 · (α + β): 1e-5, 1e-6 and 4e-8 (β defaults to 0.001, as in TF).

# %% [markdown]
# **Noisy linear-cosine decay** adds Gaussian noise ε_s to the linear part, with a variance
# that shrinks over time, Var ε_s = v_0 / (1 + s')^c (v_0 = `initial_variance`,
# c = `variance_decay`):
#
# η(s) = η_0 · [(α + (T − s')/T + ε_s) · ½(1 + cos(2π · k · s'/T)) + β].
#
# With v_0 = 0 it is exactly the linear-cosine schedule. TF draws fresh noise at every
# call; lrlab's noise is a fixed function of `(seed, step)`, so a curve can be re-plotted
# and a saved model resumes on the same one. lrlab clips the rate at 0 by default; here
# `allow_negative=True` keeps TF's unclipped values, to show what the noise does. The tour's
# setting:

# %%
noisy_setting = {
    "initial_learning_rate": 1e-2,
    "decay_steps": 50,
    "initial_variance": 0.002,
    "variance_decay": 0.001,
    "num_periods": 2,
    "beta": 0.01,
}
noisy = NoisyLinearCosineDecay(**noisy_setting, seed=0, allow_negative=True)  # TF's values
without_noise = NoisyLinearCosineDecay(**{**noisy_setting, "initial_variance": 0.0}, seed=0)
noise_free = LinearCosineDecay(1e-2, decay_steps=50, num_periods=2, beta=0.01)
print(
    "NoisyLinearCosineDecay with initial_variance=0 == LinearCosineDecay:",
    np.allclose(learning_rate_curve(without_noise, steps), learning_rate_curve(noise_free, steps)),
)

show_schedules(
    {"NoisyLinearCosineDecay, seed=0": noisy, "LinearCosineDecay (no noise)": noise_free},
    steps,
    "02_noisy_linear_cosine",
    title="(Noisy)LinearCosineDecay(1e-2, 50, initial_variance=0.002, variance_decay=0.001, "
    "num_periods=2, beta=0.01)",
)

# %% [markdown]
# The noisy curve follows the noise-free one and wobbles around it, most where the cosine
# factor is near 1 (steps 0, 25 and from 50 on); where the log panel drops out of sight,
# the rate is negative.
#
# That last point is a trap of this setting. From step 50 on the linear part is 0 and the
# cosine factor 1, so η = η_0 · (ε_s + β), and ε_s still has its standard deviation
# σ = √(0.002 / 51^0.001) ≈ 0.045, four times β = 0.01: the rate is negative, an ascent
# step, whenever ε_s < −β. Counted over many steps and compared with the normal law:

# %%
late_steps = np.arange(50, 20_050)
late_rates = learning_rate_curve(noisy, late_steps)
sigma = math.sqrt(0.002 / 51**0.001)
predicted = 0.5 * (1 + math.erf(-0.01 / sigma / math.sqrt(2)))  # P(eps < -beta)
print(f"steps 0..60 with a negative rate: {int(np.sum(learning_rate_curve(noisy, steps) < 0))}")
print(f"fraction of negative rates over steps 50..20049: {np.mean(late_rates < 0):.2f}")
print(f"normal law, P(eps < -beta) with sigma = {sigma:.4f}: {predicted:.2f}")
clipped = NoisyLinearCosineDecay(**noisy_setting, seed=0)  # the default, allow_negative=False
clipped_negative = np.mean(learning_rate_curve(clipped, late_steps) < 0)
print(f"fraction of negative rates with lrlab's default: {clipped_negative:.2f}")

# %% [markdown]
# About 41 % of the steps after `decay_steps` would climb the loss instead of descending it.
# Keep β well above 3σ, or keep lrlab's default `allow_negative=False`, which clips the
# rate at 0 (the noise can then slow a step down, but never turn it uphill).

# %% [markdown]
# ## 10. How an optimizer consumes a schedule
#
# Pass the schedule as `learning_rate`. The optimizer keeps a step counter,
# `optimizer.iterations` (0 before the first update); before every update it evaluates the
# schedule at that counter, applies the update with that rate, and adds 1 to the counter.
# Reading `optimizer.learning_rate` evaluates the schedule at the current counter, so in
# Keras 3
#
# - `float(optimizer.learning_rate)` is the rate of the **next** update, for a float rate or
#   a schedule alike (`lrlab.callbacks.current_learning_rate` does exactly this);
# - `optimizer.lr` and `optimizer._decayed_lr(...)` of Keras 2 are gone.
#
# One SGD update on w with gradient 1 moves w by exactly the rate used, which makes the
# mechanism visible:

# %%
weight = keras.Variable(np.array([1.0]), dtype="float64")
optimizer = keras.optimizers.SGD(
    learning_rate=schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
)
print(
    f"before any update: iterations = {int(optimizer.iterations)}, "
    f"next rate = {float(optimizer.learning_rate):.6f}"
)
for _ in range(3):
    before = float(weight.numpy()[0])
    optimizer.apply_gradients([(keras.ops.ones(weight.shape, weight.dtype), weight)])
    print(
        f"update used rate {before - float(weight.numpy()[0]):.6f}; now iterations = "
        f"{int(optimizer.iterations)}, next rate = {float(optimizer.learning_rate):.6f}"
    )

# %% [markdown]
# Each update moved w by the rate read just before it, and the counter advanced by one.
# In `model.fit` the same happens once per batch; `LearningRateLogger(per_batch=True)`
# records the rate of every batch:

# %%
# exact output: it prints step counts and the schedule's rates, which do not depend on the weights
features = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
targets = features @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
fit_schedule = schedules.CosineDecay(0.05, decay_steps=20)
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=fit_schedule), loss="mse")
logger = LearningRateLogger(per_batch=True)
history = model.fit(features, targets, batch_size=16, epochs=3, verbose=0, callbacks=[logger])

print(
    f"steps done: optimizer.iterations = {int(model.optimizer.iterations)}  (3 epochs x 4 batches)"
)
print(
    "rates used by the batches == schedule(0..11):",
    np.allclose(logger.batch_learning_rates, learning_rate_curve(fit_schedule, 12), rtol=1e-6),
)
print(
    "history['lr'] (the rate of each epoch's first batch):",
    [f"{rate:.4f}" for rate in history.history["lr"]],
)
print(
    f"next rate: float(model.optimizer.learning_rate) = {float(model.optimizer.learning_rate):.4f}"
    f" = schedule(12) = {float(fit_schedule(12)):.4f}"
)

# %% [markdown]
# ## 11. Saving a model that uses a schedule
#
# `model.save("....keras")` stores the optimizer with its schedule (its class and
# `get_config()`), and its step counter; `keras.models.load_model` rebuilds both, so
# training resumes on the same curve. A schedule class of your own must also be
# registered with `@keras.saving.register_keras_serializable()` for `load_model` to
# find it; lrlab's schedules are. We save the model trained above and one that uses the noisy
# schedule, each to a temporary folder, so nothing is left behind:

# %%
# exact output: it prints iteration counts and rate curves of the saved schedule, not trained values
def save_and_load(model):
    """The model after a round trip through a .keras file in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model_with_schedule.keras"
        model.save(path)
        return keras.models.load_model(path)


def rate_curve_of(optimizer, at_steps):
    """The optimizer's own learning rate at each step, read through optimizer.learning_rate."""
    rates = []
    for step in at_steps:
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    return np.array(rates)


noisy_model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
noisy_model.compile(optimizer=keras.optimizers.SGD(learning_rate=noisy), loss="mse")
for trained in (model, noisy_model):
    restored = save_and_load(trained)
    saved_schedule = restored.optimizer.get_config()["learning_rate"]
    print(f"{saved_schedule['class_name']}: iterations = {int(restored.optimizer.iterations)}")
    original_curve = rate_curve_of(trained.optimizer, steps)
    same = np.array_equal(rate_curve_of(restored.optimizer, steps), original_curve)
    print(f"    rate curve identical after loading (steps 0..60): {same}")

# %% [markdown]
# ## Exercises
#
# **1.** Write `exponential_decay(step, initial_learning_rate, decay_steps, decay_rate,
# staircase=False)`, the formula of `keras.optimizers.schedules.ExponentialDecay`, in plain
# Python or NumPy.

# %% tags=["solution"]
import numpy as np


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """initial_learning_rate * decay_rate ** (step / decay_steps), floored if staircase."""
    exponent = step / decay_steps
    if staircase:
        exponent = np.floor(exponent)
    return initial_learning_rate * decay_rate**exponent


# %%
checks.check_exponential_decay(exponential_decay)

# %% [markdown]
# **2.** Write `read_learning_rate(optimizer)`: the rate a Keras 3 optimizer will use at its
# next update, as a Python `float`, whether it was built with a number or a schedule.


# %% tags=["solution"]
def read_learning_rate(optimizer):
    """The learning rate of the optimizer's next update, as a Python float (Keras 3)."""
    return float(optimizer.learning_rate)


# %%
checks.check_read_learning_rate(read_learning_rate)
