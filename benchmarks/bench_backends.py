"""The lessons' ConvNet trained under each Keras backend installed here, side by side.

    python benchmarks/bench_backends.py [--epochs 3] [--repeats 3] [--batch 64]

For every backend of ``BACKENDS`` that can be imported (``tensorflow`` and ``jax`` with the
``test`` extra; ``torch`` when installed), a child process with ``KERAS_BACKEND`` set trains
``lrlab.models.build_convnet`` with SGD (momentum 0.9) on the tiny GTSRB training split, as
NumPy arrays (the same images for every backend), at batch ``--batch``: once with a constant
rate and once with ``lrlab.schedules.OneCycle`` as the rate, the schedule evaluated
inside the compiled step. Each child warms up with one epoch (tracing, compilation), then
times ``--epochs`` epochs ``--repeats`` times, the constant and the scheduled fit taking
turns. Printed per backend: images per second (median of the repeats) with the constant
rate and with the schedule, and their ratio (the schedule's cost inside the step).

Every backend uses this machine's cores as it does by default (the lessons' setting); the
machine line says how many there are and how loaded they were. A child process per backend,
because Keras fixes its backend when it is first imported. Prints measured figures only;
asserts nothing. A backend that is not installed is listed as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys

BACKENDS = ("tensorflow", "jax", "torch")

CHILD = r"""
import json, sys, time
settings = json.loads(sys.argv[1])
import numpy as np
import keras
from lrlab.data import load_gtsrb
from lrlab.models import build_convnet, compile_classifier
from lrlab.schedules import OneCycle

data = load_gtsrb(batch_size=256, seed=0)
images = np.concatenate([np.asarray(x) for x, _ in data.train])
labels = np.concatenate([np.asarray(y) for _, y in data.train])
batch, epochs = settings["batch"], settings["epochs"]
steps = -(-len(labels) // batch)


def model_with(rate):
    keras.utils.set_random_seed(0)
    return compile_classifier(build_convnet(), keras.optimizers.SGD(rate, momentum=0.9))


models = {
    "constant": model_with(0.01),
    "schedule": model_with(OneCycle(0.01, steps * (1 + epochs * settings["repeats"]))),
}
for model in models.values():  # tracing and compilation, not timed
    model.fit(images, labels, batch_size=batch, epochs=1, shuffle=False, verbose=0)
seconds = {name: [] for name in models}
for _ in range(settings["repeats"]):
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(images, labels, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
        seconds[name].append(time.perf_counter() - started)
print(json.dumps({"backend": keras.backend.backend(), "images": len(labels) * epochs,
                  "seconds": seconds}))
"""


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def run_backend(backend: str, settings: dict) -> dict:
    """One child process under ``KERAS_BACKEND=backend``: its JSON line, parsed."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{backend}: the child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits of each kind")
    parser.add_argument("--batch", type=int, default=64, help="batch size")
    args = parser.parse_args(argv)
    if min(args.epochs, args.repeats, args.batch) < 1:
        parser.error("--epochs, --repeats and --batch must be at least 1")
    settings = {"epochs": args.epochs, "repeats": args.repeats, "batch": args.batch}
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs; load average (1, 5, 15 min) before: {load}")
    print(f"the ConvNet, SGD + momentum, tiny GTSRB training split as arrays, batch {args.batch}, "
          f"{args.epochs} epochs per fit, median of {args.repeats} fits")
    print(f"{'backend':<11} {'images/s, constant':>19} {'images/s, schedule':>19} "
          f"{'schedule / constant time':>25}")
    for backend in BACKENDS:
        if not installed(backend):
            print(f"{backend:<11} skipped: not installed (pip install {backend})")
            continue
        result = run_backend(backend, settings)
        constant = statistics.median(result["seconds"]["constant"])
        scheduled = statistics.median(result["seconds"]["schedule"])
        print(f"{backend:<11} {result['images'] / constant:19.0f} "
              f"{result['images'] / scheduled:19.0f} {scheduled / constant:25.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
