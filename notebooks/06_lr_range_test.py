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
# # 06 · The learning-rate range test
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lrlab-course/lrlab/blob/main/notebooks/06_lr_range_test.ipynb)
#
# The range test (Leslie Smith, *Cyclical Learning Rates for Training Neural Networks*,
# 2017, section 3.3) trains for a short while with a learning rate that grows at every
# step from tiny to huge, and plots the loss against the rate: flat, then falling, then
# exploding. fastai's `lr_find` made it exponential, smoothed the loss, stopped it at the
# explosion and turned the curve into named suggestions. This lesson:
#
# 1. builds it from scratch in NumPy on linear regression, whose largest stable rate
#    2/λ_max we can compute, and on logistic regression, and shows where the curve
#    explodes and where each suggestion lands;
# 2. answers the open questions of the original study with experiments: why training
#    works at rates well above the suggestion; whether raising the rate per batch or per
#    epoch changes the curve; how batch size and smoothing move it; how much the
#    suggestions vary from run to run;
# 3. uses lrlab's Keras finder on the GTSRB ConvNet, which records each batch's own loss
#    (not Keras's running mean), puts the model and optimizer back as they were and writes
#    no file, then trains at the suggested rate, at a badly chosen one and with one-cycle.
#
# It assumes lesson 01 (gradient descent converges for η < 2/λ_max) and knows the
# one-cycle schedule from the schedule lessons.

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
import dataclasses
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lrlab import checks, claims, notebook, scratch
from lrlab.data import load_gtsrb
from lrlab.finder import (
    SUGGESTION_NAMES,
    RangeTestState,
    find_lr,
    learning_rate_ramp,
    range_test_numpy,
    run_range_test,
    smooth_losses,
)
from lrlab.models import build_convnet, compile_classifier
from lrlab.plotting import learning_rate_curve, savefig
from lrlab.schedules import OneCycle

notebook.setup(seed=0)

# %% [markdown]
# ## 1. The range test from scratch
#
# ### 1.1 Linear regression, where the answer is known
#
# With the loss L(w) = ½ mean((Xw − y)²) the gradient is Xᵀ(Xw − y)/n and the Hessian is
# the constant matrix H = XᵀX/n. Full-batch gradient descent converges exactly when
# η < 2/λ_max(H) (lesson 01). Four features of different scales and a bias make λ_max
# and the condition number interesting; the targets have noise, so the lowest loss is
# not 0.

# %%
rng = np.random.default_rng(0)
num_examples = 512
feature_scales = np.array([1.0, 2.0, 0.5, 3.0])
features = scratch.add_bias(rng.normal(size=(num_examples, 4)) * feature_scales)
true_weights = rng.normal(size=5)
targets = features @ true_weights + 0.5 * rng.normal(size=num_examples)
linear = scratch.LinearRegression(features, targets)

eigenvalues, eigenvectors = np.linalg.eigh(linear.hessian())
lambda_max = eigenvalues[-1]
stable_limit = 2 / lambda_max
start = np.zeros(5)
print("eigenvalues of X^T X / n:", np.array2string(eigenvalues, precision=3))
print(f"lambda_max = {lambda_max:.3f}, condition number = {lambda_max / eigenvalues[0]:.1f}")
print(f"largest stable full-batch rate 2 / lambda_max = {stable_limit:.4f}")


# %% [markdown]
# Mini-batch gradient descent is `scratch.train` with `scratch.SGD`: each epoch visits the
# examples in a new order, in batches. At constant rates around the limit, for 20 epochs:

# %%
def loss_after_training(rate, batch_size, epochs=20, seed=0):
    """The full-data loss after `epochs` of gradient descent at a constant `rate`."""
    with np.errstate(over="ignore", invalid="ignore"):
        trajectory = scratch.train(
            linear, scratch.SGD(rate), start, epochs=epochs, batch_size=batch_size, seed=seed
        )
        return linear.loss(trajectory.params[-1])


lowest_loss = linear.loss(np.linalg.lstsq(features, targets, rcond=None)[0])
print(f"lowest possible loss (least squares): {lowest_loss:.4f}")
for fraction in (0.5, 0.95, 1.05, 1.2):
    rate = fraction * stable_limit
    print(
        f"eta = {fraction:4.2f} x 2/lambda_max: full batch {loss_after_training(rate, None):10.4g}"
        f"   batches of 32 {loss_after_training(rate, 32):10.4g}"
    )

# %% [markdown]
# Full batch: 0.95 × 2/λ_max still converges (slowly, zig-zagging along the steepest
# direction), 1.05 × diverges. Mini-batches move the edge a little (1.05 × survives these
# 20 epochs, 1.2 × does not): about 2/λ_max is the stable range for both.
#
# ### 1.2 The ramp
#
# The range test trains step k at the rate r_k of an exponential ramp from `start_lr` to
# `end_lr` in n steps, r_k = start_lr · (end_lr / start_lr)^(k / (n − 1)): every step
# multiplies the rate by the same factor, so each decade of rates gets the same number
# of steps. Write it.

# %% tags=["solution"]
def exponential_ramp(start_lr, end_lr, num_steps):
    """The rates start_lr * (end_lr / start_lr) ** (k / (num_steps - 1)), k = 0 .. num_steps - 1."""
    import numpy as np

    fraction = np.arange(num_steps) / (num_steps - 1)
    return start_lr * (end_lr / start_lr) ** fraction


# %%
checks.check_exponential_ramp(exponential_ramp)

# %% [markdown]
# `lrlab.finder.learning_rate_ramp` is this ramp (and a linear one). A step of the test
# trains one batch at r_k and records that batch's loss, taken before the update as Keras
# does. The raw losses are noisy, so they are smoothed by a bias-corrected exponential
# average, s_k = a_k / (1 − β^(k+1)) with a_k = β a_(k−1) + (1 − β) loss_k and β = 0.98
# (fastai's choice; the correction removes the pull of a_(−1) = 0 on the first steps).
# The test stops when the smoothed loss exceeds 4 × its lowest value so far, or is not a
# number. The loop, `lrlab.finder.run_range_test`, and the end of each step in
# `RangeTestState`, which the Keras finder uses too:

# %%
notebook.show_source(run_range_test, RangeTestState.end_step)

# %% [markdown]
# `range_test_numpy` runs that loop with `scratch.SGD`, whose rate is the one
# `train_batch(rate)` is given.
#
# With the full batch there is no sampling noise, so we switch smoothing off (β = 0):

