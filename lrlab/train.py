"""Train the course's ConvNet on GTSRB with a learning-rate schedule, from the command line.

    python -m lrlab.train -d data/gtsrb-tiny -e 30 --schedule exponential step --seeds 3

The course's ``training.py`` with the same ``-d/--data-dir`` and ``-e/--epochs``
flags. Every (schedule, seed) run trains a fresh ``lrlab.models.build_convnet``
with Adam, logs one line per epoch (loss, accuracy, val_loss, val_accuracy, lr),
and writes into ``--output-dir`` (default ``results/``):

- ``<schedule>_seed<k>_metrics.png``: ``lrlab.plotting.display_metrics`` of the run;
- ``<schedule>_seed<k>_history.csv``: the per-epoch numbers of that figure;
- ``results.csv``: one row per finished run (see ``RESULT_COLUMNS``), rewritten as each run
  ends, so an invocation that fails or is interrupted keeps every run it finished;
- ``failed.csv``: one row per run that did not finish (``FAILED_COLUMNS``: a NaN or infinite
  loss or weight, an error), written beside ``results.csv`` and empty when every run finished.

A NaN or infinite loss (training or validation) or weight ends that run with a message naming the
schedule, the seed, the epoch and the step; its numbers are not reported, the other runs go
on, and the invocation exits with status 1. Any other error in a run is written to
``failed.csv`` and then stops the invocation with its traceback. Files are written whole (a
temporary file renamed), with the usual permissions (``0o666`` less the umask).

Before anything trains, the flags and the data are checked: rates from ``MIN_RATE`` to
``MAX_RATE``, seeds from 0 to ``MAX_SEED``, every schedule given at least its
``lrlab.recipes.MIN_TOTAL_STEPS`` (epochs x steps per epoch), a data folder lrlab reads with
enough images for a validation split, and an ``--output-dir`` that can be written and is not
inside the data.

``--learning-rate`` is the largest rate of every schedule: the constant rate, the
start of a decay, the peak of a warm-up or of a cycle. ``--peak NAME=RATE`` gives one
schedule its own largest rate instead (lesson 08 picks one per schedule from a sweep):

    python -m lrlab.train --schedule constant one_cycle --peak one_cycle=0.01 --seeds 5

The schedules are the recipes of ``lrlab.recipes.SCHEDULES``; this module runs them. A run
is reproducible from its seed alone: the seed sets the train/validation split, the shuffling
and the initial weights (``lrlab.notebook.setup``).

Data parallel: ``--strategy mirrored --devices N`` trains every run under
``tf.distribute.MirroredStrategy`` over N logical CPU devices, made from the one physical CPU
(``lrlab.distributed.mirrored_strategy``, before TensorFlow starts):

    python -m lrlab.train --schedule constant --strategy mirrored --devices 2 --batch-size 64

``--batch-size`` is then the *global* batch: every step, each of the N replicas takes
``batch-size / N`` examples (so it must be a multiple of N), their mean gradients are
averaged, and one update is applied to every copy of the model. ``--learning-rate`` and the
schedule belong to that global batch and count global steps, exactly as without a strategy:
nothing is set per replica. ``--strategy none`` (the default) trains on one device and takes
no ``--devices`` (giving it is an error, not ignored, so that a forgotten ``--strategy``
cannot pass for a distributed run).

On other hardware only the strategy's constructor changes, not the training code: on a
machine with several GPUs, ``tf.distribute.MirroredStrategy()`` (no arguments) takes every
GPU; on a cluster, each worker runs the same program with ``TF_CONFIG`` naming the workers
and its own index, and ``tf.distribute.MultiWorkerMirroredStrategy()`` reads it. The model
is built and compiled inside ``strategy.scope()`` (``fit_schedule(..., strategy=...)``) and
``fit`` splits each global batch. ``lrlab.distributed`` compares such a run with the
single-device run step for step.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import math
import shlex
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

from lrlab import _validate, notebook
from lrlab.callbacks import LearningRateLogger
from lrlab.data import list_images, load_gtsrb, split_train_validation
from lrlab.distributed import MAX_DEVICES, mirrored_strategy
from lrlab.models import build_convnet, compile_classifier
from lrlab.paths import atomic_file, default_data_dir
from lrlab.plotting import display_metrics, savefig
from lrlab.recipes import SCHEDULES, check_total_steps

__all__ = [
    "FAILED_COLUMNS",
    "HISTORY_COLUMNS",
    "MAX_RATE",
    "MAX_SEED",
    "MIN_RATE",
    "RESULT_COLUMNS",
    "STRATEGIES",
    "VALIDATION_SPLIT",
    "EpochLog",
    "Run",
    "RunFailed",
    "RunSettings",
    "StopOnNonFinite",
    "build_parser",
    "fit_schedule",
    "main",
    "run_all",
    "train_once",
    "write_csv",
]

logger = logging.getLogger(__name__)

# The rates the command line accepts for --learning-rate and --peak (Adam's largest rate):
# below 1e-8 a run does not move (and 1e-300 is 0 in float32); above 1 Adam diverges.
MIN_RATE = 1e-8
MAX_RATE = 1.0
# The seeds NumPy and Keras accept.
MAX_SEED = 2**32 - 1
# The share of every class's training images (whole tracks where named) held out for validation.
VALIDATION_SPLIT = 0.2
# --strategy: none (one device) or mirrored (tf.distribute.MirroredStrategy over --devices).
STRATEGIES = ("none", "mirrored")

# ---------------------------------------------------------------------------------------------
# One run

RESULT_COLUMNS = (
    "schedule",
    "seed",
    "epochs",
    "learning_rate",
    "final_val_accuracy",
    "best_val_accuracy",
    "best_epoch",
    "test_accuracy",
    "final_lr",
    "seconds",
)
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")
FAILED_COLUMNS = ("schedule", "seed", "epochs", "learning_rate", "error")


class RunFailed(RuntimeError):
    """A run that did not finish (a NaN or infinite loss or weight); its message names the run."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first NaN or infinite loss (training step or validation) or weight.

    Unlike ``keras.callbacks.TerminateOnNaN`` it remembers where: ``failure`` is None while
    everything is finite, else a sentence naming the epoch and step (both counted from 1).
    The weights are checked at the end of every epoch: NaN inputs can make NaN weights while
    the loss stays finite (oneDNN's ReLU turns NaN into 0), and such a model learns nothing.
    """

    def __init__(self):
        super().__init__()
        self.failure: str | None = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.failure = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _stop(self, text: str) -> None:
        if self.failure is None:
            self.failure = text
        self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            self._stop(
                f"the training loss became {float(np.asarray(loss))} at epoch "
                f"{self._epoch + 1}, step {batch + 1} of that epoch"
            )

    def on_epoch_end(self, epoch, logs=None):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(float(np.asarray(value))):
                self._stop(f"{key} was {float(np.asarray(value))} at the end of epoch {epoch + 1}")
        for weight in self.model.weights:
            if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
                self._stop(
                    f"the weights {weight.path} were not finite at the end of epoch {epoch + 1} "
                    "(NaN or infinite inputs, or a diverging update)"
                )
                break


class EpochLog(keras.callbacks.Callback):
    """Log one line per epoch: loss, accuracy, val_loss, val_accuracy and lr.

    Place it after ``LearningRateLogger``, which writes ``lr`` into the epoch's logs.
    """

    def __init__(self, run_name: str, epochs: int):
        super().__init__()
        self.run_name = run_name
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        logger.info(
            "%s epoch %d/%d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f lr %.4e",
            self.run_name,
            epoch + 1,
            self.epochs,
            *(logs.get(key, math.nan) for key in HISTORY_COLUMNS[1:]),
        )


@dataclass
class Run:
    """What one training run produced (``fit_schedule``)."""

    model: keras.Model
    history: keras.callbacks.History
    data: object  # lrlab.data.load_gtsrb's result
    learning_rate: object  # the float or schedule object given to Adam
    schedule_callbacks: list
    steps_per_epoch: int
    seconds: float


@dataclass(frozen=True)
class RunSettings:
    """What every run of one invocation shares: the data, the budget and where results go.

    ``main`` builds it from the command line; below the parser, functions take it (or plain
    values), never the argparse Namespace. ``group_by_track`` as in ``lrlab.data.load_gtsrb``
    (None: by track whenever the file names carry tracks). ``strategy`` is one of
    ``STRATEGIES`` and ``devices`` its replica count (1 with ``"none"``); ``batch_size`` is
    the global batch, a multiple of ``devices``. Fields are checked with ``lrlab._validate``
    and stored in their plain form (``Path``, ``int``, ``bool``, ``str``).
    """

    data_dir: Path
    epochs: int
    batch_size: int = 32
    group_by_track: bool | None = None
    output_dir: Path = Path("results")
    quiet: bool = False
    strategy: str = "none"
    devices: int = 1

    def __post_init__(self):
        plain = {
            "data_dir": _validate.path("data_dir", self.data_dir),
            "epochs": _validate.integer("epochs", self.epochs, minimum=1),
            "batch_size": _validate.integer("batch_size", self.batch_size, minimum=1),
            "group_by_track": _optional_flag("group_by_track", self.group_by_track),
            "output_dir": _validate.path("output_dir", self.output_dir),
            "quiet": _validate.flag("quiet", self.quiet),
            "strategy": _validate.choice("strategy", self.strategy, STRATEGIES),
            "devices": _validate.integer("devices", self.devices, minimum=1, maximum=MAX_DEVICES),
        }
        for name, value in plain.items():
            object.__setattr__(self, name, value)
        if self.strategy == "none" and self.devices != 1:
            raise ValueError(
                f"devices must be 1 with strategy 'none', got {self.devices}: use "
                "strategy='mirrored' to train on several devices"
            )
        if self.batch_size % self.devices:
            raise ValueError(
                f"batch_size must be a multiple of devices ({self.devices}), got "
                f"{self.batch_size}: it is the global batch, split equally among the replicas"
            )


def _strategy_problem(strategy: str, devices: int | None, batch_size: int) -> str | None:
    """The reason ``--strategy``, ``--devices`` (None: not given) and the global
    ``--batch-size`` do not go together, else None."""
    if strategy == "none" and devices is not None:
        return (
            f"--devices {devices} needs --strategy mirrored: with --strategy none one device "
            "trains (pass --strategy mirrored --devices N to train data-parallel)"
        )
    if devices is not None and batch_size % devices:
        return (
            f"--batch-size {batch_size} is not a multiple of --devices {devices}: it is the "
            "global batch, and each replica takes an equal share of it"
        )
    return None


def _optional_flag(name: str, value) -> bool | None:
    """None, or ``value`` checked by ``_validate.flag`` (a three-way switch: None is "auto")."""
    return None if value is None else _validate.flag(name, value)


def fit_schedule(
    schedule_name: str,
    seed: int,
    data_dir,
    epochs: int,
    learning_rate: float,
    batch_size: int = 32,
    group_by_track: bool | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    strategy=None,
) -> Run:
    """Train one (schedule, seed) run: seeds, a fresh data pipeline and ConvNet, Adam, the schedule.

    The command line and lesson 08 both train through this function, so a run of the
    lesson and ``python -m lrlab.train`` with the same arguments are the same run. The
    schedule is ``lrlab.recipes.SCHEDULES[schedule_name]`` at largest rate ``learning_rate``.
    The history has the rate of every epoch in ``"lr"`` (``LearningRateLogger``). A
    ValueError says so before training when the data has no validation split or the schedule
    gets fewer than its ``lrlab.recipes.MIN_TOTAL_STEPS``. With a ``tf.distribute.Strategy``
    (``lrlab.distributed.mirrored_strategy(n)``) the model and its optimizer are made inside
    ``strategy.scope()`` and ``batch_size`` is the global batch that ``fit`` splits among the
    replicas; the rate and the schedule are the global batch's, counted in global steps.
    """
    _validate.choice("schedule_name", schedule_name, SCHEDULES)
    seed = _validate.integer("seed", seed, minimum=0, maximum=MAX_SEED)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    learning_rate = _validate.real("learning_rate", learning_rate, low=0, low_open=True)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    keras.backend.clear_session()  # free the previous run's model and graphs
    notebook.setup(seed=seed)
    data = _load_run_data(data_dir, batch_size, seed, group_by_track)
    steps_per_epoch = math.ceil(data.num_train / batch_size)
    check_total_steps(schedule_name, steps_per_epoch, epochs)
    rate, schedule_callbacks = SCHEDULES[schedule_name](learning_rate, steps_per_epoch, epochs)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = compile_classifier(build_convnet(), keras.optimizers.Adam(rate))
    started = time.perf_counter()
    history = model.fit(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        shuffle=False,  # data.train reshuffles itself every epoch (seeded)
        callbacks=[*schedule_callbacks, LearningRateLogger(), *callbacks],
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    return Run(model, history, data, rate, schedule_callbacks, steps_per_epoch, seconds)


def _load_run_data(data_dir, batch_size: int, seed: int, group_by_track: bool | None):
    """``load_gtsrb`` with the run's seed and ``VALIDATION_SPLIT``; a ValueError without one."""
    data = load_gtsrb(
        data_dir,
        batch_size=batch_size,
        validation_split=VALIDATION_SPLIT,
        seed=seed,
        group_by_track=group_by_track,
    )
    if data.validation is None:
        raise ValueError(
            f"{data_dir} has too few images per class for a validation split "
            f"({data.num_train} training images): every run is judged on validation accuracy"
        )
    return data


def train_once(
    schedule_name: str, seed: int, learning_rate: float, settings: RunSettings, strategy=None
) -> dict:
    """Train one (schedule, seed) run, save its figure and history; return its results row.

    ``strategy``: None, or the ``tf.distribute.Strategy`` to train under (``fit_schedule``).

    ``learning_rate`` is the schedule's largest rate; ``settings`` the data, budget and
    output folder. Raises ``RunFailed`` (and writes nothing) when a loss or a weight becomes
    NaN or infinite.
    """
    run_name = f"{schedule_name}_seed{seed}"
    logger.info("%s: data %s, largest rate %g", run_name, settings.data_dir, learning_rate)
    finite = StopOnNonFinite()
    run = fit_schedule(
        schedule_name,
        seed,
        settings.data_dir,
        settings.epochs,
        learning_rate,
        batch_size=settings.batch_size,
        group_by_track=settings.group_by_track,
        callbacks=[EpochLog(run_name, settings.epochs), finite],
        verbose=0 if settings.quiet else 1,
        strategy=strategy,
    )
    if finite.failure is not None:
        raise RunFailed(
            f"run {run_name} (schedule {schedule_name}, seed {seed}, largest rate "
            f"{learning_rate:g}) failed: {finite.failure}; its results are not reported "
            "(try a smaller --learning-rate or --peak)"
        )
    logger.info("%s: %s, %d steps per epoch", run_name, run.data.source, run.steps_per_epoch)
    logs = run.history.history
    val_accuracy = np.asarray(logs["val_accuracy"])
    test_accuracy = (
        run.model.evaluate(run.data.test, verbose=0, return_dict=True)["accuracy"]
        if run.data.test is not None
        else ""
    )
    _save_run(run, run_name, f"{schedule_name}, seed {seed}", settings.output_dir)
    return {
        "schedule": schedule_name,
        "seed": seed,
        "epochs": settings.epochs,
        "learning_rate": learning_rate,
        "final_val_accuracy": float(val_accuracy[-1]),
        "best_val_accuracy": float(val_accuracy.max()),
        "best_epoch": int(val_accuracy.argmax()) + 1,
        "test_accuracy": test_accuracy,
        "final_lr": logs["lr"][-1],
        "seconds": round(run.seconds, 2),
    }


def _save_run(run: Run, run_name: str, title: str, output_dir: Path) -> None:
    """Write ``<run_name>_metrics.png`` (``display_metrics``) and ``<run_name>_history.csv``."""
    logs = run.history.history
    fig = display_metrics(run.history, title=title)
    try:
        savefig(fig, f"{run_name}_metrics", folder=output_dir)
    finally:
        plt.close(fig)
    rows = [
        {"epoch": epoch + 1, **{key: logs[key][epoch] for key in HISTORY_COLUMNS[1:]}}
        for epoch in range(len(logs["val_accuracy"]))
    ]
    write_csv(output_dir / f"{run_name}_history.csv", HISTORY_COLUMNS, rows)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Write ``rows`` under a header of ``columns`` atomically (a temporary file renamed).

    The file gets the usual permissions of a new file, ``0o666`` less the umask (the
    temporary file ``mkstemp`` makes is ``0o600``).
    """
    with atomic_file(path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------------------------------------
# Command line


def _positive(kind: type, name: str, maximum: int | None = None) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, which must be greater than 0 (and at most ``maximum``)."""
    kind_name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {kind_name} greater than 0, got {text!r}"
            ) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{name} must be greater than 0, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{name} must be at most {maximum}, got {text}")
        return value

    return parse


