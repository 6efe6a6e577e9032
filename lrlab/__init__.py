"""lrlab: the helper package of the learning-rate lessons.

One module per idea, in the order the lessons meet them:

- ``schedules``: Keras 3 learning-rate schedules that Keras lacks (cyclical, one-cycle,
  warmup-stable-decay, ...); ``torch_equivalents``: PyTorch's schedulers and their Keras or
  lrlab equivalents, as one table; ``torch_live``: PyTorch's ``ReduceLROnPlateau`` and
  ``StepLR`` run for real where PyTorch is installed (the recorded values' source);
- ``callbacks``: the Keras callbacks of the lessons (rate logger, one-cycle momentum);
- ``plateau``: Keras's and PyTorch's reduce-on-plateau rules as pure functions;
- ``scratch``: the optimisers written by hand in NumPy (SGD to AdamW) and their training loop;
- ``finder``: the learning-rate range test (``find_lr``), in Keras and in NumPy;
- ``data`` (a package): GTSRB, found, read, split by track and served as ``tf.data``, and
  fetched (``python -m lrlab.data fetch``);
- ``models``: the lessons' ConvNet; ``recipes``: the named schedule recipes of the
  shoot-out; ``train``: one run of a recipe, and ``python -m lrlab.train``;
- ``branching``: warmup-stable-decay branched, one constant-rate trunk cooled down at any step;
- ``batch_size``: the batch-size rules (linear, square root), warm-up and the gradient noise
  scale; ``distributed``: data parallelism for real (``tf.distribute.MirroredStrategy``,
  ``keras.distribution.DataParallel``) compared with one device;
- ``gradients``: the gradient of a scalar function of an array on any Keras backend;
- ``compare``: tables and paired verdicts of runs repeated over seeds;
- ``claims``: a lesson's conclusion checked against measured numbers;
- ``checks``: the exercises' checks, lesson by lesson;
- ``plotting``, ``notebook`` (``setup``, ``show_source``), ``paths`` (folders,
  ``atomic_file``), ``reference`` (reference values recorded from other libraries);
- ``_validate``: the one set of argument checks (TypeError for a wrong kind, ValueError for
  a bad value).

Importing ``lrlab`` sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0``
unless they are already set, so that TensorFlow, imported afterwards, starts
quietly and computes the same numbers on every run. It also turns on JAX's 64-bit
mode (``JAX_ENABLE_X64=1`` unless set; ``jax.config.update("jax_enable_x64", True)`` if
JAX is already imported): this is the one place lrlab does it. Without it JAX stores every
float64 array as float32, and a schedule given float64 arguments (as the parity tests and
lessons 02-04 give) could not compute in float64 on the JAX backend. Models are not
affected: Keras builds their weights in ``keras.config.floatx()`` (float32) either way.
Nothing else is imported here: ``lrlab.scratch`` works without TensorFlow.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("JAX_ENABLE_X64", "1")
if "jax" in sys.modules and os.environ["JAX_ENABLE_X64"] not in ("0", "false", "False"):
    sys.modules["jax"].config.update("jax_enable_x64", True)

__version__ = "0.1.0"