# %%
full_batch = range_test_numpy(linear, start, 1e-4, 10.0, num_steps=100, beta=0.0)
mini_batch = range_test_numpy(linear, start, 1e-4, 10.0, num_steps=100, batch_size=32)


def relative_to(limit, results):
    """Where each test stopped and each suggestion lies, as multiples of `limit`."""
    rows = {}
    for name, result in results.items():
        stop = result.divergence_learning_rate
        rows[name] = {"stopped at": np.nan if stop is None else stop / limit} | {
            suggestion: rate / limit for suggestion, rate in result.suggestions.items()
        }
    return pd.DataFrame(rows).T


def show_table(table, float_format="{:.3f}"):
    print(table.to_string(float_format=float_format.format))


print("multiples of 2/lambda_max:")
show_table(relative_to(stable_limit, {"full batch": full_batch, "batches of 32": mini_batch}))

# %% [markdown]
# ### 1.3 The four suggestions
#
# fastai's `lr_find` reads the smoothed curve without its first n/10 steps and its last 5,
# cut before the first NaN, and offers (fastai/callback/schedule.py):
#
# - **valley** (fastai's default): for each point the length L of the longest strictly
#   decreasing subsequence of losses ending there (not necessarily contiguous); with e the
#   first point of the largest L and s = e − L, the rate at s + ⌊L/3⌋ + ⌊L/6⌋, about
#   half-way along that valley;
# - **steep**: the rate where the loss falls fastest against ln(rate);
# - **minimum**: the rate of the lowest loss divided by 10;
# - **slide**: a window of 15 points slides left from the end while the gradients of the
#   loss at its two ends differ by more than 0.005; the rate at the last left end.
#
# Write `steep`: the slopes (loss_(i+1) − loss_i) / (ln r_(i+1) − ln r_i), and the rate
# r_i that starts the most negative one.

# %% tags=["solution"]
def steep_suggestion(learning_rates, losses):
    """The rate r_i where (loss_{i+1} - loss_i) / (ln r_{i+1} - ln r_i) is most negative."""
    import numpy as np

    slopes = np.diff(losses) / np.diff(np.log(learning_rates))
    return float(learning_rates[np.argmin(slopes)])


# %%
checks.check_steep_suggestion(steep_suggestion)

# %% [markdown]
# ### 1.4 Where the curve explodes, and where the suggestions land
#
# Logistic regression on the same features (labels: the sign of a noisy linear score) has
# a Hessian Xᵀ diag(p(1 − p)) X / n that changes with w but never exceeds XᵀX/(4n),
# because p(1 − p) ≤ 1/4. Its loss is therefore L-smooth with L = λ_max/4, and gradient
# descent is guaranteed to decrease it for η < 2/L = 8/λ_max: a sufficient bound, not a
# sharp one as for the quadratic.

# %%
labels = (features[:, :4] @ true_weights[:4] + rng.normal(size=num_examples) > 0).astype(float)
logistic = scratch.LogisticRegression(features, labels)
logistic_limit = 2 / (lambda_max / 4)
logistic_test = range_test_numpy(logistic, start, 1e-4, 1000.0, num_steps=100, batch_size=32)
print(f"logistic regression: 2/L = 8/lambda_max = {logistic_limit:.3f}; multiples of 2/L:")
show_table(relative_to(logistic_limit, {"batches of 32": logistic_test}))

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.4))
panels = (
    (full_batch, stable_limit, "2/λ_max", "linear regression, full batch (β = 0)"),
    (mini_batch, stable_limit, "2/λ_max", "linear regression, batches of 32"),
    (logistic_test, logistic_limit, "2/L = 8/λ_max", "logistic regression, batches of 32"),
)
for ax, (result, limit, limit_name, title) in zip(axes, panels, strict=True):
    result.plot(ax=ax, title=title)
    ax.axvline(limit, color="k", lw=1.5, ls="--", label=f"{limit_name} = {limit:.3g}")
    ax.legend(fontsize=8, loc="best")
fig.suptitle("Range tests from scratch: the loss against the rate, suggestions marked")
fig.tight_layout()
savefig(fig, "06_numpy_range_tests")
plt.show()

# %% [markdown]
# For linear regression every suggestion lies below the stability limit (dashed), from
# 0.002 to 0.4 × 2/λ_max, while the curves explode only well beyond it: at 7.3 × 2/λ_max
# with the full batch, 2.9 × with batches of 32. For logistic regression 2/L is only a
# sufficient bound: `minimum` and `slide` lie above it, and the curve rises only at about
# 300 × 2/L, since this loss grows only linearly in w.
#
# The original study ran its logistic test with the linear model's cost and gradient:
# the mean squared error ½ mean((Xw − y)²) and its gradient Xᵀ(Xw − y)/n, on 0/1 labels.
# That is linear regression on the labels, not logistic regression. The gradient of the
# cross-entropy is Xᵀ(σ(Xw) − y)/n (`scratch.LogisticRegression.grad`); a central finite
# difference of the cross-entropy tells the two apart, and the two range tests explode at
# very different rates:

# %%
def finite_difference_gradient(loss, weights, step=1e-6):
    """The central difference (L(w + h e_i) - L(w - h e_i)) / 2h for each coordinate i."""
    return np.array(
        [(loss(weights + step * e) - loss(weights - step * e)) / (2 * step) for e in np.eye(weights.size)]
    )


with_mse_gradient = scratch.LinearRegression(features, labels)  # the study's cost and gradient
probe_weights = np.random.default_rng(1).normal(size=5)
reference = finite_difference_gradient(logistic.loss, probe_weights)
for name, model in (("cross-entropy gradient", logistic), ("MSE gradient", with_mse_gradient)):
    error = np.abs(model.grad(probe_weights) - reference).max()
    verdict = "matches" if error < 1e-6 else f"is off by up to {error:.1f}"
    print(f"{name:>22} {verdict} (the finite difference of the cross-entropy)")
mse_test = range_test_numpy(with_mse_gradient, start, 1e-4, 1000.0, num_steps=100, batch_size=32)
print("multiples of 2/L = 8/lambda_max:")
show_table(
    relative_to(logistic_limit, {"cross-entropy (right)": logistic_test, "MSE (the study)": mse_test})
)

