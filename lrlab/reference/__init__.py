"""Reference values recorded from other libraries, shipped with lrlab as package data.

The lessons show them and the tests compare lrlab against them, both through
:func:`load_reference`, which reads the installed package's files with
``importlib.resources``: it works the same from a checkout, an editable install or a
wheel (on Colab), with no checkout around it.

- ``tfa_cyclical``: tensorflow-addons 0.23.0's cyclical schedules (``tools/reference_tfa.py``);
- ``torch_schedulers``: PyTorch 2.13's learning-rate schedulers (``tools/reference_torch.py``);
- ``torch_plateau``: PyTorch 2.13's ``ReduceLROnPlateau`` and ``StepLR`` stepping orders
  (``tools/reference_torch_plateau.py``).

Each file is ``lrlab/reference/<name>.json``; ``README.md`` beside them gives each
protocol and how to regenerate the file (never edit one by hand).
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["NAMES", "load_reference", "max_relative_error", "resource_path"]

#: The reference files lrlab ships, by name (the file is ``<name>.json``).
NAMES = ("tfa_cyclical", "torch_schedulers", "torch_plateau")


def _checked_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"a reference name must be a str, got {type(name).__name__} {name!r}; "
            f"choose one of {', '.join(NAMES)}"
        )
    stem = name.removesuffix(".json")
    if stem not in NAMES:
        raise ValueError(f"no reference named {name!r} in lrlab; choose one of {', '.join(NAMES)}")
    return stem


def resource_path(name: str) -> str:
    """The package resource that holds reference ``name``: ``lrlab/reference/<name>.json``.

    This is how lessons name the file (it is inside the installed package, not a path
    of a checkout). ``name`` may carry its ``.json`` suffix.
    """
    return f"lrlab/reference/{_checked_name(name)}.json"


def load_reference(name: str) -> dict:
    """The reference ``name`` (one of :data:`NAMES`, ``.json`` optional) as a dict.

    Raises ``TypeError`` for a name that is not a str, ``ValueError`` for an unknown
    name or a file that is not valid JSON, and ``FileNotFoundError`` when the installed
    lrlab lacks the file (a broken install: reinstall lrlab).
    """
    stem = _checked_name(name)
    resource = resources.files(__name__) / f"{stem}.json"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{resource_path(stem)} is missing from the installed lrlab ({resource}): "
            "the install is incomplete; reinstall lrlab (pip install --force-reinstall lrlab, "
            "or the git URL you installed it from)"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{resource_path(stem)} ({resource}) is not valid JSON: {error}; regenerate it "
            "with its tools/reference_*.py script (lrlab/reference/README.md)"
        ) from None


def max_relative_error(values, reference) -> float:
    """``max |values - reference| / |reference|`` over the elements, in float64, where an
    element whose reference is 0 counts its absolute difference (so a zero reference does
    not divide by 0). ``values`` and ``reference`` must have the same shape."""
    import numpy as np  # here, so that load_reference needs nothing beyond the standard library

    values = np.asarray(values, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if values.shape != reference.shape:
        raise ValueError(
            f"values and reference must have the same shape, got {values.shape} and "
            f"{reference.shape}"
        )
    scale = np.where(reference == 0, 1.0, np.abs(reference))
    return float(np.max(np.abs(values - reference) / scale))
