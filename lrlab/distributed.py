"""Data parallelism for real: one training on N devices against the same training on one.

A data-parallel engine keeps one copy of the model on each of N devices (replicas), splits
every *global* batch of B examples into N per-replica batches of B / N, lets each replica
compute the mean gradient of its share, and averages the N gradients (an all-reduce) before
one optimizer step updates every copy alike. For a model without batch statistics (the
course's ConvNet has no BatchNorm and no dropout) the mean of N equal shares' mean gradients
*is* the mean gradient of the global batch, so the distributed run is the single-device run
with the same global batch, up to the order in which floats are summed. Two engines do it:

- TensorFlow: ``tf.distribute.MirroredStrategy`` over N logical CPU devices, made from the
  one physical CPU with ``tf.config.set_logical_device_configuration``
  (``mirrored_strategy``); Keras' ``fit`` inside ``strategy.scope()`` takes the global
  batch and splits it.
- JAX: Keras 3's ``keras.distribution.DataParallel`` over N host devices
  (``XLA_FLAGS=--xla_force_host_platform_device_count=N``, ``KERAS_BACKEND=jax``); the batch
  is sharded along its first axis and XLA inserts the all-reduce.

Both device set-ups must happen before the framework starts, so every run here is a child
process (``python -m lrlab.distributed``); the caller's TensorFlow is untouched and GPUs are
hidden from the children (``CUDA_VISIBLE_DEVICES=-1``, ``JAX_PLATFORMS=cpu``), so that
"one device" means one CPU.

Where the learning rate and the warm-up go: on the optimizer, once, for the *global* batch.
The rate follows the global batch (a rule such as Goyal et al.'s linear scaling is applied
to B, never to B / N), and the schedule counts global steps: ``optimizer.iterations``
advances once per global batch however many replicas there are. Nothing is set per replica.

For a lesson::

    from lrlab import distributed
    result = distributed.compare_with_single_device(
        data_dir, devices=2, global_batch=64, epochs=3, seed=0, backend="tensorflow"
    )   # or backend="jax"
    print(result.describe())   # exact: engine, replicas, global and per-replica batch, steps

``compare_with_single_device`` trains the ConvNet three times on the same data, seed,
global batch, rate and warm-up, in child processes: ``single`` (no strategy, one
device), ``distributed`` (N replicas), and ``reordered``, the single-device run once more
with every batch's examples in reverse order: the same mathematics, another order of the
float sums. The optimizer is SGD with momentum 0.9 (``optimizer="sgd"``, as in Goyal et al.)
or Adam (``"adam"``), at ``learning_rate`` (default ``DEFAULT_RATE``) for the global batch,
warmed up linearly over ``warmup_steps`` global steps when that is above 1. It returns a
``Comparison`` (frozen dataclass) with the three ``RunRecord`` (per-epoch ``loss`` and
``accuracy``; after the last epoch ``val_loss``, ``val_accuracy`` and ``test_accuracy``;
``engine``, ``replicas``, ``global_batch``, ``per_replica_batch``, ``steps_per_epoch``,
``optimizer_steps``, ``seconds``) and the differences:

- ``initial_difference``: the largest absolute difference of the initial weights, single vs
  distributed (0: the same seed builds the same weights);
- ``first_step_difference``: ``||u_d - u_s|| / ||u_s||``, where ``u = w_1 - w_0`` is the first
  step's update of all weights (flattened) in the distributed and the single run; its bound
  is ``FIRST_STEP_TOLERANCE``, whose reason is ``FIRST_STEP_REASON``;
- ``first_step_floor``: the same for the reordered run against the single run (what
  reordering the sums alone does, on one device);
- ``loss_difference`` / ``loss_floor``: per epoch, ``|loss_d - loss_s|`` and
  ``|loss_r - loss_s|`` of Keras' epoch losses (float32 means of the epoch's steps);
  ``loss_ratio``: per epoch ``loss_difference / loss_scale``, the scale being the largest
  loss floor up to that epoch (at least ``LOSS_RESOLUTION``); ``LOSS_RATIO_BOUND`` and
  ``LOSS_REASON`` give its bound;
- ``divergence`` / ``divergence_floor``: per epoch, ``||w_d - w_s|| / ||w_s - w_0||`` at the
  epoch's end (how far the distributed, resp. reordered, weights are from the single run's,
  relative to how far training moved those), and ``divergence_ratio``, their quotient (the
  floor's running maximum, at least ``FIRST_STEP_TOLERANCE``). To show, not to claim: a
  last-bit difference grows through training unevenly, by jumps (likely a ReLU whose input
  crosses 0 for some image), and whether a jump comes within a few epochs differs from run
  to run, so the distributed run's weights may be far nearer to, or farther from, the
  single run's than the reversed run's are (measured both ways on the tiny subset, by more
  than 10 times);
- ``table()``: the per-epoch numbers as a DataFrame.

A lesson states the conclusion with ``lrlab.claims.bounded`` on those numbers, e.g.::

    claims.bounded([result.initial_difference], below=1e-12,
                   statement="the same seed builds the same weights on 2 replicas",
                   reason="the initialisers draw from the same seeded generator")
    claims.bounded([result.first_step_difference], below=distributed.FIRST_STEP_TOLERANCE,
                   statement="the first step on 2 replicas is the single-device step",
                   reason=distributed.FIRST_STEP_REASON)
    claims.bounded(result.loss_ratio, below=distributed.LOSS_RATIO_BOUND,
                   statement="the epoch losses agree within the reorder noise",
                   reason=distributed.LOSS_REASON)

Equality is expected only that far: training is chaotic, and after many steps two runs whose
sums differ in the last bit drift apart like any two reorderings do.

``python -m lrlab.distributed --backend tensorflow --devices 2 --output run.npz ...`` is one
child run (``python -m lrlab.distributed --help``); ``python -m lrlab.train --strategy
mirrored --devices N`` trains the course's recipes under MirroredStrategy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lrlab import _validate

__all__ = [
    "BACKENDS",
    "DEFAULT_RATE",
    "ENGINES",
    "FIRST_STEP_REASON",
    "FIRST_STEP_TOLERANCE",
    "LOSS_RATIO_BOUND",
    "LOSS_REASON",
    "LOSS_RESOLUTION",
    "OPTIMIZERS",
    "Comparison",
    "RunRecord",
    "child_environment",
    "compare_with_single_device",
    "main",
    "mirrored_strategy",
    "run_child",
]

BACKENDS = ("tensorflow", "jax")
# The engine each backend's distributed run uses.
ENGINES = {
    "tensorflow": "tf.distribute.MirroredStrategy",
    "jax": "keras.distribution.DataParallel",
}
OPTIMIZERS = ("sgd", "adam")
# The default rate of the comparison, for SGD with momentum and the global batch 64.
DEFAULT_RATE = 0.05
# Momentum of the "sgd" optimizer (Goyal et al. 2017 train with 0.9).
MOMENTUM = 0.9
# The share of every class's training images (whole tracks) held out for validation, as in
# python -m lrlab.train.
VALIDATION_SPLIT = 0.2
# Most devices a child accepts: beyond the cores of a laptop, replicas only share threads.
MAX_DEVICES = 64

# float32 has a relative precision of 2**-24 (about 6e-8) per operation. The first update is
# a mean over the global batch of per-example gradients, themselves sums over up to
# 30 x 30 positions of a convolution: sums of thousands of terms, which a reordering moves by
# about sqrt(n) units in the last place (a random walk of rounding errors), about 1e-6 to
# 1e-5 of the update. A real difference of the step is far larger: one example of a batch of
# B left out or counted twice moves the update by about 1/B (1.6e-2 for B = 64), a rate
# scaled per replica by a factor of N. 1e-4 lies two orders of magnitude from both.
FIRST_STEP_TOLERANCE = 1e-4
FIRST_STEP_REASON = (
    "the ConvNet has no BatchNorm and no dropout, so the mean of the replicas' mean gradients "
    "is the global batch's mean gradient, up to the order of float32 sums (about 1e-6 to "
    "1e-5 of the update for sums of thousands of terms); one example of 64 left out would "
    "move the update by about 1/64, and 1e-4 lies between"
)
# After the first step: the epoch loss (Keras' float32 mean of the epoch's step losses).
# Near ln(43) = 3.76 (chance) one unit in its last place is 2**-22 = 2.4e-7, so two equal
# runs may differ by a few units; 1e-6 (4 units) is the smallest scale a loss difference is
# measured against. Training is chaotic: a last-bit difference grows, so no fixed tolerance
# holds for long; the scale of an epoch is the largest difference the reversed-batch run
# (the same run, its sums in another order, on one device) showed up to that epoch, and the
# distributed run may differ LOSS_RATIO_BOUND times that.
LOSS_RESOLUTION = 1e-6
LOSS_RATIO_BOUND = 10.0
LOSS_REASON = (
    "the distributed run and the run with every batch reversed are both the single-device "
    "run with its float sums in another order, so their epoch losses may drift from it alike; "
    "the bound allows 10 times the reversed run's difference (the largest up to each epoch, "
    "at least 1e-6, 4 units in the last place of a float32 loss near ln 43)"
)


# --------------------------------------------------------------------------- the device set-up


def mirrored_strategy(devices: int):
    """A ``tf.distribute.MirroredStrategy`` over ``devices`` logical CPU devices.

    The one physical CPU is split into ``devices`` logical devices
    (``tf.config.set_logical_device_configuration``), which TensorFlow allows only before its
    runtime starts: call this before any TensorFlow operation has run. Once TensorFlow has
    started, the logical devices it has are used (one, unless an earlier call split the CPU),
    and asking for more is a RuntimeError that says to start a fresh process. With
    ``devices=1`` the strategy has one replica. On a machine with GPUs,
    ``tf.distribute.MirroredStrategy()`` (no arguments) takes every GPU instead; on a cluster,
    ``tf.distribute.MultiWorkerMirroredStrategy()`` reads the workers from ``TF_CONFIG``: the
    training code around the strategy does not change.
    """
    devices = _validate.integer("devices", devices, minimum=1, maximum=MAX_DEVICES)
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
        )
    except RuntimeError as error:  # the runtime has started: use what it has
        if len(tf.config.list_logical_devices("CPU")) < devices:
            raise RuntimeError(
                f"cannot split the CPU into {devices} logical devices: TensorFlow has already "
                f"started with {len(tf.config.list_logical_devices('CPU'))} ({error}); "
                "create the strategy first, in a fresh process"
            ) from None
    names = [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=names[:devices])


def child_environment(backend: str, devices: int, base: dict | None = None) -> dict:
    """The environment of a child run: ``KERAS_BACKEND``, GPUs hidden and, for JAX,
    ``XLA_FLAGS`` asking for ``devices`` host devices (any earlier device count removed)."""
    backend = _validate.choice("backend", backend, BACKENDS)
    devices = _validate.integer("devices", devices, minimum=1, maximum=MAX_DEVICES)
    env = dict(os.environ if base is None else base)
    env["KERAS_BACKEND"] = backend
    env["CUDA_VISIBLE_DEVICES"] = "-1"
    env["JAX_PLATFORMS"] = "cpu"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    flags = [
        flag
        for flag in env.get("XLA_FLAGS", "").split()
        if not flag.startswith("--xla_force_host_platform_device_count")
    ]
    if backend == "jax":
        flags.append(f"--xla_force_host_platform_device_count={devices}")
    if flags:
        env["XLA_FLAGS"] = " ".join(flags)
    else:
        env.pop("XLA_FLAGS", None)
    return env


# --------------------------------------------------------------------------- one run (the child)


@dataclass(frozen=True)
class RunRecord:
    """What one child run measured. Per-epoch tuples have one entry per epoch.

    ``loss`` and ``accuracy`` are Keras' training metrics of each epoch (the mean over its
    steps); ``val_loss`` and ``val_accuracy`` (the validation split, split by track) and
    ``test_accuracy`` (the held-out test set) are computed after the last epoch from the
    model's predictions (cross-entropy in float64). ``replicas`` is the engine's replica
    count (1 without one), ``optimizer_steps`` the optimizer's ``iterations`` at the end.
    """

    backend: str
    engine: str
    replicas: int
    reversed_batches: bool
    global_batch: int
    steps_per_epoch: int
    optimizer_steps: int
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: float
    val_accuracy: float
    test_accuracy: float
    seconds: float

    @property
    def per_replica_batch(self) -> int:
        """The examples each replica sees per step: the global batch over the replicas."""
        return self.global_batch // self.replicas


@dataclass(frozen=True)
class _Settings:
    """A child run's settings, checked (``_settings``)."""

    backend: str
    devices: int
    data_dir: Path
    global_batch: int
    epochs: int
    seed: int
    learning_rate: float
    warmup_steps: int
    optimizer: str
    reverse_batches: bool = False


