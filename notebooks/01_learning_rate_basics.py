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
# # 01 · Learning-rate basics
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/01_learning_rate_basics.ipynb)
#
# The learning rate η is the step size of gradient descent, x ← x − η ∇f(x).
# This lesson shows, on quadratics where everything can be computed by hand:
#
# 1. what a rate that is too small, about right, too large or divergent does, and why
#    the limit is η < 2 / λ_max, where λ_max is the largest eigenvalue of the Hessian;
# 2. why an ill-conditioned problem (one steep and one flat direction) forces a small
#    rate on every direction;
# 3. the difference between *steps* (one mini-batch update) and *epochs* (one pass over
#    the data), the two clocks a schedule can follow;
# 4. the course's two decay formulas, step-wise η_n = η_0 · d^⌊(1+n)/r⌋ and exponential
#    η_n = η_0 · d^(n/r), derived, plotted and shown equal to Keras's `ExponentialDecay`
#    and to `lrlab.schedules.StepDecay`.
#
# It assumes you know what a gradient is; no deep-learning background is needed.

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

import keras
import matplotlib.pyplot as plt
import numpy as np

from lrlab import checks, notebook
from lrlab.plotting import learning_rate_curve, plot_schedules, savefig
from lrlab.reference import max_relative_error
from lrlab.schedules import StepDecay
from lrlab.scratch import Quadratic

notebook.setup(seed=0)


# %% [markdown]
# ## 1. Gradient descent on f(x) = x²
#
# With f(x) = ½ λ x² the gradient is λx, so one step of gradient descent is
#
# x_{k+1} = x_k − η λ x_k = (1 − ηλ) x_k,  hence  x_k = (1 − ηλ)^k x_0.
#
# Everything depends on the factor 1 − ηλ: for |1 − ηλ| < 1 the iterates shrink
# geometrically to the minimum, for |1 − ηλ| > 1 they blow up. So gradient descent
# converges exactly when 0 < η < 2/λ. Below 1/λ the iterates approach the minimum from
# one side; between 1/λ and 2/λ they overshoot and oscillate around it.
#
# Here λ = 2 (f(x) = x²), so the bound is 2/λ = 1. The loop is the whole algorithm:

# %%
def gradient_descent(loss, start, learning_rate, num_steps):
    """The iterates x_0, ..., x_num_steps of x_{k+1} = x_k - learning_rate * grad f(x_k)."""
    points = [np.asarray(start, dtype=np.float64)]
    for _ in range(num_steps):
        points.append(points[-1] - learning_rate * loss.grad(points[-1]))
    return np.array(points)


parabola = Quadratic([[2.0]])  # f(x) = 1/2 * 2 * x^2 = x^2
curvature = parabola.hessian()[0, 0]
rates_1d = {"too small": 0.05, "about right": 0.4, "too large": 0.9, "divergent": 1.05}
paths_1d = {
    name: gradient_descent(parabola, [2.0], rate, 30)[:, 0] for name, rate in rates_1d.items()
}

print(f"lambda = {curvature:.1f}, bound 2/lambda = {2 / curvature:.2f}")
for name, rate in rates_1d.items():
    factor = 1 - rate * curvature
    verdict = "converges" if abs(factor) < 1 else "diverges"
    print(
        f"{name:>11}: eta = {rate:.2f}  1 - eta*lambda = {factor:+.2f}  "
        f"|x_30| = {abs(paths_1d[name][30]):.2e}  ({verdict})"
    )

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
for ax, (name, rate) in zip(axes, rates_1d.items(), strict=True):
    path = paths_1d[name][:12]
    reach = max(2.5, 1.1 * np.abs(path).max())
    grid = np.linspace(-reach, reach, 200)
    ax.plot(grid, grid**2, color="0.6", label="f(x) = x²")
    ax.plot(path, path**2, "o-", ms=4, color="C3", label="iterates")
    ax.plot(path[0], path[0] ** 2, "s", color="k", label="start")
    ax.set_title(f"{name}: η = {rate}\n(1 − ηλ = {1 - rate * curvature:+.2f})")
    ax.set_xlabel("x")
