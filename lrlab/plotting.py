"""Figures of the lessons: metrics of a training run, schedule curves, saving.

``savefig(fig, name)`` writes ``figures/<name>.png`` atomically (a temporary
file renamed when complete), so an interrupted run never leaves half a figure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from lrlab import _validate
from lrlab.paths import atomic_file, figures_dir

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
# file names are at most 255 bytes; the temporary file adds ".", ".<8 random chars>" and ".png"
_MAX_NAME = 200


def savefig(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` (default folder: ``figures/``) and return the path.

    ``name`` is a stable file stem such as ``"07_metrics_constant"``: lower-case
    letters, digits, ``_`` and ``-`` (nothing else, not even a trailing newline), at most
    200 characters; a trailing ``.png`` is accepted. Any other name is a ValueError, a non-str
    a TypeError. A ``folder`` that is an existing file is a NotADirectoryError.
    """
    _validate.text("figure name", name, allow_empty=True)
    stem = name[:-4] if name.endswith(".png") else name
    if not _NAME.fullmatch(stem):
        raise ValueError(
            f"figure name {name!r} is not allowed: use only lower-case letters a-z, digits, '_' "
            "and '-', starting with a letter or digit (e.g. '07_metrics_constant')"
        )
    if len(stem) > _MAX_NAME:
        raise ValueError(
            f"figure name {name[:40]!r}... is {len(stem)} characters long: the limit is "
            f"{_MAX_NAME} characters (without '.png'); use a shorter name"
        )
    target_dir = Path(folder) if folder is not None else figures_dir()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise NotADirectoryError(
            f"folder {str(target_dir)!r} is not a folder: it (or a folder above it) is an existing "
            "file; pass folder= a folder path (it is created if missing) or leave folder=None "
            "for figures/"
        ) from error
    target = target_dir / f"{stem}.png"
    with atomic_file(target, "wb") as stream:
        fig.savefig(stream, format="png", bbox_inches="tight", metadata={"Software": None})
    return target


def learning_rate_curve(schedule, steps) -> np.ndarray:
    """The learning rates of ``schedule`` at ``steps`` (an int n means steps 0..n-1), as float64.

    ``schedule`` is a Keras ``LearningRateSchedule`` or any function of the step.
    A vectorised call is tried first; schedules that only accept a scalar step
    (Keras's warm-up ``CosineDecay`` uses a conditional) are evaluated step by step. On
    JAX those calls go through ``jax.jit`` (traced once) when the schedule can be traced:
    an eager ``lax.cond`` compiles its branches at every call, a quarter of a second a step.
    """
    steps = _steps_array(steps)
    try:
        values = np.asarray(_to_numpy(schedule(steps)), dtype=np.float64)
        if values.shape == steps.shape:
            return values
    except Exception:  # scalar-only schedule: fall back to one call per step
        pass
    call = _compiled_on_jax(schedule, int(steps[0]))
    return np.array([float(_to_numpy(call(int(s)))) for s in steps], dtype=np.float64)


def _compiled_on_jax(schedule, first_step):
    """``jax.jit(schedule)`` on the JAX backend if it traces at ``first_step``, else
    ``schedule`` (other backends, or a function of the step that only runs eagerly)."""
    import keras

    if keras.backend.backend() != "jax":
        return schedule
    import jax

    compiled = jax.jit(schedule)
    try:
        compiled(first_step)
    except Exception:  # not traceable (Python control flow on the step, say): run it eagerly
        return schedule
    return compiled


def _steps_array(steps) -> np.ndarray:
    """``steps`` as a 1-D array: an int n >= 1 means 0..n-1; a sequence is taken as it is.

    The checks of ``_validate.integer``, with messages that say both forms ``steps`` takes
    (and the kind of a wrong value)."""
    if isinstance(steps, (str, bytes)):
        raise _validate.ArgumentTypeError(
            f"steps must be a positive int or a 1-D sequence of steps, got the "
            f"{type(steps).__name__} {steps!r}: pass a number (e.g. 10), not text"
        )
    if np.isscalar(steps):
        try:
            return np.arange(_validate.integer("steps", steps, minimum=1))
        except _validate.ArgumentTypeError:
            raise _validate.ArgumentTypeError(
                f"steps must be a positive int (the number of steps) or a 1-D sequence of "
                f"steps, got {steps!r} (a {type(steps).__name__})"
            ) from None
        except ValueError:
            raise ValueError(
                f"steps must be a positive int or a 1-D sequence of steps, got {steps!r}"
            ) from None
    array = np.asarray(steps)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"steps must be a positive int or a 1-D sequence of steps, got {steps!r} "
            f"(shape {array.shape})"
        )
    return array


def _to_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else value


def plot_schedules(
    schedules: Mapping[str, Callable] | Sequence[tuple[str, Callable]],
    steps,
    title: str | None = None,
    xlabel: str = "step",
):
    """Plot learning-rate curves side by side on a linear and a log scale; return the figure.

    ``schedules`` maps a legend label to a schedule (or a function of the step).
    """
    items = list(schedules.items()) if isinstance(schedules, Mapping) else list(schedules)
    if not items:
        raise ValueError("plot_schedules needs at least one schedule")
    xs = _steps_array(steps)
    fig, (linear, log) = plt.subplots(1, 2, figsize=(12, 4))
    for label, schedule in items:
        values = learning_rate_curve(schedule, xs)
        linear.plot(xs, values, label=label)
        log.plot(xs, values, label=label)
    log.set_yscale("log")
    for ax, scale in ((linear, "linear"), (log, "log")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("learning rate")
        ax.set_title(f"{scale} scale")
    linear.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_schedules(
    schedules: Mapping[str, Callable] | Sequence[tuple[str, Callable]],
    steps,
    name: str,
    title: str | None = None,
    xlabel: str = "step",
) -> None:
    """``plot_schedules(schedules, steps, title, xlabel)``, saved as ``figures/<name>.png``
    (``savefig``) and shown (``plt.show()``): the figure cell of a lesson, in one call."""
    fig = plot_schedules(schedules, steps, title=title, xlabel=xlabel)
    savefig(fig, name)
    plt.show()


def display_metrics(history, title: str | None = None):
    """Loss, accuracy and learning-rate panels of a training run (train and validation).

    ``history`` is a Keras ``History`` or its ``.history`` dict. The learning-rate
    panel needs ``"lr"`` (written by ``lrlab.callbacks.LearningRateLogger``) or
    Keras's own ``"learning_rate"``; without either it is left out.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or "loss" not in logs:
        raise ValueError("display_metrics needs a Keras History (or its .history dict) with 'loss'")
    lr_key = next((k for k in ("lr", "learning_rate") if k in logs), None)
    panels = [("loss", "loss"), ("accuracy", "accuracy")]
    panels = [p for p in panels if p[0] in logs]
    if lr_key:
        panels.append((lr_key, "learning rate"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6))
    axes = np.atleast_1d(axes)
    epochs = np.arange(1, len(logs["loss"]) + 1)
    for ax, (key, label) in zip(axes, panels, strict=True):
        ax.plot(epochs, logs[key], marker="o", ms=3, label="train" if key != lr_key else None)
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], marker="o", ms=3, label="validation")
            ax.legend()
        if key == lr_key:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