def _settings(
    backend,
    devices,
    data_dir,
    global_batch,
    epochs,
    seed,
    learning_rate,
    warmup_steps,
    optimizer,
    reverse_batches=False,
) -> _Settings:
    backend = _validate.choice("backend", backend, BACKENDS)
    devices = _validate.integer("devices", devices, minimum=1, maximum=MAX_DEVICES)
    global_batch = _validate.integer("global_batch", global_batch, minimum=1)
    if global_batch % devices:
        raise ValueError(
            f"global_batch must be a multiple of devices ({devices}), got {global_batch}: "
            "every replica takes an equal share of each batch, so that the mean of their mean "
            "gradients is the batch's mean gradient"
        )
    return _Settings(
        backend=backend,
        devices=devices,
        data_dir=_validate.path("data_dir", data_dir),
        global_batch=global_batch,
        epochs=_validate.integer("epochs", epochs, minimum=1),
        seed=_validate.integer("seed", seed, minimum=0, maximum=2**32 - 1),
        learning_rate=_validate.real("learning_rate", learning_rate, low=0, high=1, low_open=True),
        warmup_steps=_validate.integer("warmup_steps", warmup_steps, minimum=0),
        optimizer=_validate.choice("optimizer", optimizer, OPTIMIZERS),
        reverse_batches=_validate.flag("reverse_batches", reverse_batches),
    )