# %% [markdown]
# With the MSE gradient the test explodes below 2/L, at about 3 × 2/λ_max (2/λ_max is
# 0.25 × 2/L), as the linear tests do: the study's logistic curve was a second
# linear-regression curve, and its conclusions about logistic regression do not carry over.
# With the right gradient the curve explodes about 400 times later.
#
# ### 1.5 Why the full-batch curve explodes so late
#
# In the eigenbasis of H each direction evolves on its own: its error is multiplied by
# (1 − ηλ_i) at every step. Passing through η ≈ 1/λ_max, the steepest direction is
# multiplied by numbers close to 0 for several steps, so by the time the rate crosses
# 2/λ_max its error is tiny; it does grow from then on, but it has to grow back by as
# much before it dominates the loss. Following that one direction along the test:

# %%
ramp = learning_rate_ramp(1e-4, 10.0, 100)
steps_run = full_batch.losses.size
with np.errstate(over="ignore", invalid="ignore"):
    trajectory = scratch.train(linear, scratch.SGD(lambda step: ramp[step]), start, steps=steps_run)
optimum = np.linalg.lstsq(features, targets, rcond=None)[0]
steepest = eigenvectors[:, -1]
steepest_part = 0.5 * lambda_max * ((trajectory.params[:-1] - optimum) @ steepest) ** 2
excess_loss = trajectory.losses - lowest_loss
np.testing.assert_allclose(trajectory.losses, full_batch.losses)  # the same run as the test

crossing = int(np.searchsorted(ramp, stable_limit))
takeover = int(np.argmax((steepest_part > 0.5 * excess_loss) & (np.arange(steps_run) > crossing)))
print(
    f"steepest direction's share of the loss: {steepest_part[0]:.3g} at the start, "
    f"{steepest_part[crossing]:.3g} when the rate passes 2/lambda_max (step {crossing})"
)
print(
    f"it is half the excess loss again at step {takeover}, rate = "
    f"{ramp[takeover] / stable_limit:.2f} x 2/lambda_max; the test stopped at step {steps_run - 1}"
)

# %%
fig, ax = plt.subplots(figsize=(8, 4.2))
ax.loglog(ramp[:steps_run], excess_loss, label="loss above its minimum")
ax.loglog(ramp[:steps_run], steepest_part, label="its part along the steepest direction")
ax.axvline(1 / lambda_max, color="0.5", ls=":", label="1/λ_max")
ax.axvline(stable_limit, color="k", ls="--", label="2/λ_max")
ax.set_xlabel("learning rate of the step")
ax.set_ylabel("loss")
ax.set_title("Full-batch range test: the steepest direction dies at 1/λ_max, then regrows")
ax.legend()
savefig(fig, "06_steepest_direction")
plt.show()

# %% [markdown]
# The steepest direction's share of the loss collapses by many orders of magnitude around
# 1/λ_max, grows again only after 2/λ_max, and overtakes the rest of the loss several
# times 2/λ_max later: that is where the curve turns up.
#
# ## 2. The open questions
#
# ### 2.1 Why does training work at rates well above the suggestion?
#
# Train at 30 constant rates for 10 epochs of batches of 32 and compare the final loss
# with the suggestions of the mini-batch test and the limit:

# %%
sweep_rates = np.geomspace(1e-3, 3, 30) * stable_limit
sweep_losses = np.array([loss_after_training(rate, 32, epochs=10) for rate in sweep_rates])
stable = sweep_rates[np.isfinite(sweep_losses) & (sweep_losses < 10 * lowest_loss)]
print(f"largest rate of the sweep that trains: {stable.max() / stable_limit:.2f} x 2/lambda_max")
for name, rate in mini_batch.suggestions.items():
    print(
        f"{name:>8}: {rate / stable_limit:.3f} x 2/lambda_max, "
        f"loss after 10 epochs {loss_after_training(rate, 32, epochs=10):.4f}"
    )
print(
    f"    half: 0.500 x 2/lambda_max, loss after 10 epochs "
    f"{loss_after_training(0.5 * stable_limit, 32, epochs=10):.4f}"
)

# %%
fig, ax = plt.subplots(figsize=(8, 4.2))
shown = np.where(np.isfinite(sweep_losses), np.minimum(sweep_losses, 1e3), 1e3)
ax.loglog(sweep_rates, shown, "o-", ms=4, color="0.3", label="loss after 10 epochs (capped)")
for index, (name, rate) in enumerate(mini_batch.suggestions.items(), start=2):
    ax.axvline(rate, color=f"C{index}", lw=1.5, label=f"{name}")
ax.axvline(stable_limit, color="k", ls="--", label="2/λ_max")
ax.axhline(lowest_loss, color="0.6", ls=":", label="lowest possible loss")
ax.set_xlabel("constant learning rate")
ax.set_ylabel("full-data loss")
ax.set_title("Linear regression, batches of 32: the stable range goes up to 2/λ_max")
ax.legend(ncol=2)
savefig(fig, "06_rates_above_the_suggestion")
plt.show()

# %% [markdown]
# Every rate from the `valley` suggestion up to about 2/λ_max trains. Below about
# 0.1 × 2/λ_max the 10 epochs are too few (`steep`, 0.002 × 2/λ_max, sits on the noisy
# start of the curve and is far too small; `slide` and `valley` still end above the lowest
# loss); from there to about 0.3 × 2/λ_max the loss is within 1 % of the lowest possible,
# and above that it rises again slowly (0.1252 at half the limit against 0.1218 at
# `minimum`): a constant rate near the limit makes larger steps, and with batches of 32
# each step also carries more gradient noise, which holds the loss above its minimum. The
# suggestions are not the edge of stability: they read the part of the curve where the
# loss falls fastest while the rate is still growing, here 6 to 500 times below the limit.
#
# So training works above a suggestion because the usable range extends to where a
# *constant* rate stops converging (here 2/λ_max), not to where the rising rate of the
# test made the loss fall fastest. That does not make a suggestion a safe constant rate:
# on a network the stable range is not known, the test's curve is read while the weights
# change, and a rate that is fine for a few hundred steps can still wreck a long run
# (lesson 08's control `constant_at_one_cycle_peak` holds a peak that serves one-cycle well
# as a constant rate instead: see its seeds there, on gtsrb-small).
# A suggestion marks the upper region of good rates, the peak for a schedule that then
# decays (one-cycle, cosine), rather than a rate to hold for the whole run.
#
# ### 2.2 Raise the rate every batch or every epoch?
#
# Same budget, 20 epochs of 16 batches: one rate per batch (320 rates) or one rate per
# epoch (20 rates, each held for 16 batches). The loss of a per-epoch step is the mean of
# its 16 batches, already an average, so it is not smoothed further (β = 0).

