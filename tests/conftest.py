"""Test-wide settings, applied before any test module imports TensorFlow.

The same defaults as ``import lrlab`` (and the Makefile): quiet start-up, and oneDNN's
custom kernels off, so that ``pytest tests`` run by hand computes what ``make test``
computes (with oneDNN on, for instance, a ReLU maps NaN to 0).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