def _check_data(data_dir: Path) -> None:
    """Raise the data module's error (naming the folder and the fix) when ``data_dir`` holds
    no GTSRB with training and test images: before a child starts, not inside it."""
    from lrlab.data import list_images

    if not list_images(data_dir, "train") or not list_images(data_dir, "test"):
        raise ValueError(f"{data_dir} needs training and test images (GTSRB layout)")


def _arrays(data_dir: Path, seed: int):
    """``(x_train, y_train, x_val, y_val, x_test, y_test)`` as numpy arrays: the split of
    ``lrlab.data.load_gtsrb`` (by track where the file names carry tracks, seeded), decoded
    without TensorFlow so that a JAX child does not need it."""
    from lrlab.data import decode_images, list_images, split_train_validation

    records = list_images(data_dir, "train")
    test_records = list_images(data_dir, "test")
    tracks = [r.track for r in records]
    labels = np.array([r.label for r in records], dtype=np.int32)
    train, validation = split_train_validation(
        labels, VALIDATION_SPLIT, seed, None if None in tracks else tracks
    )
    if not len(train) or not len(validation) or not test_records:
        raise ValueError(f"{data_dir} needs training, validation and test images")
    images = decode_images(records, 32, False)
    test_images = decode_images(test_records, 32, False)
    test_labels = np.array([r.label for r in test_records], dtype=np.int32)
    return (
        images[train],
        labels[train],
        images[validation],
        labels[validation],
        test_images,
        test_labels,
    )