# %%
per_batch = range_test_numpy(linear, start, 1e-4, 10.0, num_steps=320, batch_size=32)
per_epoch = range_test_numpy(
    linear, start, 1e-4, 10.0, num_steps=20, batch_size=32, batches_per_step="epoch", beta=0.0
)
print("multiples of 2/lambda_max:")
show_table(relative_to(stable_limit, {"per batch": per_batch, "per epoch": per_epoch}))
for name, result in (("per batch", per_batch), ("per epoch", per_epoch)):
    factor = result.learning_rates[1] / result.learning_rates[0]
    lowest = np.argmin(result.smoothed_losses)
    where = result.learning_rates[lowest] / stable_limit
    print(
        f"{name}: rate x{factor:.3f} per step, {result.losses.size} steps, lowest smoothed loss "
        f"{result.smoothed_losses[lowest]:.3f} at {where:.2f} x 2/lambda_max"
    )

# %%
def log_log_axes(ax, bottom, top, ylabel):
    """Rates on a log x-axis, losses from ``bottom`` to ``top`` on a log y-axis."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)


fig, ax = plt.subplots(figsize=(8, 4.2))
batch_rates = per_batch.learning_rates
ax.plot(batch_rates, per_batch.losses, alpha=0.3, lw=1, label="per batch: 320 rates, raw")
ax.plot(batch_rates, per_batch.smoothed_losses, color="C0", lw=2, label="per batch, smoothed")
epoch_label = "per epoch: 20 rates, mean of 16 batches"
ax.plot(per_epoch.learning_rates, per_epoch.losses, "o-", color="C1", ms=5, label=epoch_label)
ax.axvline(stable_limit, color="k", ls="--", label="2/λ_max")
ax.axhline(lowest_loss, color="0.6", ls=":", label="lowest possible loss")
log_log_axes(ax, 0.05, 50, "training loss")
ax.set_title("The same 320 batches, the rate raised per batch or per epoch")
ax.legend()
savefig(fig, "06_per_batch_or_per_epoch")
plt.show()

# %% [markdown]
# Hardly, as a curve: the raw per-batch losses (light blue) lie on the per-epoch curve.
# Rising per batch, the rate grows by only 3.7 % from one batch to the next, so in both
# tests the model has nearly caught up with each rate. What differs:
#
# - resolution: per epoch, 20 points a factor 1.8 apart, of which fastai's trimming leaves
#   7 for the suggestions: too few for `slide` (NaN), too coarse for the others;
# - smoothing: the per-epoch points are already means of 16 batches, while the per-batch
#   curve is read smoothed, and with β = 0.98 the smoothed curve (thick blue) lags far
#   behind a loss that falls by two decades: per-batch suggestions are read off that
#   lagging curve, so the two kinds of test suggest different rates;
# - stopping: per epoch, the first rate above the limit (1.24 ×) explodes within its
#   epoch; per batch, the test stops at 1.47 ×.
#
# Raising the rate every batch gives the resolution the suggestions need, which is why
# finders do it; the smoothing is the price, and section 2.3 measures it.
#
# ### 2.3 How batch size and smoothing move the curve

# %%
batch_size_tests = {
    "batches of 8": range_test_numpy(linear, start, 1e-4, 10.0, num_steps=100, batch_size=8),
    "batches of 8, 4 per step": range_test_numpy(
        linear, start, 1e-4, 10.0, num_steps=100, batch_size=8, batches_per_step=4
    ),
    "batches of 32": mini_batch,
    "batches of 128": range_test_numpy(linear, start, 1e-4, 10.0, num_steps=100, batch_size=128),
    "full batch (512)": range_test_numpy(linear, start, 1e-4, 10.0, num_steps=100),
}
print("steps run and multiples of 2/lambda_max:")
table = relative_to(stable_limit, batch_size_tests)
table.insert(0, "steps", [result.losses.size for result in batch_size_tests.values()])
show_table(table)

# %% [markdown]
# With batches of 8 the test stops after 10 steps, at 0.001 × 2/λ_max: a false alarm.
# The losses of batches of 8 differ by a factor 10 from batch to batch, and early on the
# bias-corrected average is close to the raw loss, so one low first loss followed by high
# ones passes the 4 × rule. Averaging 4 batches per step removes it. Mini-batch tests
# stop at 1.4 to 2.9 × 2/λ_max, much earlier than the full batch (8.2 ×): the gradient
# noise keeps feeding the steepest direction, so its explosion shows soon after the limit
# (section 1.5 explains the full-batch delay).
#
# Smoothing is applied after the fact, so one run (batches of 32, without early stop) can
# be smoothed with several β:

# %%
long_run = range_test_numpy(
    linear, start, 1e-4, 10.0, num_steps=100, batch_size=32, stop_factor=None
)
smoothings = {
    f"beta = {beta}": dataclasses.replace(
        long_run, smoothed_losses=smooth_losses(long_run.losses, beta), beta=beta
    )
    for beta in (0.0, 0.9, 0.98, 0.995)
}
print("suggestions from the same run, multiples of 2/lambda_max:")
show_table(relative_to(stable_limit, smoothings).drop(columns="stopped at"))

# %%
fig, (size_ax, smooth_ax) = plt.subplots(1, 2, figsize=(14, 4.4))
for name, result in batch_size_tests.items():
    size_ax.plot(result.learning_rates, result.smoothed_losses, label=f"{name}")
size_ax.set_title("Batch size (β = 0.98; full batch: no noise)")
for name, result in smoothings.items():
    smooth_ax.plot(result.learning_rates, result.smoothed_losses, label=name)
smooth_ax.set_title("Smoothing of one run (batches of 32)")
for ax in (size_ax, smooth_ax):
    ax.axvline(stable_limit, color="k", ls="--", label="2/λ_max")
    log_log_axes(ax, 0.05, 1e3, "smoothed training loss")
    ax.legend(fontsize=8)
fig.tight_layout()
savefig(fig, "06_batch_size_and_smoothing")
plt.show()

# %% [markdown]
# Left: smaller batches make the loss noisier and let the noise trigger the stop; right:
# a larger β gives a smoother curve that lags behind the raw loss by about 1/(1 − β) steps
# (50 for β = 0.98), so it reaches its minimum and its rise at larger rates: smoothing
# shifts the curve to the right, and `minimum` with it, from 0.13 to 0.23 × 2/λ_max.
#
# How far to the right follows from β and the ramp. The bias-corrected average at step k
# gives the loss of j steps earlier the weight β^j / (1 + β + … + β^k): the weights of an
# exponential average sum to about 1/(1 − β), its effective memory in steps (10 for
# β = 0.9, 50 for β = 0.98). Their mean age, the lag of the smoothed curve, is β/(1 − β)
# steps once k is well beyond that memory; before, the bias correction makes the average
# the plain mean of all k + 1 losses so far, with mean age k/2. On an exponential ramp
# every step multiplies the rate by ratio = (end_lr/start_lr)^(1/(n − 1)), so a lag of d
# steps is a lag of ratio^d in rate. For the 100-step tests above and for the 200-step
# ConvNet test of section 3:

# %%
def smoothing_lag(beta, steps):
    """The mean age, in steps, of the losses in the bias-corrected average after `steps` steps."""
    ages = np.arange(steps)
    weights = beta**ages
    return float(ages @ weights / weights.sum())


lag_rows = {}
for test_name, steps, decades in (
    ("100 steps over 5 decades", 100, 5),
    ("200 steps over 4 decades", 200, 4),
):
    ratio = 10 ** (decades / (steps - 1))
    for beta in (0.9, 0.95, 0.98):
        lag = smoothing_lag(beta, steps)
        lag_rows[test_name, f"beta = {beta}"] = {
            "memory 1/(1-beta)": 1 / (1 - beta),
            "lag at the end (steps)": lag,
            "lag in rate": ratio**lag,
        }
show_table(pd.DataFrame(lag_rows).T, "{:.1f}")

# %% [markdown]
# With fastai's β = 0.98, at the end of a 100-step test over 5 decades the smoothed loss
# drawn at a rate r is mostly the loss of rates about 50 times smaller: the memory of 50
# steps is half the test. Reading suggestions off such a curve is reading them off the wrong rates. Choose β
# from the number of steps, so that the memory is a small fraction of the test (about
# 5 %, β = 1 − 20/n): β = 0.9 on 200 steps lags by a factor 1.5 in rate, and averages
# over 10 batch losses, enough against the batch-to-batch noise.
#
# ### 2.4 How stable are the suggestions?
#
# The study's first reference asks how reliable the suggestions are. Ten runs that differ
# only in their seed (the batch order, and the starting weights drawn from it):

# %%
def suggestion_spread(results):
    """Mean, standard deviation and coefficient of variation of log10 of each suggestion."""
    logs = pd.DataFrame([result.suggestions for result in results]).apply(np.log10)
    return pd.DataFrame(
        {
            "mean log10": logs.mean(),
            "std log10": logs.std(ddof=0),
            "CV of log10": logs.std(ddof=0) / logs.mean().abs(),
        }
    )


seed_runs = [
    range_test_numpy(
        linear,
        np.random.default_rng(100 + seed).normal(size=5),
        1e-4,
        10.0,
        num_steps=100,
        batch_size=32,
        seed=seed,
    )
    for seed in range(10)
]
linear_spread = suggestion_spread(seed_runs)
show_table(linear_spread)

# %% [markdown]
# The standard deviation of log10 is the spread in decades (10^std is the typical factor
# between runs); the CV of a logarithm depends on the units of the rate, so read the std.
# `minimum` and `valley` move by 11 to 15 % between seeds (std 0.05 and 0.06); `steep`
# and `slide` by factors of about 3 (std 0.43 and 0.48): `steep` picks the single
# steepest segment of a noisy curve. Section 3.2 asks the same of a real network.
#
# ## 3. Keras: the finder on the GTSRB ConvNet
#
# `lrlab.finder.find_lr(model, data)` runs the same test inside `model.fit` with the
# `LRFinder` callback. It avoids the faults of public finders:
#
# - In `on_train_batch_end`, `logs["loss"]` is the mean since the epoch began, weighted
#   by the batch sizes (Keras 3 updates its loss tracker with sample_weight = batch
#   size); a finder that plots it draws a lagging, shifted curve. `LRFinder` resets the
#   tracker before every batch, so it records each batch's own loss, exactly.
# - It keeps the model's variables (BatchNorm statistics and dropout seeds too), the
#   optimizer's variables and its rate in memory and puts them back, also when the test
#   diverges or raises: no temporary weight files, nothing to clash.
# - An unbuilt model is built from the first batch; an optimizer whose rate is a schedule
#   is refused with the reason (the test must set the rate itself).

# %%
data = load_gtsrb()
print(data.summary())
batch_sizes = [int(images.shape[0]) for images, _ in data.train]
print(f"{len(batch_sizes)} batches per epoch: {batch_sizes.count(32)} of 32 and one of {batch_sizes[-1]}")

# %% [markdown]
# The original study's finder kept the initial weights in a file instead, with
# `model.save_weights` before the first batch, on a `Sequential` model declared without an
# `Input`. Such a model has no weights until it sees data, and the save fails:

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
weights_folder = tempfile.TemporaryDirectory()
weights_file = str(Path(weights_folder.name) / "initial.weights.h5")
unbuilt = keras.Sequential(
    [keras.layers.Conv2D(6, 3, activation="relu"), keras.layers.Flatten(), keras.layers.Dense(43)]
)
unbuilt.save_weights(weights_file)

# %% [markdown]
# Building it first (from an input shape, or by calling it on a batch) gives it weights to
# save; `lrlab.models.build_convnet` declares its `Input`, so the course's ConvNet is built
# as soon as it is created:

# %%
unbuilt.build((None, 32, 32, 3))
unbuilt.save_weights(weights_file)
print(f"built: {unbuilt.built}; {len(unbuilt.weights)} weight tensors saved")
weights_folder.cleanup()

# %% [markdown]
# A model compiled with a schedule cannot be tested, and the finder says why:

# %%
# exact output: the finder refuses the schedule before the first batch, on any machine
scheduled = compile_classifier(build_convnet(), keras.optimizers.Adam(OneCycle(1e-2, 100)))
try:
    find_lr(scheduled, data.train)
except TypeError as error:
    print(f"TypeError: {error}")

# %% [markdown]
# ### 3.1 A curve that dips
#
# A ConvNet that guesses uniformly over 43 classes has the loss ln 43 ≈ 3.76, and on 695
# training images it needs a few epochs before the loss falls much below it: a test of 100
# steps from 10⁻⁵ (4.5 epochs, the first half of them at rates too small to move the
# weights) barely dips, and its curve is mostly noise. This test starts at 10⁻⁴ and takes 200 steps to
# 1 (9 epochs of the tiny set), with β = 0.9 as section 2.3 recommends for 200 steps.
# The model is fresh and seeded (seed 0, which also sets the split).

# %%
def state_of(model):
    """Copies of the model's variables, the optimizer's step count and its learning rate."""
    optimizer = model.optimizer
    variables = (*model.variables, optimizer.iterations, optimizer.learning_rate)
    return [np.array(variable.numpy()) for variable in variables]


CONVNET_RANGE = {"start_lr": 1e-4, "end_lr": 1.0, "num_steps": 200, "beta": 0.9}
print(
    f"{CONVNET_RANGE['num_steps']} steps are {CONVNET_RANGE['num_steps'] / len(batch_sizes):.1f} "
    f"epochs; the rate grows by a factor "
    f"{(CONVNET_RANGE['end_lr'] / CONVNET_RANGE['start_lr']) ** (1 / 199):.4f} per step"
)

# %%
# NBVAL_IGNORE_OUTPUT
notebook.setup(seed=0)
model = compile_classifier(build_convnet(), keras.optimizers.Adam(1e-3))
state_before = state_of(model)
convnet_test = find_lr(model, data.train, **CONVNET_RANGE)
print(f"stopped: {convnet_test.stop_reason} after {convnet_test.losses.size} steps")
for name, rate in convnet_test.suggestions.items():
    print(f"{name:>8}: {rate:.2e}")
identical = all(
    a.tobytes() == b.tobytes() for a, b in zip(state_before, state_of(model), strict=True)
)

# %%
# exact output: the finder assigns back copies it kept before the first batch
print(f"weights, optimizer step and learning rate back as they were, bit for bit: {identical}")

# %%
# NBVAL_IGNORE_OUTPUT
fig = convnet_test.plot(title="ConvNet on GTSRB (Adam): range test, 200 batches of 32")
fig.axes[0].plot(
    convnet_test.learning_rates,
    smooth_losses(convnet_test.losses, 0.98),
    color="C1",
    lw=2,
    ls="--",
    label="smoothed loss (beta=0.98, fastai's)",
)
fig.axes[0].legend(fontsize=8)
savefig(fig, "06_convnet_range_test")
plt.show()

# %% [markdown]
# The raw batch losses (grey) stay at ln 43 for the smallest rates, fall clearly once the
# rate is large enough for Adam to move the weights within the test, and turn up past
# the bottom of the curve. The β = 0.9 average (blue) follows them; fastai's β = 0.98
# (dashed) is still averaging the flat start when the raw loss is at its lowest, so its dip
# is shallower and comes later, as the lag table of section 2.3 predicts. The claims
# after section 3.2 check both observations on five seeds.
#
# ### 3.2 How stable are the ConvNet's suggestions?
#
# Four more tests, each from a fresh ConvNet with its own seed (initial weights, split,
# batch order); seed 0 is the test above.

# %%
# NBVAL_IGNORE_OUTPUT
def range_test_for_seed(seed):
    """A fresh ConvNet on the split of `seed`, seeded, and its range test; the batch sizes."""
    notebook.setup(seed=seed)
    seed_data = load_gtsrb(seed=seed)
    seed_model = compile_classifier(build_convnet(), keras.optimizers.Adam(1e-3))
    result = find_lr(seed_model, seed_data.train, **CONVNET_RANGE)
    return result, [int(images.shape[0]) for images, _ in seed_data.train]


convnet_seeds = range(5)
convnet_runs = {0: (convnet_test, batch_sizes)}
for seed in convnet_seeds[1:]:
    convnet_runs[seed] = range_test_for_seed(seed)
convnet_results = [result for result, _ in convnet_runs.values()]
convnet_spread = suggestion_spread(convnet_results)
spread = pd.concat({"linear regression (10 seeds)": linear_spread, "ConvNet (5 seeds)": convnet_spread})
show_table(spread)
print("ConvNet suggestions by seed:")
show_table(pd.DataFrame([result.suggestions for result in convnet_results]), "{:.2e}")

# %%
first_tenth = CONVNET_RANGE["num_steps"] // 10
noise_floor = [result.losses[:first_tenth].std(ddof=1) for result in convnet_results]
dips = [
    result.losses[:first_tenth].mean() - result.smoothed_losses.min() for result in convnet_results
]


def seeds_within_a_decade(name):
    """Claim: the suggestion ``name`` of the five seeds spans less than one decade."""
    rates = [result.suggestions[name] for result in convnet_results]
    return claims.bounded(
        [np.log10(max(rates) / min(rates))],
        below=1,
        statement=f"the ConvNet's {name} suggestions of the five seeds lie within one decade",
        reason="the range in decades, below 1: a suggestion is read to the nearest decade",
    )


decades_apart = [
    abs(np.log10(result.suggestions["valley"] / result.suggestions["minimum"]))
    for result in convnet_results
]
convnet_claims = claims.check_all(  # every claim is evaluated before a failure is reported
    lambda: claims.bounded(
        np.divide(dips, noise_floor),
        above=10,
        statement="the smoothed ConvNet curve dips far below its flat start on every seed",
        reason="the dip is more than 10 standard deviations of the raw losses of the first tenth",
    ),
    lambda: claims.every_pair(
        [smooth_losses(result.losses, 0.98).min() for result in convnet_results],
        [result.smoothed_losses.min() for result in convnet_results],
        statement="on 200 steps fastai's beta = 0.98 flattens the dip: its lowest smoothed loss "
        "stays above that of beta = 0.9",
    ),
    lambda: seeds_within_a_decade("valley"),
    lambda: seeds_within_a_decade("minimum"),
    lambda: claims.bounded(
        decades_apart,
        below=1,
        statement="on the ConvNet, valley and minimum lie within one decade of each other on every seed",
        reason="the distance in decades, below 1: a suggestion is read to the nearest decade",
    ),
)

# %%
# NBVAL_IGNORE_OUTPUT
slide_table = pd.DataFrame(
    {
        "slide": [result.suggestions["slide"] for result in convnet_results],
        "bottom of the smoothed curve": [
            result.learning_rates[np.argmin(result.smoothed_losses)] for result in convnet_results
        ],
    },
    index=pd.Index(list(convnet_runs), name="seed"),
)
slide_table["slide / bottom"] = slide_table["slide"] / slide_table["bottom of the smoothed curve"]
show_table(slide_table, "{:.3g}")

# %% [markdown]
# The standard deviation of log10 is again the spread in decades. `valley` and `minimum`
# vary by less than a decade between seeds, so a suggestion is good to roughly a factor
# 10^std: round it rather than trust its digits. `slide` starts its window of 15 points at
# the end of the curve, where the network wrecked by the largest rates gives a loss that is
# flat again; there it often finds the slopes at its two ends alike at once (or after a few
# steps) and hardly slides, landing near the end of the ramp, past the bottom of the curve,
# at no rate to train at. How far it slides hangs on the noise of the last losses, though:
# when we ran this lesson on three backends, on one core and on two, the window slid back
# below the bottom on a seed in some of those runs. So the lesson claims neither where
# `slide` lands nor how much it varies; the table above shows it beside the bottom of each
# seed's curve (a ratio above 1 is past the bottom). `steep`
# picks the single steepest segment of a noisy curve and is the least stable on linear
# regression; with five seeds the ConvNet's spreads of `steep` and `valley` are too
# uncertain to rank. `valley` and `minimum` also lie within a decade of each other; which of
# the two is lower is not a property of the rules: when we ran this lesson on TensorFlow,
# JAX and PyTorch it changed with the backend, on every seed, so the lesson claims no order.
#
# ### 3.3 What a finder that reads `logs["loss"]` would have plotted
#
# Keras's running mean, which we can rebuild from the batch losses with the batch sizes
# (the mean restarts every epoch of 22 batches):

# %%
def keras_running_mean(result, epoch_batch_sizes):
    """What logs["loss"] showed after each batch: the size-weighted mean since the epoch began."""
    sizes = np.resize(epoch_batch_sizes, result.batch_losses.size)
    epoch_of_batch = np.arange(sizes.size) // len(epoch_batch_sizes)
    return np.concatenate(
        [
            np.cumsum(sizes[epoch_of_batch == e] * result.batch_losses[epoch_of_batch == e])
            / np.cumsum(sizes[epoch_of_batch == e])
            for e in np.unique(epoch_of_batch)
        ]
    )


def as_running_mean(result, epoch_batch_sizes):
    """The range test `result` as that finder would have read it (same smoothing)."""
    running_means = keras_running_mean(result, epoch_batch_sizes)
    return dataclasses.replace(
        result, losses=running_means, smoothed_losses=smooth_losses(running_means, result.beta)
    )


# %%
# NBVAL_IGNORE_OUTPUT
naive = as_running_mean(convnet_test, batch_sizes)
print("seed 0: suggestion    batch losses   Keras running mean")
for name in SUGGESTION_NAMES:
    print(f"{name:>18}    {convnet_test.suggestions[name]:12.2e}   {naive.suggestions[name]:12.2e}")

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(8, 4.2))
ax.plot(convnet_test.learning_rates, convnet_test.losses, color="0.75", lw=1, label="batch losses")
ax.plot(
    convnet_test.learning_rates, convnet_test.smoothed_losses, lw=2, label="batch losses, smoothed"
)
ax.plot(naive.learning_rates, naive.losses, color="C1", lw=1, label='logs["loss"]: running mean')
ax.plot(
    naive.learning_rates,
    naive.smoothed_losses,
    color="C1",
    lw=2,
    ls="--",
    label="running mean, smoothed",
)
ax.set_xscale("log")
ax.set_ylim(convnet_test.losses.min() - 0.1, np.log(43) + 0.3)
ax.set_xlabel("learning rate")
ax.set_ylabel("training loss")
ax.set_title('The batch loss against Keras\'s running mean (logs["loss"]), seed 0')
ax.legend()
savefig(fig, "06_running_mean_pitfall")
plt.show()

# %% [markdown]
# The running mean restarts at every epoch and then averages over the whole epoch so far,
# so while the loss falls within an epoch it trails above the batch loss (a mean of falling
# numbers lies above the last of them) and drops back at each epoch start; these saw-teeth
# make false valleys. By how much it trails before the bottom of the curve, seed by seed:

# %%
# NBVAL_IGNORE_OUTPUT
for seed, (result, epoch_batch_sizes) in convnet_runs.items():
    lowest = int(np.argmin(result.smoothed_losses))
    trailing = keras_running_mean(result, epoch_batch_sizes)[:lowest] - result.losses[:lowest]
    print(f"seed {seed}: running mean - batch loss before the bottom: mean {trailing.mean():+.4f}, "
          f"largest {trailing.max():+.4f}")

# %% [markdown]
# Most of the steps before the bottom lie on the flat start of the curve, where a running mean
# of a flat, noisy loss has no reason to lie above it. The gap's size, and how far the suggestions move and in which direction, change from seed
# to seed, from machine to machine (on one core, one seed's running-mean `valley` moved up
# where the others moved down) and between backends (on JAX's initial weights the gap before
# the bottom was within the noise of five seeds), so the lesson claims neither: a finder that
# reads `logs["loss"]` simply reads another curve, and the figure shows how.

# %% [markdown]
# ### 3.4 Training at the suggestion, at a bad rate, and with one-cycle
#
# For three seeds, three ConvNets from that seed's initial weights, split and batch order,
# 12 epochs each, at rates from that seed's range test:
#
# - constant rate = the `valley` suggestion;
# - constant rate = the rate at the lowest point of the smoothed curve, a tempting but bad
#   choice (the loss is lowest there only because the rate was smaller a moment before);
# - one-cycle with the maximum found by the test, the `minimum` suggestion (the rate at
#   the lowest loss divided by 10, fastai's `lr_min`).
#
# The test set (the official one) is the same for every seed; after the 12 epochs each
# model is evaluated on it once. Its most frequent class sets what a constant guess scores:

# %%
test_labels = np.concatenate([labels.numpy() for _, labels in data.test])
most_frequent = int(np.bincount(test_labels).max())
constant_guess = (most_frequent + 0.5) / test_labels.size  # half an image above a constant guess
print(f"test set: {test_labels.size} images; the most frequent class has {most_frequent}")

# %%
# NBVAL_IGNORE_OUTPUT
epochs = 12
training_seeds = (0, 1, 2)


def train_convnet(seed, learning_rate):
    """`epochs` of a fresh ConvNet on the split of `seed`: its history and its test accuracy."""
    notebook.setup(seed=seed)
    seed_data = load_gtsrb(seed=seed)
    run_model = compile_classifier(build_convnet(), keras.optimizers.Adam(learning_rate))
    history = run_model.fit(
        seed_data.train, epochs=epochs, validation_data=seed_data.validation, verbose=0
    )
    test_accuracy = run_model.evaluate(seed_data.test, verbose=0, return_dict=True)["accuracy"]
    return history.history, test_accuracy


def training_rates(seed):
    """The three learning rates (or schedules) of seed `seed`, from its range test."""
    result, epoch_batch_sizes = convnet_runs[seed]
    total_steps = epochs * len(epoch_batch_sizes)
    return {
        "valley (constant)": result.suggestions["valley"],
        "lowest point (constant)": float(result.learning_rates[np.argmin(result.smoothed_losses)]),
        "one-cycle to minimum": OneCycle(result.suggestions["minimum"], total_steps),
    }


trainings = {}
for seed in training_seeds:
    for rule, learning_rate in training_rates(seed).items():
        trainings[rule, seed] = (learning_rate, *train_convnet(seed, learning_rate))
rows = {
    key: {
        "peak rate": learning_rate.max_learning_rate if callable(learning_rate) else learning_rate,
        "training loss": history["loss"][-1],
        "validation accuracy": history["val_accuracy"][-1],
        "test accuracy": test_accuracy,
    }
    for key, (learning_rate, history, test_accuracy) in trainings.items()
}
training_table = pd.DataFrame(rows).T.rename_axis(["rule", "seed"])
show_table(training_table, "{:.3g}")
print("mean over the seeds:")
show_table(training_table.groupby(level="rule", sort=False).mean(), "{:.3g}")

# %%
# NBVAL_IGNORE_OUTPUT
fig, (loss_ax, accuracy_ax, rate_ax) = plt.subplots(1, 3, figsize=(17, 4.2))
epoch_numbers = np.arange(1, epochs + 1)
rules = list(training_rates(0))
for (rule, seed), (learning_rate, history, _) in trainings.items():
    color = f"C{rules.index(rule)}"
    label = rule if seed == 0 else None
    loss_ax.plot(epoch_numbers, history["loss"], "o-", ms=3, color=color, label=label, alpha=0.8)
    accuracy_ax.plot(epoch_numbers, history["val_accuracy"], "o-", ms=3, color=color, label=label, alpha=0.8)
    if seed == 0:
        steps_per_epoch = len(convnet_runs[seed][1])
        all_steps = np.arange(epochs * steps_per_epoch)
        if callable(learning_rate):
            rates = learning_rate_curve(learning_rate, all_steps)
        else:
            rates = np.full(all_steps.size, learning_rate)
        rate_ax.plot(all_steps / steps_per_epoch, rates, color=color, label=label)
loss_ax.set_ylabel("training loss")
accuracy_ax.set_ylabel("validation accuracy")
rate_ax.set_ylabel("learning rate (seed 0)")
rate_ax.set_yscale("log")
titles = ("Training loss", "Validation accuracy", "Learning rate per step")
for ax, title in zip((loss_ax, accuracy_ax, rate_ax), titles, strict=True):
    ax.set_xlabel("epoch")
    ax.set_title(title)
accuracy_ax.legend(fontsize=8)
fig.suptitle("ConvNet on GTSRB (tiny subset), Adam, 12 epochs, seeds 0 to 2")
fig.tight_layout()
savefig(fig, "06_training_with_the_found_rates")
plt.show()

# %% [markdown]
# One line per seed and rule: the rate at the lowest point stays at the loss of a guess,
# the other two learn, and the learning-rate panel shows each rule's rates for seed 0.

# %%
test_accuracy_of = {key: test_accuracy for key, (_, _, test_accuracy) in trainings.items()}
claims.bounded(
    [test_accuracy_of["lowest point (constant)", seed] for seed in training_seeds],
    below=constant_guess,
    statement="held constant, the rate at the lowest point of the curve learns nothing on any "
    "seed: on test it does no better than a constant guess",
    reason="below the share of the most frequent test class plus half an image",
)
learning_claim = claims.bounded(  # assigned: not displayed
    [test_accuracy_of[rule, seed] for rule in rules if rule != "lowest point (constant)"
     for seed in training_seeds],
    above=constant_guess,
    statement="the constant valley rate and one-cycle to minimum both learn on every seed",
    reason="above the share of the most frequent test class plus half an image",
)

# %% [markdown]
# The rate at the lowest point of the curve does not train at all: the network ends
# predicting a single class, the accuracy of a constant guess, on validation and on
# test. The `valley` rate and one-cycle both learn; which of the two ends higher after 12
# epochs three seeds do not settle (the table above), so this lesson claims no winner.
# One-cycle peaks at `minimum`, within a decade of `valley`, and spends part of its budget
# warming up and annealing. Lesson 08 compares schedules on more data and seeds.
#
# The constant `valley` rate trained on these three seeds, but that is no guarantee: a
# suggestion is read from a short test whose rate kept rising, and held for a long run it
# can be too high for some seed (lesson 08 saw it collapse). Used as the peak of a
# schedule that decays, a suggestion is only briefly in force, which is the safer use.
#
# ## Summary
#
# - The range test reads the loss against a rising rate; its suggestions are heuristics
#   on that curve, here 2.5 to 500 times below the largest stable rate, which on a
#   quadratic is 2/λ_max. The curve itself explodes only after 2/λ_max, with the full
#   batch several times after it.
# - Rates between a suggestion and the largest stable rate all train on linear regression,
#   so a suggestion is not the edge of stability. It is not a safe constant rate either:
#   it marks the upper region of good rates, best used as the peak of a decaying schedule.
# - Check the gradient against the loss: with the MSE gradient, a "logistic" range test
#   is a linear-regression test.
# - Raising the rate per batch or per epoch gives nearly the same raw curve; per batch
#   resolves it finely, per epoch gives few points. Small batches make the curve noisy
#   enough to stop the test by mistake. Smoothing makes the curve lag by about
#   β/(1 − β) steps, a factor ratio^(β/(1 − β)) in rate: choose β from the number of
#   steps (β = 0.9 for 200), not fastai's 0.98 for every test.
# - A range test must run long enough for the loss to fall: 200 steps (9 epochs of the
#   tiny set) rather than 100 on the ConvNet.
# - `valley` and `minimum` vary by less than a decade over seeds: round them. `steep` is
#   the least stable on linear regression, and `slide` lands where the noise of the last
#   losses stops its window: often past the bottom of the ConvNet's curve, sometimes below.
# - In Keras, read each batch's own loss (not `logs["loss"]`), and restore the weights
#   and the optimizer in memory (an unbuilt model cannot even save its weights):
#   `lrlab.finder.find_lr` does both.