def _rate(name: str) -> Callable[[str], float]:
    """An argparse type: a finite learning rate from ``MIN_RATE`` to ``MAX_RATE``."""

    def parse(text: str) -> float:
        allowed = f"{name} must be a number from {MIN_RATE:g} to {MAX_RATE:g}"
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{allowed}, got {text!r}") from None
        if not MIN_RATE <= value <= MAX_RATE:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(f"{allowed}, got {text}")
        return value

    return parse


def _seed(text: str) -> int:
    """An argparse type for ``--seed``: an integer from 0 to ``MAX_SEED``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seed must be an integer from 0 to {MAX_SEED}, got {text!r}"
        ) from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"--seed must be from 0 to {MAX_SEED}, got {text}")
    return value


def _folder(flag: str) -> Callable[[str], Path]:
    """An argparse type: a non-empty path (an empty one would silently mean the working folder)."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{flag} must name a folder, got {text!r}")
        return Path(text)

    return parse


def _schedule_rate(text: str) -> tuple[str, float]:
    """An argparse type for ``--peak``: ``NAME=RATE``, a registered schedule and a rate."""
    name, equals, rate = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"--peak takes NAME=RATE, got {text!r}")
    if name not in SCHEDULES:
        raise argparse.ArgumentTypeError(
            f"--peak names an unknown schedule {name!r}; choose from {', '.join(sorted(SCHEDULES))}"
        )
    return name, _rate(f"the peak of {name}")(rate)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m lrlab.train``: data and budget, schedules, seeds and output."""
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.train",
        description="Train the course's ConvNet on GTSRB with learning-rate schedules.",
    )
    parser.add_argument(
        "-d",
        "--data-dir",
        type=_folder("--data-dir"),
        default=default_data_dir(),
        help="GTSRB folder (official or class-folder layout; default: %(default)s)",
    )
    parser.add_argument(
        "-e", "--epochs", type=_positive(int, "epochs"), default=30, help="default: %(default)s"
    )
    _add_schedule_flags(parser)
    _add_seed_and_output_flags(parser)
    _add_strategy_flags(parser)
    return parser


def _add_strategy_flags(parser: argparse.ArgumentParser) -> None:
    """``--strategy`` and ``--devices``."""
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="none",
        help="none: one device (default); mirrored: tf.distribute.MirroredStrategy over "
        "--devices logical CPU devices, --batch-size being the global batch",
    )
    parser.add_argument(
        "--devices",
        type=_positive(int, "--devices", maximum=MAX_DEVICES),
        default=None,
        metavar="N",
        help=f"replicas of --strategy mirrored, 1 to {MAX_DEVICES} (default 2); an error "
        "with --strategy none",
    )


def _add_schedule_flags(parser: argparse.ArgumentParser) -> None:
    """``--schedule``, ``--batch-size``, ``--learning-rate`` and ``--peak``."""
    parser.add_argument(
        "--schedule",
        nargs="+",
        choices=sorted(SCHEDULES),
        default=["constant"],
        metavar="NAME",
        help=f"one or more of: {', '.join(sorted(SCHEDULES))} (default: constant)",
    )
    parser.add_argument(
        "--batch-size", type=_positive(int, "batch size"), default=32, help="default: %(default)s"
    )
    parser.add_argument(
        "--learning-rate",
        type=_rate("learning rate"),
        default=1e-3,
        help=f"the largest rate of every schedule, from {MIN_RATE:g} to {MAX_RATE:g} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--peak",
        nargs="+",
        action="extend",
        type=_schedule_rate,
        default=[],
        metavar="NAME=RATE",
        help="the largest rate of one schedule, instead of --learning-rate "
        "(e.g. --peak one_cycle=0.01 cosine=0.003)",
    )


def _add_seed_and_output_flags(parser: argparse.ArgumentParser) -> None:
    """``--seed`` or ``--seeds``, ``--output-dir``, the split switches and ``--quiet``."""
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=_seed, default=0, help=f"the seed of one run, 0 to {MAX_SEED} (default: 0)"
    )
    seeds.add_argument(
        "--seeds",
        type=_positive(int, "seeds", maximum=MAX_SEED + 1),
        metavar="N",
        help="repeat every schedule over seeds 0..N-1",
    )
    parser.add_argument(
        "--output-dir",
        type=_folder("--output-dir"),
        default=Path("results"),
        help="default: %(default)s; not inside the data folder",
    )
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--group-by-track",
        action="store_const",
        const=True,
        default=None,
        help="require the train/validation split by GTSRB track (the default whenever the "
        "file names carry tracks), so no sign is in both",
    )
    split.add_argument(
        "--random-split",
        dest="group_by_track",
        action="store_const",
        const=False,
        help="split image by image (frames of one sign then land on both sides)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no Keras progress bars (the epoch lines stay)"
    )


def _check_runs(
    settings: RunSettings, schedule_names: Sequence[str], seeds: Sequence[int]
) -> str | None:
    """The first reason the data or the budget cannot train every run, else None.

    The same listing and split as ``load_gtsrb`` in ``fit_schedule``, without decoding an
    image, so that every run is checked before the first one trains.
    """
    data_dir = settings.data_dir
    try:
        records = list_images(data_dir, "train")
        list_images(data_dir, "test")  # a broken test part fails here, not after training
    except (ValueError, OSError) as error:  # the data module's errors name the file and the fix
        return str(error)
    unnamed = [record.path.name for record in records if record.track is None]
    if unnamed and settings.group_by_track:
        return (
            f"--group-by-track needs training files named <track>_<frame>.<ext>, and "
            f"{len(unnamed)} in {data_dir} are not (e.g. {unnamed[0]!r}): use --random-split"
        )
    use_tracks = settings.group_by_track is not False and not unnamed
    tracks = [record.track for record in records] if use_tracks else None
    labels = [record.label for record in records]
    for seed in seeds:
        train_indices, validation_indices = split_train_validation(
            labels, VALIDATION_SPLIT, seed, tracks
        )
        if not len(validation_indices):
            return (
                f"{data_dir} has too few images per class for a validation split "
                f"({len(train_indices)} training images): every run is judged on validation "
                "accuracy"
            )
        steps_per_epoch = math.ceil(len(train_indices) / settings.batch_size)
        for name in schedule_names:
            try:
                check_total_steps(name, steps_per_epoch, settings.epochs)
            except ValueError as error:
                return f"{error} (seed {seed})" if len(seeds) > 1 else str(error)
    return None


def _check_output_dir(out: Path, data_dir: Path) -> str | None:
    """The reason ``--output-dir`` cannot take the results, else None (it then exists)."""
    resolved, data = out.resolve(), data_dir.resolve()
    if resolved == data or data in resolved.parents:
        return (
            f"--output-dir {str(out)!r} is inside the data folder {str(data_dir)!r}: the figures "
            "and CSVs would be mixed with the images; choose a folder outside it"
        )
    if out.exists() and not out.is_dir():
        return f"--output-dir {str(out)!r} is a file, not a folder: choose a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):  # can a file be written there?
            pass
    except OSError as error:
        return f"cannot write in --output-dir {str(out)!r}: {error.strerror or error}"
    return None


def _check_data_dir(data_dir: Path) -> str | None:
    """The reason ``-d`` names no folder (a file, or nothing), with the fix, else None."""
    if data_dir.exists() and not data_dir.is_dir():
        return f"data directory {str(data_dir)!r} is a file, not a folder: pass -d DIR"
    if not data_dir.is_dir():
        return (
            f"data directory {str(data_dir)!r} does not exist: "
            "fetch the tiny GTSRB subset into it with `python -m lrlab.data fetch --dest "
            f"{shlex.quote(str(data_dir))}`, or pass -d DIR"
        )
    return None


def _check_names(schedule_names: Sequence[str], peaks: Sequence[tuple[str, float]]) -> str | None:
    """The reason ``--schedule`` and ``--peak`` do not name each run once, else None."""
    repeated = sorted({name for name in schedule_names if schedule_names.count(name) > 1})
    if repeated:
        return f"--schedule lists {', '.join(repeated)} more than once; name each once"
    named = [name for name, _ in peaks]
    twice = sorted({name for name in named if named.count(name) > 1})
    if twice:
        return (
            f"--peak gives {', '.join(twice)} more than one rate: give each schedule at most "
            "one NAME=RATE"
        )
    unused = sorted(set(named) - set(schedule_names))
    if unused:
        return (
            f"--peak names {', '.join(unused)}, which --schedule does not run; the schedules "
            f"run are {', '.join(schedule_names)}, and --peak must name one of them (or add "
            f"{unused[0]} to --schedule)"
        )
    return None


def run_all(
    settings: RunSettings,
    largest_rates: dict[str, float],
    seeds: Sequence[int],
    strategy=None,
) -> tuple[list[dict], list[dict]]:
    """Train every (schedule, seed), schedules in the order of ``largest_rates`` (name -> rate).

    Returns the rows of ``results.csv`` and of ``failed.csv``, both rewritten in
    ``settings.output_dir`` after every run, so a later failure loses nothing finished. A
    ``RunFailed`` run is logged and the others go on; any other error is re-raised once
    ``failed.csv`` records it. ``strategy`` (a ``tf.distribute.Strategy`` or None) trains
    every run under it (``train_once``).
    """
    results: list[dict] = []
    failed: list[dict] = []
    for name, rate in largest_rates.items():
        for seed in seeds:
            try:
                results.append(train_once(name, seed, rate, settings, strategy))
            except Exception as error:
                failed.append(
                    {
                        "schedule": name,
                        "seed": seed,
                        "epochs": settings.epochs,
                        "learning_rate": rate,
                        "error": str(error) or type(error).__name__,
                    }
                )
                _save_tables(settings.output_dir, results, failed)
                if not isinstance(error, RunFailed):
                    raise  # not a diverged run: a fault to see in full (finished runs are kept)
                logger.error("%s", error)
                continue
            _save_tables(settings.output_dir, results, failed)
    return results, failed


def _save_tables(output_dir: Path, results: Sequence[dict], failed: Sequence[dict]) -> None:
    write_csv(output_dir / "results.csv", RESULT_COLUMNS, results)
    write_csv(output_dir / "failed.csv", FAILED_COLUMNS, failed)


def _log_summary(output_dir: Path, results: Sequence[dict], failed: Sequence[dict]) -> None:
    """Log one line per finished run, where the results are, and which runs failed."""
    for row in results:
        logger.info(
            "%s (largest rate %g) seed %d: final val_accuracy %.4f, best %.4f (epoch %d), "
            "final lr %.4e",
            row["schedule"],
            row["learning_rate"],
            row["seed"],
            row["final_val_accuracy"],
            row["best_val_accuracy"],
            row["best_epoch"],
            row["final_lr"],
        )
    logger.info("results: %s", output_dir / "results.csv")
    if failed:
        logger.error(
            "%d of %d runs failed (%s): see %s",
            len(failed),
            len(failed) + len(results),
            ", ".join(f"{row['schedule']}_seed{row['seed']}" for row in failed),
            output_dir / "failed.csv",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run every requested (schedule, seed), write the figures, ``results.csv`` and ``failed.csv``.

    Returns 0 when every run finished, 1 when some failed (a NaN or infinite loss or weight: the
    others still ran). Bad flags or data end it before anything trains (argparse's exit status 2);
    any other error in a run is re-raised once ``failed.csv`` records it. The only function
    that reads the parsed flags: below it, functions take ``RunSettings`` and plain values.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _strategy_problem(args.strategy, args.devices, args.batch_size)
    if problem:
        parser.error(problem)
    devices = (args.devices or 2) if args.strategy == "mirrored" else 1
    settings = RunSettings(
        data_dir=args.data_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        strategy=args.strategy,
        devices=devices,
        group_by_track=args.group_by_track,
        output_dir=args.output_dir,
        quiet=args.quiet,
    )
    seeds = range(args.seeds) if args.seeds else [args.seed]
    problem = (
        _check_data_dir(settings.data_dir)
        or _check_names(args.schedule, args.peak)
        or _check_runs(settings, args.schedule, seeds)
        or _check_output_dir(settings.output_dir, settings.data_dir)
    )
    if problem:
        parser.error(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    strategy = None
    if settings.strategy == "mirrored":
        try:
            strategy = mirrored_strategy(settings.devices)
        except RuntimeError as error:  # TensorFlow already started in this process
            parser.error(f"--strategy mirrored --devices {settings.devices}: {error}")
        logger.info(
            "MirroredStrategy over %d logical CPU devices: global batch %d = %d x %d per replica",
            strategy.num_replicas_in_sync,
            settings.batch_size,
            strategy.num_replicas_in_sync,
            settings.batch_size // strategy.num_replicas_in_sync,
        )
    peaks = dict(args.peak)
    largest_rates = {name: peaks.get(name, args.learning_rate) for name in args.schedule}
    results, failed = run_all(settings, largest_rates, seeds, strategy)
    _log_summary(settings.output_dir, results, failed)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