axes[0].set_ylabel("f(x)")
axes[0].legend(loc="upper center")
fig.suptitle("Gradient descent on f(x) = x² (λ = 2, bound 2/λ = 1): the first 11 steps", y=1.04)
fig.tight_layout()
savefig(fig, "01_gd_1d_paths")
plt.show()

# %% [markdown]
# A small rate creeps towards the minimum, a good one gets there in a few steps, a rate
# above 1/λ = 0.5 overshoots and zig-zags, and one above 2/λ = 1 zig-zags outwards.

# %%
steps_1d = np.arange(31)
fig, ax = plt.subplots(figsize=(7, 4))
for index, (name, rate) in enumerate(rates_1d.items()):
    label = f"{name} (η = {rate})"
    ax.semilogy(steps_1d, np.abs(paths_1d[name]), "o", ms=3, color=f"C{index}", label=label)
    prediction = np.abs(1 - rate * curvature) ** steps_1d * 2.0
    ax.semilogy(steps_1d, prediction, "--", lw=1, color=f"C{index}")
ax.set_xlabel("step k")
ax.set_ylabel("distance to the minimum |x_k|")
ax.set_title("Measured (dots) and predicted |1 − ηλ|^k |x_0| (dashes)")
ax.legend()
savefig(fig, "01_gd_1d_distance")
plt.show()

# %% [markdown]
# On a log scale the distance to the minimum is a straight line of slope log|1 − ηλ|,
# exactly as the formula predicts: falling for the three rates below 2/λ, rising for 1.05.

# %% [markdown]
# ## 2. An ill-conditioned quadratic in two dimensions
#
# A network's loss has many directions with very different curvatures. The simplest
# model of that is f(x) = ½ xᵀHx with H = diag(0.2, 4): shallow along x₁, steep along
# x₂. In the eigenbasis of H each coordinate evolves on its own,
# x_{k+1,i} = (1 − ηλ_i) x_{k,i}, so
#
# - convergence needs |1 − ηλ_i| < 1 for **every** eigenvalue: η < 2/λ_max;
# - the slowest direction shrinks by max_i |1 − ηλ_i| per step; the best constant rate
#   balances the two extremes, η* = 2/(λ_min + λ_max), and still only reaches the factor
#   (κ − 1)/(κ + 1), where κ = λ_max/λ_min is the condition number.
#
# The steep direction sets the largest usable rate, the flat direction then sets how long
# we wait: this tension is why learning rates are tuned and scheduled at all.

# %%
valley = Quadratic(np.diag([0.2, 4.0]))
eigenvalues = np.linalg.eigvalsh(valley.hessian())
smallest, largest = eigenvalues.min(), eigenvalues.max()
condition_number = largest / smallest
stability_bound = 2 / largest
best_rate = 2 / (smallest + largest)

print(f"eigenvalues of the Hessian: {smallest:.1f}, {largest:.1f}")
print(f"condition number kappa = lambda_max / lambda_min = {condition_number:.0f}")
print(f"stability bound 2/lambda_max = {stability_bound:.3f}")
print(
    f"best constant rate 2/(lambda_min + lambda_max) = {best_rate:.3f}, contraction per step "
    f"(kappa - 1)/(kappa + 1) = {(condition_number - 1) / (condition_number + 1):.3f}"
)

# %%
def contraction_factor(rate):
    """max_i |1 - rate * lambda_i|: how much the slowest direction shrinks per step."""
    return np.max(np.abs(1 - np.multiply.outer(rate, eigenvalues)), axis=-1)


rates_2d = {
    "too small": 0.05,
    "about right": round(best_rate, 3),
    "too large": 0.495,
    "divergent": 0.51,
}
start_2d = [-9.0, 2.5]
num_steps_2d = 60
paths_2d = {
    name: gradient_descent(valley, start_2d, rate, num_steps_2d) for name, rate in rates_2d.items()
}
losses_2d = {name: np.array([valley.loss(x) for x in path]) for name, path in paths_2d.items()}