def _epoch_order(count: int, global_batch: int, seed: int, epoch: int, reverse: bool):
    """The example indices of one epoch: a permutation seeded by (seed, epoch), cut to whole
    global batches (every step has exactly ``global_batch`` examples), each batch reversed
    when ``reverse`` (the same batches, the same mean gradient, another order of the sums)."""
    order = np.random.default_rng([seed, epoch]).permutation(count)
    order = order[: count - count % global_batch].reshape(-1, global_batch)
    if reverse:
        order = order[:, ::-1]
    return order.reshape(-1)


def _flat_weights(model) -> np.ndarray:
    return np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in model.get_weights()])


def _predict_metrics(model, x, y, batch: int) -> tuple[float, float]:
    """Cross-entropy (float64) and accuracy of ``model`` on ``(x, y)``; the arrays are padded
    to whole batches (a data-parallel engine shards equal batches), the padding discarded."""
    padding = -len(x) % batch
    padded = np.concatenate([x, np.zeros((padding, *x.shape[1:]), x.dtype)]) if padding else x
    logits = np.asarray(model.predict(padded, batch_size=batch, verbose=0), np.float64)[: len(x)]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probabilities[np.arange(len(y)), y].mean()
    return float(loss), float((logits.argmax(axis=1) == y).mean())


def _rate(settings: _Settings):
    """The optimizer's rate: ``learning_rate``, or with ``warmup_steps`` W > 1 the linear
    warm-up ``learning_rate * min(step + 1, W) / W`` (Goyal et al. 2017), in global steps."""
    from lrlab.schedules import LinearRamp

    rate, warmup = settings.learning_rate, settings.warmup_steps
    return LinearRamp(rate / warmup, rate, warmup - 1) if warmup > 1 else rate


def _build(settings: _Settings):
    """The ConvNet compiled with the optimizer: the rate is the global batch's, warmed up
    linearly over ``warmup_steps`` global steps (rate x (step + 1) / warmup_steps)."""
    import keras

    from lrlab.models import build_convnet, compile_classifier

    rate = _rate(settings)
    if settings.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(rate, momentum=MOMENTUM)
    else:
        optimizer = keras.optimizers.Adam(rate)
    return compile_classifier(build_convnet(), optimizer)


