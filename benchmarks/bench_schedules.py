"""What lrlab's schedules cost: training overhead against a constant rate, and vectorised curves.

Run by ``make bench`` (or ``python benchmarks/bench_schedules.py`` with lrlab importable).
It prints measured ratios and asserts nothing:

1. ``model.fit`` of the course's ConvNet (``lrlab.models.build_convnet`` +
   ``compile_classifier``, SGD with momentum 0.9) on the same data, with a constant float
   rate and with each lrlab schedule. Every model is warmed up by one epoch (tracing,
   filling the data cache), then the runs alternate, in a rotating order, for
   ``--repeats`` rounds of ``--epochs`` epochs; the ratio is the median time of a schedule
   over the median time of the constant rate, in wall-clock time and in CPU time of this
   process (all its threads; steadier on a shared machine). Goal: at most 1.05. One more
   run adds the ``OneCycleMomentum`` callback to ``OneCycle``. On a busy machine these
   ratios scatter by several per cent, so the script also measures the schedule alone:
   the CPU time of evaluating it at ``optimizer.iterations`` inside a ``tf.function``
   (what each training step adds), minus that of a constant, as a share of the CPU time
   of one constant-rate training step.
2. A 100,000-step curve evaluated in one vectorised call against a Python loop of scalar
   calls; the loop is timed over its first ``--loop-steps`` steps and scaled to 100,000.

The data is the real tiny GTSRB subset when ``lrlab.data.load_gtsrb()`` can read it,
else 688 random 32x32x3 images with random labels (the size of the subset's training part).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lrlab import notebook
from lrlab.data import NUM_CLASSES
from lrlab.models import build_convnet, compile_classifier

GOAL = 1.05
CURVE_STEPS = 100_000


def training_data(batch_size):
    """(dataset, steps per epoch, description): the tiny GTSRB subset, else random images."""
    import tensorflow as tf

    try:
        from lrlab.data import load_gtsrb

        data = load_gtsrb(batch_size=batch_size)
        return data.train, -(-data.num_train // batch_size), data.summary()
    except Exception as error:  # no data module or no data on disk: time on random images
        rng = np.random.default_rng(0)
        images = rng.random((688, 32, 32, 3), dtype=np.float32)
        labels = rng.integers(0, NUM_CLASSES, size=688).astype(np.int32)
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).cache().batch(batch_size)
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:120]
        return dataset, -(-688 // batch_size), f"688 random images (GTSRB not loaded: {reason})"


def lrlab_schedules(total_steps):
    """One of each lrlab schedule, spread over ``total_steps`` training steps."""
    import keras

    from lrlab import schedules as s

    quarter = max(total_steps // 4, 1)
    return {
        "CyclicalLearningRate": s.CyclicalLearningRate(
            1e-3, 1e-2, quarter, scale_fn=keras.ops.reciprocal
        ),
        "TriangularCyclicalLearningRate": s.TriangularCyclicalLearningRate(1e-3, 1e-2, quarter),
        "Triangular2CyclicalLearningRate": s.Triangular2CyclicalLearningRate(1e-3, 1e-2, quarter),
        "ExponentialCyclicalLearningRate": s.ExponentialCyclicalLearningRate(
            1e-3, 1e-2, quarter, gamma=0.999
        ),
        "LinearCosineDecay": s.LinearCosineDecay(1e-2, total_steps, num_periods=2),
        "NoisyLinearCosineDecay": s.NoisyLinearCosineDecay(
            1e-2, total_steps, initial_variance=0.01, seed=0
        ),
        "StepDecay": s.StepDecay(1e-2, 0.5, quarter),
        "RampSustainDecay": s.RampSustainDecay(
            ramp_steps=quarter, sustain_steps=quarter, decay_every_steps=quarter
        ),
        "OneCycle": s.OneCycle(1e-2, total_steps),
        "WarmupStableDecay": s.WarmupStableDecay(
            1e-2, quarter, 2 * quarter, quarter, decay_shape="sqrt"
        ),
        "LinearRamp": s.LinearRamp(1e-4, 1e-2, quarter),
        "ChainedSchedule": s.ChainedSchedule(
            [
                s.LinearRamp(1e-4, 1e-2, quarter),
                keras.optimizers.schedules.CosineDecay(1e-2, total_steps - quarter),
            ],
            [quarter],
        ),
    }


def _verdict(ratio):
    return f"{'meets' if ratio <= GOAL else 'misses'} the goal <= {GOAL:.2f}"


def bench_training(repeats, epochs, batch_size):
    import keras

    from lrlab.callbacks import OneCycleMomentum

    dataset, steps_per_epoch, description = training_data(batch_size)
    total_steps = steps_per_epoch * epochs * (repeats + 1)
    rates = {"constant 0.01": 0.01, **lrlab_schedules(total_steps)}
    momentum_label = "OneCycle + OneCycleMomentum"
    rates[momentum_label] = rates["OneCycle"]
    callbacks = {momentum_label: [OneCycleMomentum(rates["OneCycle"])]}
    print(f"(1) fit overhead: {description}")
    print(
        f"    ConvNet, SGD(momentum=0.9), batch {batch_size}, {steps_per_epoch} steps per epoch; "
        f"median of {repeats} alternating runs of {epochs} epoch(s) after one warm-up epoch"
    )
    models = {}
    for label, rate in rates.items():
        notebook.setup(seed=0)
        model = build_convnet()
        compile_classifier(model, keras.optimizers.SGD(learning_rate=rate, momentum=0.9))
        model.fit(dataset, epochs=1, verbose=0, callbacks=callbacks.get(label))  # warm-up
        models[label] = model
    labels = list(models)
    wall = {label: [] for label in labels}
    cpu = {label: [] for label in labels}
    for round_index in range(repeats):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            models[label].fit(dataset, epochs=epochs, verbose=0, callbacks=callbacks.get(label))
            cpu[label].append(time.process_time() - cpu_start)
            wall[label].append(time.perf_counter() - wall_start)
    wall_baseline = statistics.median(wall["constant 0.01"])
    cpu_baseline = statistics.median(cpu["constant 0.01"])
    print(
        f"    {'constant 0.01':34s} wall {wall_baseline:6.3f} s  cpu {cpu_baseline:6.3f} s"
        "  (the reference)"
    )
    for label in labels[1:]:
        wall_ratio = statistics.median(wall[label]) / wall_baseline
        cpu_ratio = statistics.median(cpu[label]) / cpu_baseline
        print(
            f"    {label:34s} wall ratio {wall_ratio:5.3f} ({_verdict(wall_ratio)})  "
            f"cpu ratio {cpu_ratio:5.3f} ({_verdict(cpu_ratio)})"
        )
    return cpu_baseline / (epochs * steps_per_epoch)


def bench_schedule_alone(step_cpu_seconds, calls=3_000):
    """CPU time each training step spends on the schedule: the graph evaluation at the step."""
    import tensorflow as tf

    iterations = tf.Variable(0, dtype=tf.int64)

    def cpu_microseconds(function):
        function()  # trace
        start = time.process_time()
        for _ in range(calls):
            function()
        return (time.process_time() - start) / calls * 1e6

    constant = cpu_microseconds(tf.function(lambda: tf.cast(iterations, tf.float32) * 0 + 0.01))
    print(
        f"(1b) the schedule alone inside a tf.function, CPU time per evaluation minus that of a "
        f"constant ({constant:.0f} us), as a share of one training step "
        f"({step_cpu_seconds * 1e3:.1f} ms CPU)"
    )
    for label, schedule in lrlab_schedules(10_000).items():
        extra = cpu_microseconds(tf.function(lambda s=schedule: s(iterations))) - constant
        share = extra / (step_cpu_seconds * 1e6)
        print(f"    {label:34s} +{extra:6.0f} us  = {share:6.2%} of a step")


def bench_curves(loop_steps):
    import keras

    print(
        f"(2) a {CURVE_STEPS:,}-step curve: one vectorised call vs a Python loop of scalar calls "
        f"(loop timed over {loop_steps:,} steps, scaled by {CURVE_STEPS / loop_steps:g})"
    )
    steps = np.arange(CURVE_STEPS)
    for label, schedule in lrlab_schedules(CURVE_STEPS).items():
        keras.ops.convert_to_numpy(schedule(steps))  # warm-up
        start = time.perf_counter()
        keras.ops.convert_to_numpy(schedule(steps))
        vectorised = time.perf_counter() - start
        start = time.perf_counter()
        for step in range(loop_steps):
            float(keras.ops.convert_to_numpy(schedule(step)))
        looped = (time.perf_counter() - start) * CURVE_STEPS / loop_steps
        print(
            f"    {label:34s} vectorised {vectorised * 1e3:8.2f} ms  loop ~{looped:7.1f} s  "
            f"ratio loop/vectorised ~{looped / vectorised:8.0f}x"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="alternating timed rounds")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--loop-steps", type=int, default=2_000, help="scalar calls timed")
    args = parser.parse_args(argv)
    for name in ("repeats", "epochs", "batch_size", "loop_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start "
        "(a load above the CPU count makes wall-clock ratios scatter; CPU time is steadier)"
    )
    step_cpu_seconds = bench_training(args.repeats, args.epochs, args.batch_size)
    bench_schedule_alone(step_cpu_seconds)
    bench_curves(args.loop_steps)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