for name, rate in rates_2d.items():
    print(
        f"{name:>11}: eta = {rate:.3f}  factor = {contraction_factor(rate):.3f}  "
        f"loss after {num_steps_2d} steps = {losses_2d[name][-1]:.2e}"
    )

# %%
x1_grid, x2_grid = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-4, 4, 161))
loss_grid = 0.5 * (eigenvalues[0] * x1_grid**2 + eigenvalues[1] * x2_grid**2)
fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharex=True, sharey=True)
contour_levels = np.geomspace(0.05, 40, 12)
for ax, (name, rate) in zip(axes.ravel(), rates_2d.items(), strict=True):
    ax.contour(x1_grid, x2_grid, loss_grid, levels=contour_levels, colors="0.7", linewidths=0.8)
    path = paths_2d[name][:31]
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1, color="C3", label="first 30 steps")
    ax.plot(*start_2d, "s", color="k", label="start")
    ax.plot(0, 0, "*", ms=12, color="C2", label="minimum")
    ax.set_title(f"{name}: η = {rate} (factor {contraction_factor(rate):.3f})")
    ax.set_xlim(-10, 10)
    ax.set_ylim(-4, 4)
for ax in axes[1]:
    ax.set_xlabel("x₁ (flat, λ = 0.2)")
for ax in axes[:, 0]:
    ax.set_ylabel("x₂ (steep, λ = 4)")
axes[0, 0].legend(loc="lower right")
fig.suptitle("Gradient descent on f = 0.1 x₁² + 2 x₂² (bound 2/λ_max = 0.5)")
fig.tight_layout()
savefig(fig, "01_gd_2d_paths")
plt.show()

# %% [markdown]
# With a small rate the path slides down the steep wall and then crawls along the flat
# valley floor; near the bound it bounces between the walls, and above it the bounces grow.

# %%
candidate_rates = np.linspace(0.0, 0.6, 601)
fig, (loss_ax, factor_ax) = plt.subplots(1, 2, figsize=(13, 4.2))
for index, (name, rate) in enumerate(rates_2d.items()):
    loss_ax.semilogy(losses_2d[name], color=f"C{index}", label=f"{name} (η = {rate})")
loss_ax.set_xlabel("step k")
loss_ax.set_ylabel("loss f(x_k)")
loss_ax.set_title("Loss per step (log scale)")
loss_ax.legend()

for eigenvalue, style, label in ((smallest, "--", "|1 − ηλ_min|"), (largest, ":", "|1 − ηλ_max|")):
    factors = np.abs(1 - candidate_rates * eigenvalue)
    factor_ax.plot(candidate_rates, factors, style, color="0.5", label=label)
slowest = contraction_factor(candidate_rates)
factor_ax.plot(candidate_rates, slowest, color="k", label="max: the slowest direction")
for index, rate in enumerate(rates_2d.values()):
    factor_ax.plot(rate, contraction_factor(rate), "o", color=f"C{index}", ms=7)
factor_ax.axhline(1.0, color="C3", lw=1)
factor_ax.axvline(stability_bound, color="C3", lw=1.5, ls="--")
factor_ax.annotate(
    f"2/λ_max = {stability_bound:.2f}",
    xy=(stability_bound, 1.3),
    xytext=(stability_bound - 0.2, 1.35),
    arrowprops={"arrowstyle": "->", "color": "C3"},
    color="C3",
)
factor_ax.annotate(
    f"η* = 2/(λ_min+λ_max) = {best_rate:.3f}",
    xy=(best_rate, contraction_factor(best_rate)),
    xytext=(0.05, 0.55),
    arrowprops={"arrowstyle": "->"},
)
factor_ax.set_ylim(0, 1.5)
factor_ax.set_xlabel("learning rate η")
factor_ax.set_ylabel("contraction factor per step")
factor_ax.set_title("Convergence needs a factor below 1")
factor_ax.legend(loc="lower left")
fig.tight_layout()
savefig(fig, "01_gd_2d_rates")
plt.show()