def _engine(settings: _Settings):
    """``(context, replicas, engine name)``: the strategy scope (TensorFlow) or the
    distribution set (JAX) under which the model is built, for ``settings.devices``."""
    import contextlib

    if settings.devices == 1:
        return contextlib.nullcontext(), 1, "none"
    if settings.backend == "tensorflow":
        strategy = mirrored_strategy(settings.devices)
        return strategy.scope(), strategy.num_replicas_in_sync, ENGINES["tensorflow"]
    import keras

    devices = keras.distribution.list_devices("cpu")
    if len(devices) != settings.devices:
        raise RuntimeError(
            f"JAX sees {len(devices)} host devices, not {settings.devices}: start the child "
            "with child_environment('jax', devices)"
        )
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return contextlib.nullcontext(), len(devices), ENGINES["jax"]


def _train_all(settings: _Settings, reversed_too: bool) -> list:
    """The child's runs: ``settings``' run, then (``reversed_too``) the same with every batch
    reversed, in the same process (the engine is set up once, before any device is used).
    Returns ``[(record, weights), ...]``."""
    import keras

    if keras.backend.backend() != settings.backend:
        raise RuntimeError(
            f"Keras runs on {keras.backend.backend()!r}, not {settings.backend!r}: set "
            "KERAS_BACKEND before Keras is imported (child_environment)"
        )
    engine = _engine(settings)  # before anything else touches a device
    data = _arrays(settings.data_dir, settings.seed)
    runs = [settings, *([replace(settings, reverse_batches=True)] if reversed_too else [])]
    results = []
    for run in runs:
        keras.backend.clear_session()
        results.append(_train(run, engine, data))
    return results


def _train(settings: _Settings, engine, data) -> tuple[RunRecord, dict[str, np.ndarray]]:
    """One run: seeds, the ConvNet, ``epochs`` epochs of whole global batches, the metrics.

    ``engine`` is ``_engine``'s result, ``data`` ``_arrays``'. Returns the record and the
    flattened weights at three moments (``initial``, ``first_step``, ``final``). The body is
    one run's order of events, kept together so that every run follows the same sequence.
    """
    import random

    import keras

    context, replicas, engine_name = engine
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    # No tf.config.experimental.enable_op_determinism() here, unlike lrlab.notebook.setup:
    # these runs feed arrays (no parallel tf.data map) and repeat bit for bit without it
    # (measured, one and two replicas), while with it on, the MirroredStrategy run left the
    # single-device run from the first step of its second fit call on (lrlab 0.1, TF 2.21).
    keras.utils.set_random_seed(settings.seed)
    x, y, x_val, y_val, x_test, y_test = data
    steps_per_epoch = len(x) // settings.global_batch
    if steps_per_epoch < 1:
        raise ValueError(
            f"global_batch must be at most the {len(x)} training images, got "
            f"{settings.global_batch}"
        )
    with context:
        model = _build(settings)
    weights = {"initial": _flat_weights(model)}

    class FirstStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if "first_step" not in weights:
                getattr(self.model, "jax_state_sync", lambda: None)()  # JAX keeps state apart
                weights["first_step"] = _flat_weights(self.model)

    logs: dict[str, list[float]] = {"loss": [], "accuracy": []}
    started = time.perf_counter()
    for epoch in range(settings.epochs):
        order = _epoch_order(
            len(x), settings.global_batch, settings.seed, epoch, settings.reverse_batches
        )
        history = model.fit(
            x[order],
            y[order],
            batch_size=settings.global_batch,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[FirstStep()],
        )
        logs["loss"].append(float(history.history["loss"][0]))
        logs["accuracy"].append(float(history.history["accuracy"][0]))
        weights[f"epoch_{epoch + 1}"] = _flat_weights(model)
    seconds = time.perf_counter() - started
    val_loss, val_accuracy = _predict_metrics(model, x_val, y_val, settings.global_batch)
    _, test_accuracy = _predict_metrics(model, x_test, y_test, settings.global_batch)
    weights["final"] = _flat_weights(model)
    record = RunRecord(
        backend=settings.backend,
        engine=engine_name,
        replicas=replicas,
        reversed_batches=settings.reverse_batches,
        global_batch=settings.global_batch,
        steps_per_epoch=steps_per_epoch,
        optimizer_steps=int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        **{key: tuple(values) for key, values in logs.items()},
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        test_accuracy=test_accuracy,
        seconds=seconds,
    )
    return record, weights


