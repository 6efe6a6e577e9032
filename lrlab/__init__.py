"""lrlab: the helper package of the learning-rate lessons.

One module per idea (see README.md): ``schedules``, ``callbacks``, ``finder``,
``scratch``, ``data``, ``models``, ``plotting``, ``train``, ``checks``.

Importing ``lrlab`` sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0``
unless they are already set, so that TensorFlow, imported afterwards, starts
quietly and computes the same numbers on every run. Nothing else is imported
here: ``lrlab.scratch`` works without TensorFlow.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
