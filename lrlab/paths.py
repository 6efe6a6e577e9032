"""Where a lesson finds its data and puts its figures.

The project root is the nearest folder, from the working directory upwards,
that holds both ``pyproject.toml`` and ``notebooks/`` (a checkout of this
repository). Outside a checkout (Colab, a learner's own folder) the working
directory stands in for it.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout this code runs in, else the working directory."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def figures_dir() -> Path:
    """``$LRLAB_FIGURES_DIR`` if set, else ``<project root>/figures``."""
    return Path(os.environ.get("LRLAB_FIGURES_DIR") or project_root() / "figures")


def default_data_dir() -> Path:
    """``$LRLAB_DATA_DIR`` if set, else ``<project root>/data/gtsrb-tiny`` (``make data``)."""
    return Path(os.environ.get("LRLAB_DATA_DIR") or project_root() / "data" / "gtsrb-tiny")