_RECORD_FIELDS = tuple(RunRecord.__dataclass_fields__)


def _save(path: Path, runs: Sequence[tuple[RunRecord, dict[str, np.ndarray]]]) -> None:
    """Write the child's runs into one .npz (run k's fields under ``<k>/record/`` and
    ``<k>/weights/``), whole or not at all."""
    from lrlab.paths import atomic_file

    arrays = {}
    for index, (record, weights) in enumerate(runs):
        for name in _RECORD_FIELDS:
            arrays[f"{index}/record/{name}"] = np.asarray(getattr(record, name))
        for moment, values in weights.items():
            arrays[f"{index}/weights/{moment}"] = values
    with atomic_file(path, "wb") as stream:
        np.savez(stream, **arrays)


def _load(path: Path) -> list[tuple[RunRecord, dict[str, np.ndarray]]]:
    """The runs ``_save`` wrote, in order."""
    runs = []
    with np.load(path) as stored:
        for index in range(len({key.split("/")[0] for key in stored.files})):
            fields = {}
            for name in _RECORD_FIELDS:
                value = stored[f"{index}/record/{name}"]
                fields[name] = tuple(float(v) for v in value) if value.ndim else value.item()
            prefix = f"{index}/weights/"
            weights = {k[len(prefix) :]: stored[k] for k in stored.files if k.startswith(prefix)}
            runs.append((RunRecord(**fields), weights))
    return runs


# --------------------------------------------------------------------------- the comparison


def run_child(
    data_dir,
    devices: int = 1,
    *,
    backend: str = "tensorflow",
    global_batch: int = 64,
    epochs: int = 3,
    seed: int = 0,
    learning_rate: float = DEFAULT_RATE,
    warmup_steps: int = 0,
    optimizer: str = "sgd",
    reverse_batches: bool = False,
    timeout: float = 600,
) -> tuple[RunRecord, dict[str, np.ndarray]]:
    """Train once in a child process (``python -m lrlab.distributed``) and return its record
    and weights (``initial``, ``first_step``, ``final``, flattened, float64).

    ``devices`` 1 trains without any engine; more uses the backend's engine (``ENGINES``) with
    that many replicas. A child that fails raises RuntimeError with the end of its output.
    """
    settings = _settings(backend, devices, data_dir, global_batch, epochs, seed,
                         learning_rate, warmup_steps, optimizer, reverse_batches)
    timeout = _validate.real("timeout", timeout, low=0, low_open=True)
    _check_data(settings.data_dir)
    with tempfile.TemporaryDirectory(prefix="lrlab-distributed-") as folder:
        output = Path(folder) / "run.npz"
        _wait(_start(settings, output, reversed_too=False), settings, timeout)
        return _load(output)[0]


def _command(settings: _Settings, output: Path, reversed_too: bool) -> list[str]:
    """The command line of a child run (``python -m lrlab.distributed ...``)."""
    return [
        sys.executable,
        "-m",
        "lrlab.distributed",
        "--backend",
        settings.backend,
        "--devices",
        str(settings.devices),
        "--data-dir",
        str(Path(settings.data_dir).resolve()),
        "--global-batch",
        str(settings.global_batch),
        "--epochs",
        str(settings.epochs),
        "--seed",
        str(settings.seed),
        "--learning-rate",
        repr(settings.learning_rate),
        "--warmup-steps",
        str(settings.warmup_steps),
        "--optimizer",
        settings.optimizer,
        "--output",
        str(output),
        *(["--reverse-batches"] if settings.reverse_batches else []),
        *(["--also-reversed"] if reversed_too else []),
    ]


