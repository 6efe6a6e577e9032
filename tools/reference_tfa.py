"""Record the learning rates of tensorflow-addons' cyclical schedules, for tests/test_schedules.py.

tensorflow-addons 0.23.0 is end-of-life and imports only beside TensorFlow <= 2.15 on
Python <= 3.11, so this script runs in a side environment, from the repository root:

    python3.11 -m venv /work/side/tfa
    /work/side/tfa/bin/pip install tensorflow-cpu==2.15.1 tensorflow-addons==0.23.0
    /work/side/tfa/bin/python tools/reference_tfa.py

It writes ``lrlab/reference/tfa_cyclical.json`` (package data of lrlab, read through
``lrlab.reference.load_reference``; the file is replaced whole, never half-written): the
TensorFlow and tensorflow-addons versions, and for each case the TFA class, its keyword
arguments (a custom ``scale_fn`` by name and source), the steps, how the step was passed,
and the rates in float64
(every argument given as ``np.float64``) and in float32 (plain Python floats, which TF
converts to float32, as the original tour did).

Protocol: the schedule is called eagerly, one step at a time, at steps 0 .. n-1.
- ``scale_mode="cycle"``: the step is an ``int64`` tensor, as ``model.fit`` passes it.
- ``scale_mode="iterations"``: TFA hands the raw step to ``scale_fn``; with an integer
  step ``gamma ** step`` (and ``2.0 ** (step - 1)``) fails, which is why
  ``ExponentialCyclicalLearningRate`` breaks inside ``fit``. The step is therefore passed
  as a float tensor of the schedule's dtype. The error TFA raises for an ``int64`` step is
  recorded under ``integer_step_error``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")  # TFA's end-of-life notice

import tensorflow as tf  # noqa: E402
import tensorflow_addons as tfa  # noqa: E402

TARGET = Path(__file__).resolve().parents[1] / "lrlab" / "reference" / "tfa_cyclical.json"


def harmonic_per_cycle(x):
    """A custom scale_fn for scale_mode="cycle": the amplitude of cycle c is 1 / c."""
    return 1.0 / x


def slow_decay_per_iteration(x):
    """A custom scale_fn for scale_mode="iterations": 1 / (1 + step / 50)."""
    return 1.0 / (1.0 + x / 50.0)


CUSTOM_SCALE_FUNCTIONS = {
    "harmonic_per_cycle": (harmonic_per_cycle, "lambda x: 1.0 / x"),
    "slow_decay_per_iteration": (slow_decay_per_iteration, "lambda x: 1.0 / (1.0 + x / 50.0)"),
    "constant": (lambda x: 1.0, "lambda x: 1.0"),
}

# name, TFA class, keyword arguments (learning rates and gamma become np.float64 or float), steps
CASES = [
    ("triangular", "TriangularCyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 10}, 81),
    ("triangular_iterations", "TriangularCyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 10,
      "scale_mode": "iterations"}, 61),
    ("triangular2", "Triangular2CyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 10}, 81),
    ("triangular2_iterations", "Triangular2CyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 4,
      "scale_mode": "iterations"}, 25),
    ("exp_range_iterations", "ExponentialCyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 10,
      "gamma": 0.98, "scale_mode": "iterations"}, 81),
    ("exp_range_cycle", "ExponentialCyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 10,
      "gamma": 0.7, "scale_mode": "cycle"}, 81),
    ("custom_cycle", "CyclicalLearningRate",
     {"initial_learning_rate": 1e-4, "maximal_learning_rate": 1e-1, "step_size": 8,
      "scale_fn": "harmonic_per_cycle", "scale_mode": "cycle"}, 65),
    ("custom_iterations", "CyclicalLearningRate",
     {"initial_learning_rate": 1e-4, "maximal_learning_rate": 1e-1, "step_size": 8,
      "scale_fn": "slow_decay_per_iteration", "scale_mode": "iterations"}, 65),
    # The two examples of the original Keras-schedules tour.
    ("tour_constant_cycle", "CyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 25,
      "scale_fn": "constant", "scale_mode": "cycle"}, 201),
    ("tour_exponential", "ExponentialCyclicalLearningRate",
     {"initial_learning_rate": 1e-3, "maximal_learning_rate": 1e-2, "step_size": 5,
      "gamma": 0.8, "scale_mode": "iterations"}, 41),
]

FLOAT_ARGUMENTS = ("initial_learning_rate", "maximal_learning_rate", "gamma")


def build(class_name, arguments, as_float64):
    arguments = dict(arguments)
    for key in FLOAT_ARGUMENTS:
        if key in arguments:
            arguments[key] = np.float64(arguments[key]) if as_float64 else float(arguments[key])
    if "scale_fn" in arguments:
        arguments["scale_fn"] = CUSTOM_SCALE_FUNCTIONS[arguments["scale_fn"]][0]
    return getattr(tfa.optimizers, class_name)(**arguments)


def rates(schedule, steps, scale_mode, dtype):
    values = []
    for step in range(steps):
        if scale_mode == "cycle":
            step_tensor = tf.constant(step, dtype=tf.int64)
        else:
            step_tensor = tf.constant(step, dtype=dtype)
        value = schedule(step_tensor)
        if value.dtype != dtype:
            raise RuntimeError(f"expected a {dtype} rate, got {value.dtype}")
        values.append(float(value.numpy()))
    return values


def integer_step_error(schedule):
    try:
        schedule(tf.constant(3, dtype=tf.int64))
    except Exception as error:  # the failure this script documents
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


def main():
    cases = []
    for name, class_name, arguments, steps in CASES:
        default_mode = "iterations" if class_name == "ExponentialCyclicalLearningRate" else "cycle"
        scale_mode = arguments.get("scale_mode", default_mode)
        case = {
            "name": name,
            "class": class_name,
            "arguments": arguments,
            "scale_mode": scale_mode,
            "step_input": "int64" if scale_mode == "cycle" else "float of the schedule's dtype",
            "steps": list(range(steps)),
            "float64": rates(build(class_name, arguments, True), steps, scale_mode, tf.float64),
            "float32": rates(build(class_name, arguments, False), steps, scale_mode, tf.float32),
        }
        if "scale_fn" in arguments:
            case["scale_fn_source"] = CUSTOM_SCALE_FUNCTIONS[arguments["scale_fn"]][1]
        if scale_mode == "iterations":
            case["integer_step_error"] = integer_step_error(build(class_name, arguments, False))
        cases.append(case)
    document = {
        "produced_by": "tools/reference_tfa.py",
        "tensorflow": tf.__version__,
        "tensorflow_addons": tfa.__version__,
        "protocol": (
            "schedule called eagerly at steps 0..n-1; int64 step for scale_mode='cycle', "
            "float step of the schedule's dtype for scale_mode='iterations' (an int64 step "
            "fails there: see integer_step_error); float64 = np.float64 arguments, "
            "float32 = Python float arguments"
        ),
        "cases": cases,
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    temporary = TARGET.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    temporary.replace(TARGET)
    print(f"wrote {TARGET} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