# %% [markdown]
# The loss falls fastest at η* and rises above 2/λ_max = 0.5 (left); the factor of the
# slowest direction (right) is a V whose bottom is η* and which crosses 1 exactly at the bound.

# %% [markdown]
# ## 3. Steps and epochs
#
# A **step** (an *iteration*) is one update of the weights from one mini-batch; Keras
# counts them in `optimizer.iterations`. An **epoch** is one pass over the training set,
# so it holds ⌈N / B⌉ steps for N examples and batch size B. A schedule can follow
# either clock:
#
# - a Keras `LearningRateSchedule` object is called with the step, before every update;
# - the `keras.callbacks.LearningRateScheduler` callback is called with the epoch index,
#   once at the start of each epoch (lesson 03).
#
# The same decay expressed on the two clocks differs by a factor of steps per epoch. For
# the full GTSRB training archive (39,209 images) and batches of 64:

# %%
num_examples, batch_size = 39_209, 64
steps_per_epoch = math.ceil(num_examples / batch_size)
initial_learning_rate, decay_rate, decay_every_epochs = 0.01, 0.5, 2
print(f"steps per epoch = ceil({num_examples} / {batch_size}) = {steps_per_epoch}")
decay_steps = decay_every_epochs * steps_per_epoch
print(f"'halve every {decay_every_epochs} epochs' = 'halve every {decay_steps} steps'")

per_step = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=decay_steps, decay_rate=decay_rate
)


def per_epoch(epoch):
    """The same decay, evaluated once per epoch (as a LearningRateScheduler function would)."""
    return initial_learning_rate * decay_rate ** (epoch / decay_every_epochs)


