"""Wall time of ``lrlab.finder.find_lr`` against a plain ``model.fit`` over the same batches.

    python benchmarks/bench_finder.py [--epochs 5] [--repeats 5] [--cores 2] [--backend NAME]

The lessons' ConvNet (``build_convnet``, SGD with momentum 0.9) on the tiny GTSRB
training split (``load_gtsrb()``): a plain ``model.fit(train, epochs=E)`` runs
E * (batches per epoch) = N batches; ``find_lr`` runs N steps of one batch each, with
a ramp from 1e-4 to 1e-2 and early stopping off, so both train exactly N batches.
Both are warmed up once (tracing), then timed in turns, ``--repeats`` times each;
the ratio of the median wall times is printed (goal: find_lr / fit <= 1.15), with
the ratio of the fastest runs, and the same for the CPU time of this process, which
other work on a shared machine disturbs less. Prints measured figures only; asserts nothing.

Without ``--backend`` the measurement runs once per Keras backend installed here
(TensorFlow, JAX, PyTorch), each in a child process with ``KERAS_BACKEND`` set (Keras fixes
its backend when it is first imported); a backend that is not installed is listed as skipped.
``--cores`` limits TensorFlow's threads, which run the data pipeline on every backend.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

from bench_pipeline import limit_threads, machine_line

BACKENDS = ("tensorflow", "jax", "torch")

START_LR, END_LR = 1e-4, 1e-2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the plain fit (N batches)")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs of each")
    parser.add_argument("--cores", type=int, default=2, help="TensorFlow threads (default 2)")
    parser.add_argument("--backend", choices=BACKENDS, help="one Keras backend (default: each)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    if args.backend is None:
        return each_backend(args)

    os.environ["KERAS_BACKEND"] = args.backend
    import lrlab  # noqa: F401  (quiet TensorFlow start-up)

    limit_threads(args.cores)
    import keras

    print(f"== Keras backend {keras.backend.backend()}")

    from lrlab.data import load_gtsrb
    from lrlab.finder import find_lr
    from lrlab.models import build_convnet, compile_classifier

    data = load_gtsrb()
    print(data.summary())
    print(machine_line(args.cores))
    batches_per_epoch = sum(1 for _ in data.train)
    num_batches = args.epochs * batches_per_epoch

    keras.utils.set_random_seed(0)
    model = compile_classifier(build_convnet(), keras.optimizers.SGD(1e-3, momentum=0.9))

    def plain_fit():
        model.fit(data.train, epochs=args.epochs, shuffle=False, verbose=0)

    def range_test():
        result = find_lr(model, data.train, START_LR, END_LR, num_batches, stop_factor=None)
        if result.learning_rates.size != num_batches:
            raise RuntimeError(f"find_lr ran {result.learning_rates.size} of {num_batches} steps")

    runs = {"fit": plain_fit, "find_lr": range_test}
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for run in runs.values():  # warm-up: tracing, caches
        run()
    for _ in range(args.repeats):
        for name, run in runs.items():
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - wall_start)
            cpu[name].append(time.process_time() - cpu_start)

    print(
        f"{num_batches} batches ({args.epochs} epochs of {batches_per_epoch}), "
        f"median of {args.repeats} runs each, taken in turns:"
    )
    for label, seconds in (("wall", wall), ("CPU", cpu)):
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        for name, values in seconds.items():
            runs_text = " ".join(f"{value:.3f}" for value in values)
            print(f"  {label:<4} {name:<8} median {medians[name]:.3f} s   ({runs_text})")
        overhead_ms = 1e3 * (medians["find_lr"] - medians["fit"]) / num_batches
        fastest = min(seconds["find_lr"]) / min(seconds["fit"])
        print(
            f"  {label} time find_lr / fit = {medians['find_lr'] / medians['fit']:.3f} (medians"
            f"{', goal <= 1.15' if label == 'wall' else ''}), {fastest:.3f} (fastest runs); "
            f"{overhead_ms:+.2f} ms per batch"
        )
    return 0


def each_backend(args) -> int:
    """This script once per installed backend, each in its own process; 1 if one fails."""
    failed = False
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:
            print(f"== Keras backend {backend}: skipped, not installed (pip install {backend})")
            continue
        command = [sys.executable, __file__, "--backend", backend, "--epochs", str(args.epochs),
                   "--repeats", str(args.repeats), "--cores", str(args.cores)]
        sys.stdout.flush()
        failed |= subprocess.run(command, check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