def _start(settings: _Settings, output: Path, reversed_too: bool) -> subprocess.Popen:
    return subprocess.Popen(
        _command(settings, output, reversed_too),
        env=child_environment(settings.backend, settings.devices),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(process: subprocess.Popen, settings: _Settings, timeout: float) -> None:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(
            f"the {settings.backend} run on {settings.devices} device(s) took longer than "
            f"{timeout:g} s and was stopped"
        ) from None
    if process.returncode:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise RuntimeError(
            f"the {settings.backend} run on {settings.devices} device(s) failed (exit status "
            f"{process.returncode}):\n{tail}"
        )


def _relative_update_difference(a: dict, b: dict) -> float:
    """``||u_a - u_b|| / ||u_b||`` with ``u = first_step - initial`` (all weights, flattened)."""
    update_a = a["first_step"] - a["initial"]
    update_b = b["first_step"] - b["initial"]
    scale = float(np.linalg.norm(update_b))
    if scale == 0:
        raise RuntimeError("the first step did not move the weights (a zero learning rate?)")
    return float(np.linalg.norm(update_a - update_b)) / scale


def _divergence(a: dict, b: dict, epochs: int) -> tuple[float, ...]:
    """Per epoch, ``||w_a - w_b|| / ||w_b - w_0||`` at the epoch's end (all weights)."""
    values = []
    for epoch in range(1, epochs + 1):
        moved = float(np.linalg.norm(b[f"epoch_{epoch}"] - b["initial"]))
        values.append(float(np.linalg.norm(a[f"epoch_{epoch}"] - b[f"epoch_{epoch}"])) / moved)
    return tuple(values)


@dataclass(frozen=True)
class Comparison:
    """``compare_with_single_device``'s result: three runs and their differences (module doc)."""

    backend: str
    devices: int
    epochs: int
    seed: int
    learning_rate: float
    warmup_steps: int
    optimizer: str
    single: RunRecord
    distributed: RunRecord
    reordered: RunRecord
    initial_difference: float
    first_step_difference: float
    first_step_floor: float
    divergence: tuple[float, ...]
    divergence_floor: tuple[float, ...]
    loss_difference: tuple[float, ...]
    loss_floor: tuple[float, ...]

    @property
    def divergence_scale(self) -> tuple[float, ...]:
        """Per epoch, the largest ``divergence_floor`` up to that epoch, at least
        ``FIRST_STEP_TOLERANCE``."""
        return tuple(
            max(FIRST_STEP_TOLERANCE, *self.divergence_floor[: epoch + 1])
            for epoch in range(len(self.divergence_floor))
        )

    @property
    def loss_scale(self) -> tuple[float, ...]:
        """Per epoch, the largest ``loss_floor`` up to that epoch, at least ``LOSS_RESOLUTION``."""
        return tuple(
            max(LOSS_RESOLUTION, *self.loss_floor[: epoch + 1])
            for epoch in range(len(self.loss_floor))
        )

    @property
    def loss_ratio(self) -> tuple[float, ...]:
        """Per epoch, ``loss_difference / loss_scale`` (``LOSS_RATIO_BOUND`` bounds it)."""
        return tuple(d / s for d, s in zip(self.loss_difference, self.loss_scale, strict=True))

    @property
    def divergence_ratio(self) -> tuple[float, ...]:
        """Per epoch, ``divergence / divergence_scale``: shown, not bounded (module docstring)."""
        return tuple(d / s for d, s in zip(self.divergence, self.divergence_scale, strict=True))

    def describe(self) -> str:
        """What was compared, in words that training cannot change (the same on every machine):
        engine, replicas, global and per-replica batch, steps, rate and warm-up."""
        run = self.distributed
        warmup = (
            f", warmed up linearly over {self.warmup_steps} global steps"
            if self.warmup_steps > 1
            else ""
        )
        return (
            f"{run.engine} ({self.backend}) on {run.replicas} replicas against one device: "
            f"global batch {run.global_batch} = {run.replicas} x {run.per_replica_batch} "
            f"per replica, {run.steps_per_epoch} global steps per epoch, {self.epochs} epochs "
            f"= {run.optimizer_steps} optimizer steps in both runs "
            f"(single-device run: {self.single.optimizer_steps}); {self.optimizer} at rate "
            f"{self.learning_rate:g} for the global batch{warmup}"
        )

    def table(self):
        """The per-epoch numbers of the three runs as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        rows = []
        for epoch in range(self.epochs):
            row = {"epoch": epoch + 1}
            for name in ("single", "distributed", "reordered"):
                run = getattr(self, name)
                row[f"{name} loss"] = run.loss[epoch]
            row["divergence"] = self.divergence[epoch]
            row["divergence floor"] = self.divergence_floor[epoch]
            rows.append(row)
        return pd.DataFrame(rows).set_index("epoch")


def compare_with_single_device(
    data_dir,
    devices: int = 2,
    global_batch: int = 64,
    epochs: int = 3,
    seed: int = 0,
    backend: str = "tensorflow",
    learning_rate: float = DEFAULT_RATE,
    warmup_steps: int = 0,
    optimizer: str = "sgd",
    timeout: float = 600,
) -> Comparison:
    """Train the ConvNet on ``devices`` replicas and on one device, same global batch and seed.

    Three runs in two child processes started together: ``single`` (no engine) and then
    ``reordered`` (one device, every batch reversed) in one, ``distributed``
    (``ENGINES[backend]`` over ``devices`` CPU devices) in the other. Every run sees the same
    split (``seed``), initial weights (``seed``) and batches (a permutation per epoch seeded
    by ``seed`` and the epoch, cut to whole global batches); ``learning_rate`` is the rate
    for the global batch, warmed up over ``warmup_steps`` global steps (0 or 1: none). See
    the module docstring for what the result holds. About 20-30 s on the tiny subset with
    the defaults, on 2 free cores.
    """
    settings = _settings(backend, devices, data_dir, global_batch, epochs, seed,
                         learning_rate, warmup_steps, optimizer)
    if settings.devices < 2:
        raise ValueError(f"devices must be at least 2 to compare with one device, got {devices}")
    timeout = _validate.real("timeout", timeout, low=0, low_open=True)
    _check_data(settings.data_dir)
    distributed_settings = settings
    single_settings = replace(settings, devices=1)
    with tempfile.TemporaryDirectory(prefix="lrlab-distributed-") as folder:
        single_file, distributed_file = Path(folder) / "single.npz", Path(folder) / "dist.npz"
        processes = [
            (_start(single_settings, single_file, reversed_too=True), single_settings),
            (_start(distributed_settings, distributed_file, reversed_too=False), settings),
        ]
        try:
            for process, run_settings in processes:
                _wait(process, run_settings, timeout)
        finally:
            for process, _ in processes:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        (single, single_w), (reordered, reordered_w) = _load(single_file)
        ((dist, dist_w),) = _load(distributed_file)
    return Comparison(
        backend=settings.backend,
        devices=settings.devices,
        epochs=settings.epochs,
        seed=settings.seed,
        learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup_steps,
        optimizer=settings.optimizer,
        single=single,
        distributed=dist,
        reordered=reordered,
        initial_difference=float(np.abs(dist_w["initial"] - single_w["initial"]).max()),
        first_step_difference=_relative_update_difference(dist_w, single_w),
        first_step_floor=_relative_update_difference(reordered_w, single_w),
        divergence=_divergence(dist_w, single_w, settings.epochs),
        divergence_floor=_divergence(reordered_w, single_w, settings.epochs),
        loss_difference=tuple(abs(d - s) for d, s in zip(dist.loss, single.loss, strict=True)),
        loss_floor=tuple(abs(r - s) for r, s in zip(reordered.loss, single.loss, strict=True)),
    )


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.distributed",
        description="One training run of the ConvNet, on one device or data-parallel over N "
        "CPU devices (MirroredStrategy on TensorFlow, DataParallel on JAX), saved as .npz. "
        "Set KERAS_BACKEND (and for JAX, XLA_FLAGS=--xla_force_host_platform_device_count=N) "
        "before it starts: lrlab.distributed.run_child does.",
    )
    parser.add_argument("--backend", default="tensorflow", help="tensorflow or jax")
    parser.add_argument("--devices", default="1", help="replicas (1: no engine)")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--global-batch", default="64")
    parser.add_argument("--epochs", default="3")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--learning-rate", default="0.02")
    parser.add_argument("--warmup-steps", default="0")
    parser.add_argument("--optimizer", default="sgd", help="sgd (momentum 0.9) or adam")
    parser.add_argument(
        "--reverse-batches", action="store_true", help="reverse the examples of every batch"
    )
    parser.add_argument(
        "--also-reversed",
        action="store_true",
        help="then train again, in the same process, with every batch reversed",
    )
    parser.add_argument("--output", required=True, help="the .npz file to write")
    return parser


def _number(parser, flag: str, text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        parser.error(f"{flag} must be {'an integer' if kind is int else 'a number'}, got {text!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """One child run from the command line; bad flags exit with status 2 and a message."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(
            args.backend,
            _number(parser, "--devices", args.devices, int),
            args.data_dir,
            _number(parser, "--global-batch", args.global_batch, int),
            _number(parser, "--epochs", args.epochs, int),
            _number(parser, "--seed", args.seed, int),
            _number(parser, "--learning-rate", args.learning_rate, float),
            _number(parser, "--warmup-steps", args.warmup_steps, int),
            args.optimizer,
            args.reverse_batches,
        )
    except ValueError as error:
        parser.error(str(error))
    if settings.backend == "jax" and "keras" not in sys.modules:
        # A JAX run needs no TensorFlow (the data are arrays); keras.utils.set_random_seed
        # would import it only to seed tf.random, a few seconds of start-up per child.
        sys.modules["tensorflow"] = None
    _save(Path(args.output), _train_all(settings, args.also_reversed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