num_epochs = 8
all_steps = np.arange(num_epochs * steps_per_epoch)
step_rates = learning_rate_curve(per_step, all_steps)
epoch_rates = np.array([per_epoch(step // steps_per_epoch) for step in all_steps])
epoch_starts = all_steps[::steps_per_epoch]
print(
    "equal at the first step of every epoch (rtol 1e-6):",
    np.allclose(step_rates[epoch_starts], epoch_rates[epoch_starts], rtol=1e-6),
)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
epoch_axis = all_steps / steps_per_epoch
ax.plot(epoch_axis, step_rates, label=f"per step: ExponentialDecay(decay_steps={decay_steps})")
ax.plot(epoch_axis, epoch_rates, ls="--", label="per epoch: η_0 · 0.5^(epoch/2)")
ax.set_xlabel(f"epoch (1 epoch = {steps_per_epoch} steps)")
ax.set_ylabel("learning rate")
ax.set_title("One decay, two clocks")
ax.legend()
savefig(fig, "01_steps_vs_epochs")
plt.show()

# %% [markdown]
# The per-step schedule decays smoothly inside each epoch, the per-epoch one holds the rate
# for the whole epoch; they agree at the first step of every epoch.

# %% [markdown]
# ## 4. The course's two decay formulas
#
# We want the rate to shrink by a factor d (say 0.5) every r epochs (say 10). Let n be
# the epoch index (0, 1, 2, ..., the number Keras's `LearningRateScheduler` passes).
#
# **Exponential decay.** Ask for η_{n+r} = d · η_n for every n. The per-epoch factor q
# must satisfy q^r = d, so q = d^(1/r) and
#
# η_n = η_0 · q^n = η_0 · d^(n/r) = η_0 · exp(n ln d / r).
#
# **Step-wise decay.** Hold the rate constant and multiply it by d each time another r
# epochs are counted. The course counts the epochs *including* the current one, 1 + n,
# so the number of drops is ⌊(1+n)/r⌋ and
#
# η_n = η_0 · d^⌊(1+n)/r⌋.
#
# Because of the 1 + n, the first drop comes at n = r − 1, the r-th epoch, so the first
# level lasts r − 1 epochs and the later ones r. Keras's `ExponentialDecay` with
# `staircase=True` computes η_0 · d^⌊n/r⌋ instead: the same staircase one epoch later.

# %%
epochs = np.arange(50)
initial_learning_rate, decay_rate, decay_every = 0.01, 0.5, 10


def step_wise_formula(epoch):
    return initial_learning_rate * decay_rate ** np.floor((1 + epoch) / decay_every)


def exponential_formula(epoch):
    return initial_learning_rate * decay_rate ** (epoch / decay_every)


step_wise = step_wise_formula(epochs)
exponential = exponential_formula(epochs)
fig = plot_schedules(
    {
        "step-wise: η_0 · d^⌊(1+n)/r⌋": step_wise_formula,
        "exponential: η_0 · d^(n/r)": exponential_formula,
    },
    epochs,
    title="The course's decay formulas, η_0 = 0.01, d = 0.5, r = 10",
    xlabel="epoch n",
)
savefig(fig, "01_decay_formulas")
plt.show()

# %% [markdown]
# Both curves halve every 10 epochs; on the log scale the exponential one is a straight line and
# the step-wise one a staircase that meets it at n = 0, 10, 20, ... and drops one epoch early.

# %% [markdown]
# The same numbers come out of the library schedules, evaluated with the epoch as their
# step (this is how a schedule object would be used per epoch; in training it counts steps):

# %%
keras_exponential = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=decay_every, decay_rate=decay_rate
)
keras_staircase = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=decay_every, decay_rate=decay_rate, staircase=True
)
lrlab_step_decay = StepDecay(initial_learning_rate, decay_rate=decay_rate, decay_steps=decay_every)

comparisons = {
    "ExponentialDecay(n)                 vs exponential formula": (
        learning_rate_curve(keras_exponential, epochs),
        exponential,
    ),
    "ExponentialDecay(staircase)(n + 1)  vs step-wise formula  ": (
        learning_rate_curve(keras_staircase, epochs + 1),
        step_wise,
    ),
    "lrlab StepDecay(n)                  vs step-wise formula  ": (
        learning_rate_curve(lrlab_step_decay, epochs),
        step_wise,
    ),
}
for label, (values, reference) in comparisons.items():
    difference = max_relative_error(values, reference)
    print(f"{label}: max relative difference <= 1e-6: {difference <= 1e-6}")
print(
    "ExponentialDecay(staircase)(n)      vs step-wise formula  : equal:",
    np.allclose(learning_rate_curve(keras_staircase, epochs), step_wise, rtol=1e-6),
)

# %% [markdown]
# Keras's exponential decay is the exponential formula; its staircase is the step-wise
# formula shifted by one epoch (evaluated at n + 1 it matches, at n it does not);
# `lrlab.schedules.StepDecay` is the course's step-wise formula itself.

# %% [markdown]
# ## Exercises
#
# **1.** Write `largest_stable_learning_rate(hessian)`: the bound 2/λ_max above which
# gradient descent on f(x) = ½ xᵀHx diverges. Use the eigenvalues, not the diagonal
# (`np.linalg.eigvalsh` works for a symmetric matrix).

# %% tags=["solution"]
import numpy as np


def largest_stable_learning_rate(hessian):
    """2 / lambda_max: gradient descent on 1/2 x^T H x converges for 0 < rate < this value."""
    return 2.0 / np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64)).max()


# %%
checks.check_largest_stable_learning_rate(largest_stable_learning_rate)

# %% [markdown]
# **2.** Write the course's step-wise formula as a function of the epoch index,
# η_n = η_0 · d^⌊(1+n)/r⌋, with η_0 = `initial_learning_rate`, d = `decay_rate` and
# r = `decay_every`.

# %% tags=["solution"]
import math


def step_decay(epoch, initial_learning_rate, decay_rate, decay_every):
    """initial_learning_rate * decay_rate ** floor((1 + epoch) / decay_every)."""
    return initial_learning_rate * decay_rate ** math.floor((1 + epoch) / decay_every)


# %%
checks.check_step_decay(step_decay)
