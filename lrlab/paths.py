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


# The default data folder, relative to the project root.
DEFAULT_DATA_FOLDER = Path("data") / "gtsrb-tiny"
DATA_DIR_VARIABLE = "LRLAB_DATA_DIR"


def default_data_choice() -> tuple[Path, str]:
    """The data folder and the rule that chose it: ``(folder, "LRLAB_DATA_DIR")`` when that
    variable is set (not empty), else ``(<project root>/data/gtsrb-tiny, "default")``."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    if chosen:
        return Path(chosen), DATA_DIR_VARIABLE
    return project_root() / DEFAULT_DATA_FOLDER, "default"


def default_data_dir() -> Path:
    """``$LRLAB_DATA_DIR`` if set, else ``<project root>/data/gtsrb-tiny``.

    ``lrlab.data.find_gtsrb()`` resolves the same folder and fetches the tiny subset into
    it when it is missing.
    """
    return default_data_choice()[0]
