"""Record what PyTorch's schedulers really do, for tests/test_plateau.py and lessons 03 and 08.

Run with a Python that has lrlab and PyTorch (lrlab's torch extra; ``make unit BACKEND=torch``
installs it into .venv), from the repository root:

    .venv/bin/python tools/reference_torch_plateau.py

It runs ``lrlab.torch_live.record()`` and writes ``lrlab/reference/torch_plateau.json``
(package data of lrlab, read through ``lrlab.reference.load_reference``; the file is
replaced whole, never half-written) with

- ``plateau``: for each case, a metric sequence, the ``ReduceLROnPlateau`` arguments and
  ``get_last_lr()[0]`` after ``scheduler.step(metric)`` at the end of every epoch;
- ``step_lr``: ``StepLR`` stepped in the right and the wrong order around
  ``optimizer.step()``: the rate each epoch's ``optimizer.step()`` used, and what
  ``get_last_lr()`` and ``get_lr()`` report after each ``scheduler.step()``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from lrlab.torch_live import PLATEAU_CASES, record

TARGET = Path(__file__).resolve().parents[1] / "lrlab" / "reference" / "torch_plateau.json"


def main() -> None:
    reference = record()  # the functions lesson 08 runs on the torch backend
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    temporary = TARGET.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(reference, indent=1) + "\n")
    temporary.replace(TARGET)
    print(f"wrote {TARGET} (torch {torch.__version__}, {len(PLATEAU_CASES)} plateau cases)")


if __name__ == "__main__":
    main()
